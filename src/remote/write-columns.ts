import { decodeMetadata, type MetricMetadata } from './prompb';
import { hashBytes } from './label-bytes-cache';
import { ProtobufError, ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf';

/**
 * A (decompressed) prometheus.WriteRequest decoded for storing, without an object per sample or per
 * label: every series with samples is known by its key, the raw bytes of its Label fields (equal bytes
 * are equal label sets, so a cache keyed by them finds a series Prometheus sends again without decoding
 * its labels: LabelBytesCache), and its samples sit in two columns. A series seen for
 * the first time is decoded in full from `ranges` (prompb's decodeTimeSeries). Pure, no I/O.
 */
export interface WriteColumns {
  readonly buf: Buffer;
  /** Series with samples. */
  readonly series: number;
  /** Per series: its key is keySource(i)[keyStart[i], keyEnd[i]), with the hash keyHash[i]. */
  readonly keyStart: number[];
  readonly keyEnd: number[];
  readonly keyHash: number[];
  /** Keys of series whose Label fields are not contiguous (rare): their fields joined, by series. */
  readonly joinedKeys: ReadonlyMap<number, Buffer>;
  /** Per series: start and end of its TimeSeries message in `buf` (2 numbers per series). */
  readonly ranges: number[];
  /** Per series: index of its first sample in `times`/`values`; one more entry for the end. */
  readonly first: number[];
  readonly times: Float64Array;
  readonly values: Float64Array;
  readonly samples: number;
  /** Native histogram samples and exemplars: counted, not stored. */
  readonly histograms: number;
  readonly exemplars: number;
  readonly metadata: MetricMetadata[];
}

const ZERO = Buffer.alloc(1);

/** The buffer holding series i's key (see WriteColumns.keyStart). */
export function keySource(c: WriteColumns, i: number): Buffer {
  return c.joinedKeys.get(i) ?? c.buf;
}

/**
 * Decodes like decodeWriteRequest into columns, with the same ProtobufError for the same malformed input,
 * except inside Label messages, which are only delimited here: the receiver decodes a series' labels
 * in full when it first sees the series, and refuses the request then (InvalidWriteError).
 */
export function decodeWriteColumns(buf: Buffer): WriteColumns {
  const r = new ProtoReader(buf);
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  const keyHash: number[] = [];
  const joinedKeys = new Map<number, Buffer>();
  const ranges: number[] = [];
  const first: number[] = [];
  // Room for one sample per 128 bytes (Prometheus sends one sample and about 200 bytes of labels per
  // series), grown by doubling: far less garbage per request than a bound for the densest encoding.
  let times = new Float64Array(Math.max(64, buf.length >> 7));
  let values = new Float64Array(times.length);
  let n = 0;
  let histograms = 0;
  let exemplars = 0;
  const metadata: MetricMetadata[] = [];
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtobufError('field number 0');
    if (field === 3) {
      r.expect(wire, WIRE_LEN, 'WriteRequest.metadata');
      metadata.push(decodeMetadata(r.message()));
      continue;
    }
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    r.expect(wire, WIRE_LEN, 'WriteRequest.timeseries');
    const len = r.varint();
    const start = r.pos;
    const end = start + len;
    if (end > buf.length) throw new ProtobufError('length-delimited field runs past its message');
    const s = new ProtoReader(buf, start, end);
    const before = n;
    // The labels' bytes: one contiguous run (Prometheus writes them first), else their fields joined.
    let labelsStart = -1;
    let labelsEnd = -1;
    let parts: Buffer[] | undefined;
    while (!s.done) {
      const fieldStart = s.pos;
      const t = s.varint();
      const f = Math.floor(t / 8);
      const w = t % 8;
      if (f === 0) throw new ProtobufError('field number 0');
      if (f === 1) {
        s.expect(w, WIRE_LEN, 'TimeSeries.labels');
        s.lengthDelimited();
        if (labelsStart < 0) labelsStart = fieldStart;
        else if (labelsEnd !== fieldStart) {
          // Joined with a 0 byte, which cannot start a field: no contiguous run has the same bytes.
          (parts ??= []).push(buf.subarray(labelsStart, labelsEnd), ZERO);
          labelsStart = fieldStart;
        }
        labelsEnd = s.pos;
      } else if (f === 2) {
        s.expect(w, WIRE_LEN, 'TimeSeries.samples');
        const slen = s.varint();
        const p = s.pos;
        const sEnd = p + slen;
        if (sEnd > end) throw new ProtobufError('length-delimited field runs past its message');
        if (n === times.length) {
          const grownT = new Float64Array(n * 2);
          grownT.set(times);
          times = grownT;
          const grownV = new Float64Array(n * 2);
          grownV.set(values);
          values = grownV;
        }
        // Prometheus' encoding: value (fixed64, field 1) then timestamp (varint, field 2), both present.
        if (slen >= 11 && buf[p] === 0x09 && buf[p + 9] === 0x10) {
          const sr = new ProtoReader(buf, p + 10, sEnd);
          values[n] = buf.readDoubleLE(p + 1);
          times[n] = sr.int64();
          if (sr.done) {
            n++;
            s.pos = sEnd;
            continue;
          }
        }
        // Anything else (defaults omitted, other order, unknown fields): field by field.
        const sr = new ProtoReader(buf, p, sEnd);
        let value = 0;
        let ts = 0;
        while (!sr.done) {
          const st = sr.tag();
          if (st.field === 1) {
            sr.expect(st.wire, WIRE_FIXED64, 'Sample.value');
            value = sr.double();
          } else if (st.field === 2) {
            sr.expect(st.wire, WIRE_VARINT, 'Sample.timestamp');
            ts = sr.int64();
          } else sr.skip(st.wire);
        }
        values[n] = value;
        times[n] = ts;
        n++;
        s.pos = sEnd;
      } else if (f === 3) {
        s.expect(w, WIRE_LEN, 'TimeSeries.exemplars');
        s.skip(w);
        exemplars++;
      } else if (f === 4) {
        s.expect(w, WIRE_LEN, 'TimeSeries.histograms');
        s.skip(w);
        histograms++;
      } else s.skip(w);
    }
    r.pos = end;
    if (n === before) continue;
    if (labelsStart < 0) labelsStart = labelsEnd = start;
    if (parts === undefined) {
      keyStart.push(labelsStart);
      keyEnd.push(labelsEnd);
      keyHash.push(hashBytes(buf, labelsStart, labelsEnd));
    } else {
      const joined = Buffer.concat([...parts, buf.subarray(labelsStart, labelsEnd)]);
      joinedKeys.set(keyStart.length, joined);
      keyStart.push(0);
      keyEnd.push(joined.length);
      keyHash.push(hashBytes(joined, 0, joined.length));
    }
    ranges.push(start, end);
    first.push(before);
  }
  first.push(n);
  return {
    buf,
    series: keyStart.length,
    keyStart,
    keyEnd,
    keyHash,
    joinedKeys,
    ranges,
    first,
    times,
    values,
    samples: n,
    histograms,
    exemplars,
    metadata,
  };
}
