import { ProtobufError, ProtoReader, ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf';

/**
 * The messages of Prometheus' remote write 1.0 and remote read (prometheus/prompb: remote.proto,
 * types.proto), decoded into plain data and encoded back. Pure, no I/O.
 */

export type Label = readonly [name: string, value: string];

export interface TimeSeries {
  /** As sent (Prometheus sends them sorted by name). */
  readonly labels: readonly Label[];
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** Counted, not decoded: native histograms and exemplars are not stored yet. */
  readonly histograms: number;
  readonly exemplars: number;
}

/** prompb.MetricMetadata.MetricType. */
export const METRIC_TYPES = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
] as const;
export type RemoteMetricType = (typeof METRIC_TYPES)[number];

export interface MetricMetadata {
  readonly type: RemoteMetricType;
  readonly family: string;
  readonly help: string;
  readonly unit: string;
}

export interface WriteRequest {
  readonly timeseries: readonly TimeSeries[];
  readonly metadata: readonly MetricMetadata[];
}

function decodeLabel(r: ProtoReader): Label {
  let name = '';
  let value = '';
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(wire, WIRE_LEN, 'Label.name');
      name = r.string();
    } else if (field === 2) {
      r.expect(wire, WIRE_LEN, 'Label.value');
      value = r.string();
    } else r.skip(wire);
  }
  return [name, value];
}

export function decodeTimeSeries(r: ProtoReader): TimeSeries {
  const labels: Label[] = [];
  const timestamps: number[] = [];
  const values: number[] = [];
  let histograms = 0;
  let exemplars = 0;
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expect(wire, WIRE_LEN, 'TimeSeries.labels');
        labels.push(decodeLabel(r.message()));
        break;
      case 2: {
        r.expect(wire, WIRE_LEN, 'TimeSeries.samples');
        const s = r.message();
        let value = 0;
        let ts = 0;
        while (!s.done) {
          const t = s.tag();
          if (t.field === 1) {
            s.expect(t.wire, WIRE_FIXED64, 'Sample.value');
            value = s.double();
          } else if (t.field === 2) {
            s.expect(t.wire, WIRE_VARINT, 'Sample.timestamp');
            ts = s.int64();
          } else s.skip(t.wire);
        }
        values.push(value);
        timestamps.push(ts);
        break;
      }
      case 3:
        r.expect(wire, WIRE_LEN, 'TimeSeries.exemplars');
        r.skip(wire);
        exemplars++;
        break;
      case 4:
        r.expect(wire, WIRE_LEN, 'TimeSeries.histograms');
        r.skip(wire);
        histograms++;
        break;
      default:
        r.skip(wire);
    }
  }
  return { labels, timestamps, values, histograms, exemplars };
}

export function decodeMetadata(r: ProtoReader): MetricMetadata {
  let type: RemoteMetricType = 'unknown';
  let family = '';
  let help = '';
  let unit = '';
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(wire, WIRE_VARINT, 'MetricMetadata.type');
      type = METRIC_TYPES[r.varint()] ?? 'unknown';
    } else if (field === 2) {
      r.expect(wire, WIRE_LEN, 'MetricMetadata.metric_family_name');
      family = r.string();
    } else if (field === 4) {
      r.expect(wire, WIRE_LEN, 'MetricMetadata.help');
      help = r.string();
    } else if (field === 5) {
      r.expect(wire, WIRE_LEN, 'MetricMetadata.unit');
      unit = r.string();
    } else r.skip(wire);
  }
  return { type, family, help, unit };
}

/** Decodes a (decompressed) prometheus.WriteRequest; throws ProtobufError when it is not one. */
export function decodeWriteRequest(buf: Buffer): WriteRequest {
  const r = new ProtoReader(buf);
  const timeseries: TimeSeries[] = [];
  const metadata: MetricMetadata[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(wire, WIRE_LEN, 'WriteRequest.timeseries');
      timeseries.push(decodeTimeSeries(r.message()));
    } else if (field === 3) {
      r.expect(wire, WIRE_LEN, 'WriteRequest.metadata');
      metadata.push(decodeMetadata(r.message()));
    } else r.skip(wire);
  }
  return { timeseries, metadata };
}

function writeLabels(w: ProtoWriter, field: number, labels: readonly Label[]): void {
  for (const [name, value] of labels)
    w.message(field, new ProtoWriter(name.length + value.length + 8).string(1, name).string(2, value));
}

function writeSeries(
  w: ProtoWriter,
  field: number,
  s: Pick<TimeSeries, 'labels' | 'timestamps' | 'values'> & { stale?: readonly boolean[] },
): void {
  const sub = new ProtoWriter(64 + s.values.length * 20);
  writeLabels(sub, 1, s.labels);
  for (let i = 0; i < s.values.length; i++) {
    const sample = new ProtoWriter(24);
    if (s.stale?.[i] === true) sample.fixed64Bytes(1, STALE_NAN_LE);
    else sample.double(1, s.values[i] as number);
    sub.message(2, sample.varint(2, s.timestamps[i] as number));
  }
  w.message(field, sub);
}

/** Encodes a WriteRequest (the load generator and tests send these, as Prometheus does). */
export function encodeWriteRequest(req: {
  timeseries: readonly Pick<TimeSeries, 'labels' | 'timestamps' | 'values'>[];
  metadata?: readonly MetricMetadata[];
}): Buffer {
  const w = new ProtoWriter(1024);
  for (const s of req.timeseries) writeSeries(w, 1, s);
  for (const m of req.metadata ?? [])
    w.message(
      3,
      new ProtoWriter(64)
        .varint(1, METRIC_TYPES.indexOf(m.type))
        .string(2, m.family)
        .string(4, m.help)
        .string(5, m.unit),
    );
  return w.finish();
}

export type MatcherType = '=' | '!=' | '=~' | '!~';
const MATCHER_TYPES: readonly MatcherType[] = ['=', '!=', '=~', '!~'];

export interface LabelMatcher {
  readonly type: MatcherType;
  readonly name: string;
  readonly value: string;
}

export interface Query {
  readonly startMs: number;
  readonly endMs: number;
  readonly matchers: readonly LabelMatcher[];
}

export type ResponseType = 'samples' | 'streamed_xor_chunks';

export interface ReadRequest {
  readonly queries: readonly Query[];
  /** Empty means SAMPLES (older clients do not send the field). */
  readonly acceptedResponseTypes: readonly ResponseType[];
}

function decodeQuery(r: ProtoReader): Query {
  let startMs = 0;
  let endMs = 0;
  const matchers: LabelMatcher[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(wire, WIRE_VARINT, 'Query.start_timestamp_ms');
      startMs = r.int64();
    } else if (field === 2) {
      r.expect(wire, WIRE_VARINT, 'Query.end_timestamp_ms');
      endMs = r.int64();
    } else if (field === 3) {
      r.expect(wire, WIRE_LEN, 'Query.matchers');
      const m = r.message();
      let type = 0;
      let name = '';
      let value = '';
      while (!m.done) {
        const t = m.tag();
        if (t.field === 1) {
          m.expect(t.wire, WIRE_VARINT, 'LabelMatcher.type');
          type = m.varint();
        } else if (t.field === 2) {
          m.expect(t.wire, WIRE_LEN, 'LabelMatcher.name');
          name = m.string();
        } else if (t.field === 3) {
          m.expect(t.wire, WIRE_LEN, 'LabelMatcher.value');
          value = m.string();
        } else m.skip(t.wire);
      }
      const mt = MATCHER_TYPES[type];
      if (mt === undefined) throw new ProtobufError(`unknown matcher type ${type}`);
      matchers.push({ type: mt, name, value });
    } else r.skip(wire); // hints (4) are advisory
  }
  return { startMs, endMs, matchers };
}

/** Decodes a (decompressed) prometheus.ReadRequest. */
export function decodeReadRequest(buf: Buffer): ReadRequest {
  const r = new ProtoReader(buf);
  const queries: Query[] = [];
  const accepted: ResponseType[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(wire, WIRE_LEN, 'ReadRequest.queries');
      queries.push(decodeQuery(r.message()));
    } else if (field === 2) {
      for (const v of r.packedVarints(wire)) {
        if (v === 0) accepted.push('samples');
        else if (v === 1) accepted.push('streamed_xor_chunks');
      }
    } else r.skip(wire);
  }
  return { queries, acceptedResponseTypes: accepted };
}

/** Encodes a ReadRequest (tests; Prometheus sends these). */
export function encodeReadRequest(req: ReadRequest): Buffer {
  const w = new ProtoWriter(256);
  for (const q of req.queries) {
    const qw = new ProtoWriter(128).varint(1, q.startMs).varint(2, q.endMs);
    for (const m of q.matchers)
      qw.message(
        3,
        new ProtoWriter(32).varint(1, MATCHER_TYPES.indexOf(m.type)).string(2, m.name).string(3, m.value),
      );
    w.message(1, qw);
  }
  w.packed(
    2,
    req.acceptedResponseTypes.map((t) => (t === 'samples' ? 0 : 1)),
  );
  return w.finish();
}

export interface SeriesSamples {
  readonly labels: readonly Label[];
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** Samples that are staleness markers, written with their exact NaN bits. */
  readonly stale?: readonly boolean[];
}

/** Prometheus' staleness marker NaN, little-endian, as a Sample.value field's payload. */
const STALE_NAN_LE = Buffer.from('020000000000f07f', 'hex');

/** Encodes a ReadResponse: one QueryResult per query. */
export function encodeReadResponse(results: readonly (readonly SeriesSamples[])[]): Buffer {
  const w = new ProtoWriter(1024);
  for (const series of results) {
    const qr = new ProtoWriter(1024);
    for (const s of series) writeSeries(qr, 1, s);
    w.message(1, qr);
  }
  return w.finish();
}

/** Decodes a ReadResponse (tests). */
export function decodeReadResponse(buf: Buffer): SeriesSamples[][] {
  const r = new ProtoReader(buf);
  const out: SeriesSamples[][] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const qr = r.message();
    const series: SeriesSamples[] = [];
    while (!qr.done) {
      const t = qr.tag();
      if (t.field === 1) series.push(decodeTimeSeries(qr.message()));
      else qr.skip(t.wire);
    }
    out.push(series);
  }
  return out;
}

export interface XorChunk {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly data: Buffer;
}

/** Encodes one prometheus.ChunkedReadResponse message (a frame's payload). */
export function encodeChunkedReadResponse(
  queryIndex: number,
  series: readonly { labels: readonly Label[]; chunks: readonly XorChunk[] }[],
): Buffer {
  const w = new ProtoWriter(1024);
  for (const s of series) {
    const cs = new ProtoWriter(256);
    writeLabels(cs, 1, s.labels);
    for (const c of s.chunks)
      cs.message(
        2,
        new ProtoWriter(c.data.length + 32)
          .varint(1, c.minTimeMs)
          .varint(2, c.maxTimeMs)
          .varint(3, 1) // XOR
          .bytes(4, c.data),
      );
    w.message(1, cs);
  }
  w.varint(2, queryIndex);
  return w.finish();
}

/** Decodes a ChunkedReadResponse (tests). */
export function decodeChunkedReadResponse(buf: Buffer): {
  queryIndex: number;
  series: { labels: Label[]; chunks: (XorChunk & { type: number })[] }[];
} {
  const r = new ProtoReader(buf);
  let queryIndex = 0;
  const series: { labels: Label[]; chunks: (XorChunk & { type: number })[] }[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 2) queryIndex = r.int64();
    else if (field === 1) {
      const cs = r.message();
      const labels: Label[] = [];
      const chunks: (XorChunk & { type: number })[] = [];
      while (!cs.done) {
        const t = cs.tag();
        if (t.field === 1) labels.push(decodeLabel(cs.message()));
        else if (t.field === 2) {
          const c = cs.message();
          let minTimeMs = 0;
          let maxTimeMs = 0;
          let type = 0;
          let data: Buffer = Buffer.alloc(0);
          while (!c.done) {
            const ct = c.tag();
            if (ct.field === 1) minTimeMs = c.int64();
            else if (ct.field === 2) maxTimeMs = c.int64();
            else if (ct.field === 3) type = c.varint();
            else if (ct.field === 4) data = c.bytes();
            else c.skip(ct.wire);
          }
          chunks.push({ minTimeMs, maxTimeMs, type, data });
        } else cs.skip(t.wire);
      }
      series.push({ labels, chunks });
    } else r.skip(wire);
  }
  return { queryIndex, series };
}
