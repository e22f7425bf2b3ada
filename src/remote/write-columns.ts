import { decodeMetadata, type MetricMetadata } from './prompb';
import { ProtobufError, ProtoReader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf';

/**
 * A (decompressed) prometheus.WriteRequest decoded for storing, without an object per sample or per
 * label: every series with samples is known by its key, the raw bytes of its Label fields (as a latin1
 * string: equal bytes are equal label sets, so a cache keyed by them finds a series Prometheus sends
 * again without decoding or hashing its labels), and its samples sit in two columns. A series seen for
 * the first time is decoded in full from `ranges` (prompb's decodeTimeSeries). Pure, no I/O.
 */
export interface WriteColumns {
  readonly buf: Buffer;
  /** Per series with samples: its key. */
  readonly keys: string[];
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

/** Decodes like decodeWriteRequest (the same ProtobufError for the same malformed input), into columns. */
export function decodeWriteColumns(buf: Buffer): WriteColumns {
  const r = new ProtoReader(buf);
  const keys: string[] = [];
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
    let parts: string | undefined;
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
          parts = (parts ?? buf.toString('latin1', labelsStart, labelsEnd)) + '\u0000';
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
    const run = labelsStart < 0 ? '' : buf.toString('latin1', labelsStart, labelsEnd);
    keys.push(parts === undefined ? run : parts + run);
    ranges.push(start, end);
    first.push(before);
  }
  first.push(n);
  return {
    buf,
    keys,
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
