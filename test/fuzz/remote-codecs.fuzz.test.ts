import fc from 'fast-check';
import {
  decodeChunkedReadResponse,
  decodeReadRequest,
  decodeReadResponse,
  decodeTimeSeries,
  decodeWriteRequest,
  encodeChunkedReadResponse,
  encodeReadRequest,
  encodeReadResponse,
  encodeWriteRequest,
  METRIC_TYPES,
  type Label,
  type LabelMatcher,
  type ReadRequest,
  type ResponseType,
} from '../../src/remote/prompb';
import { ProtobufError, ProtoReader } from '../../src/remote/protobuf';
import { SnappyError, snappyDecode, snappyDecodedLength, snappyEncode } from '../../src/remote/snappy';
import { decodeWriteColumns } from '../../src/remote/write-columns';
import { decodeXorChunk, encodeXorChunk } from '../../src/remote/xor-chunk';
import {
  corpus,
  fuzzParams,
  fuzzTimeout,
  mutatedBytes,
  nastyString,
  SYNC_HANG_MS,
  withinMs,
} from '../helpers/fuzz';

/**
 * Property-based fuzzing of the remote write and remote read codecs (src/remote/): the bytes a sender
 * puts in `POST /api/v1/write` and `POST /api/v1/read`, before any storage is involved.
 *   - snappy: encode/decode round trip; any block decodes or throws SnappyError, never more bytes than a
 *     block of that size can describe (so a tiny body cannot make the decoder allocate gigabytes);
 *   - protobuf: WriteRequest (both decoders), ReadRequest: any bytes decode or throw ProtobufError;
 *     encode/decode round trips of write requests, read requests and responses, XOR chunks;
 *   - the label bytes of a series the column decoder accepted decode, or throw ProtobufError (which the
 *     handler answers with 400: see remote-endpoints.fuzz.test.ts).
 * Every decode runs under the SYNC_HANG_MS watchdog. The corpus (test/fixtures/fuzz/remote-write/ and
 * remote-read/, bodies as sent) is replayed first.
 */

function only<E extends Error>(kind: new (...args: never[]) => E, run: () => unknown): 'ok' | 'error' {
  try {
    withinMs(SYNC_HANG_MS, run);
    return 'ok';
  } catch (err) {
    if (err instanceof kind) return 'error';
    throw err;
  }
}

/** What a body as sent decodes to, as far as the write handler takes it (before storage). */
function decodeWriteBody(body: Buffer): 'ok' | 'error' {
  let raw: Buffer;
  try {
    raw = withinMs(SYNC_HANG_MS, () => snappyDecode(body));
  } catch (err) {
    if (err instanceof SnappyError) return 'error';
    throw err;
  }
  return decodeWriteMessage(raw);
}

function decodeWriteMessage(raw: Buffer): 'ok' | 'error' {
  const columns = only(ProtobufError, () => decodeWriteColumns(raw));
  const full = only(ProtobufError, () => decodeWriteRequest(raw));
  // The column decoder does not look inside Label messages; the full one does. Whatever the column
  // decoder accepts, the full one may only refuse with ProtobufError (checked by `only`).
  if (columns === 'ok') {
    const c = decodeWriteColumns(raw);
    for (let i = 0; i < c.series; i++)
      only(ProtobufError, () =>
        decodeTimeSeries(new ProtoReader(c.buf, c.ranges[2 * i] as number, c.ranges[2 * i + 1] as number)),
      );
  }
  if (full === 'ok') expect(columns).toBe('ok');
  return columns;
}

// --- generators -------------------------------------------------------------------------------------

const label: fc.Arbitrary<Label> = fc.tuple(
  fc.oneof(fc.constantFrom('__name__', 'job', 'instance', 'le'), nastyString(3)),
  nastyString(4),
);
const timestampMs = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 });
const anyDouble = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0));

const series = fc
  .record({
    labels: fc.array(label, { maxLength: 6 }),
    samples: fc.array(fc.tuple(timestampMs, anyDouble), { maxLength: 6 }),
  })
  .map(({ labels, samples }) => ({
    labels,
    timestamps: samples.map(([t]) => t),
    values: samples.map(([, v]) => v),
  }));

const metadata = fc.record({
  type: fc.constantFrom(...METRIC_TYPES),
  family: nastyString(3),
  help: nastyString(3),
  unit: nastyString(2),
});

const writeRequest = fc.record({
  timeseries: fc.array(series, { maxLength: 5 }),
  metadata: fc.array(metadata, { maxLength: 2 }),
});

const matcher: fc.Arbitrary<LabelMatcher> = fc.record({
  type: fc.constantFrom('=', '!=', '=~', '!~'),
  name: nastyString(2),
  value: nastyString(3),
});

const readRequest: fc.Arbitrary<ReadRequest> = fc.record({
  queries: fc.array(
    fc.record({ startMs: timestampMs, endMs: timestampMs, matchers: fc.array(matcher, { maxLength: 4 }) }),
    { maxLength: 3 },
  ),
  acceptedResponseTypes: fc.array(fc.constantFrom<ResponseType>('samples', 'streamed_xor_chunks'), {
    maxLength: 2,
  }),
});

/** Bytes compressible enough to exercise copies, and arbitrary bytes. */
const blockInput = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.integer({ min: 1, max: 5000 }))
    .map(([piece, times]) => Buffer.concat(Array<Uint8Array>(times).fill(piece)).subarray(0, 80_000)),
);

const viaUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
const sameDouble = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

const WRITE_CORPUS = corpus('remote-write');
const READ_CORPUS = corpus('remote-read');

describe('remote write and read codecs (fuzz)', () => {
  it('replays the corpus', () => {
    expect(WRITE_CORPUS.length).toBeGreaterThan(0);
    expect(READ_CORPUS.length).toBeGreaterThan(0);
    for (const { bytes } of WRITE_CORPUS) decodeWriteBody(bytes);
    for (const { bytes } of READ_CORPUS)
      only(SnappyError, () => only(ProtobufError, () => decodeReadRequest(snappyDecode(bytes))));
  });

  it(
    'snappy: decode(encode(x)) is x, and the preamble states its length',
    () => {
      fc.assert(
        fc.property(blockInput, (input) => {
          const block = snappyEncode(input);
          expect(snappyDecodedLength(block)).toBe(input.length);
          expect(Buffer.compare(snappyDecode(block), Buffer.from(input))).toBe(0);
        }),
        fuzzParams(500),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'snappy: any block decodes or throws SnappyError, to no more than a block of its size can hold',
    () => {
      const blocks = fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        mutatedBytes(blockInput.map((b) => snappyEncode(b))),
        // Preambles declaring up to 4 GiB, followed by little.
        fc
          .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 8 }))
          .map(([n, rest]) => Buffer.concat([preamble(n), rest])),
      );
      fc.assert(
        fc.property(blocks, (block) => {
          const input = Buffer.from(block);
          try {
            const out = withinMs(SYNC_HANG_MS, () => snappyDecode(input));
            // The densest element, a 3-byte copy, writes 64 bytes.
            expect(out.length).toBeLessThanOrEqual(input.length * 22);
          } catch (err) {
            if (!(err instanceof SnappyError)) throw err;
          }
        }),
        fuzzParams(3000, { examples: WRITE_CORPUS.map((e): [Uint8Array] => [e.bytes]) }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'snappy: a block declaring far more than its size can hold is refused before any allocation',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1024, max: 2 ** 32 - 1 }),
          fc.uint8Array({ maxLength: 16 }),
          (n, rest) => {
            const block = Buffer.concat([preamble(n), rest]);
            fc.pre(n > block.length * 22);
            expect(() => snappyDecode(block)).toThrow(/larger than a block of \d+ bytes can hold/);
          },
        ),
        fuzzParams(500),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'WriteRequest: arbitrary and mutated bodies decode or throw SnappyError / ProtobufError',
    () => {
      const bodies = fc.oneof(
        fc.uint8Array({ maxLength: 1024 }).map((b) => snappyEncode(b)),
        writeRequest.map((r) => snappyEncode(encodeWriteRequest(r))),
        mutatedBytes(writeRequest.map((r) => snappyEncode(encodeWriteRequest(r)))),
        // Corrupt protobuf inside valid snappy: the common case of a confused sender.
        mutatedBytes(writeRequest.map((r) => encodeWriteRequest(r))).map((b) => snappyEncode(b)),
      );
      fc.assert(
        fc.property(bodies, (body) => {
          decodeWriteBody(Buffer.from(body));
        }),
        fuzzParams(1500, { examples: WRITE_CORPUS.map((e): [Uint8Array] => [e.bytes]) }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'WriteRequest: encode then decode gives the labels and samples back (both decoders)',
    () => {
      fc.assert(
        fc.property(writeRequest, (req) => {
          const raw = encodeWriteRequest(req);
          const back = decodeWriteRequest(raw);
          expect(back.timeseries).toHaveLength(req.timeseries.length);
          req.timeseries.forEach((s, i) => {
            const b = back.timeseries[i];
            // Empty strings are omitted on the wire (proto3) and come back empty.
            expect(b?.labels).toEqual(s.labels.map(([n, v]) => [viaUtf8(n), viaUtf8(v)]));
            expect(b?.timestamps).toEqual(s.timestamps.map((t) => t + 0));
            s.values.forEach((v, j) => expect(sameDouble(b?.values[j] as number, v)).toBe(true));
          });
          expect(back.metadata).toEqual(
            req.metadata.map((m) => ({
              ...m,
              family: viaUtf8(m.family),
              help: viaUtf8(m.help),
              unit: viaUtf8(m.unit),
            })),
          );
          const c = decodeWriteColumns(raw);
          const withSamples = req.timeseries.filter((s) => s.values.length > 0);
          expect(c.series).toBe(withSamples.length);
          const times = withSamples.flatMap((s) => s.timestamps);
          const values = withSamples.flatMap((s) => s.values);
          expect(c.samples).toBe(times.length);
          for (let i = 0; i < times.length; i++) {
            expect(c.times[i]).toBe((times[i] as number) + 0);
            expect(sameDouble(c.values[i] as number, values[i] as number)).toBe(true);
          }
        }),
        fuzzParams(500),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'ReadRequest: arbitrary and mutated bodies decode or throw; encode then decode round-trips',
    () => {
      const bodies = fc.oneof(
        fc.uint8Array({ maxLength: 512 }).map((b) => snappyEncode(b)),
        mutatedBytes(readRequest.map((r) => snappyEncode(encodeReadRequest(r)))),
        mutatedBytes(readRequest.map((r) => encodeReadRequest(r))).map((b) => snappyEncode(b)),
      );
      fc.assert(
        fc.property(bodies, (body) => {
          only(SnappyError, () =>
            only(ProtobufError, () => decodeReadRequest(snappyDecode(Buffer.from(body)))),
          );
        }),
        fuzzParams(2000, { examples: READ_CORPUS.map((e): [Uint8Array] => [e.bytes]) }),
      );
      fc.assert(
        fc.property(readRequest, (req) => {
          const back = decodeReadRequest(snappyDecode(snappyEncode(encodeReadRequest(req))));
          expect(back.acceptedResponseTypes).toEqual(req.acceptedResponseTypes);
          expect(back.queries).toEqual(
            req.queries.map((q) => ({
              startMs: q.startMs + 0,
              endMs: q.endMs + 0,
              matchers: q.matchers.map((m) => ({
                type: m.type,
                name: viaUtf8(m.name),
                value: viaUtf8(m.value),
              })),
            })),
          );
        }),
        fuzzParams(1000),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'read responses (samples and streamed XOR chunks) round-trip, staleness markers included',
    () => {
      const chunkSeries = fc
        .record({
          labels: fc.array(label, { maxLength: 4 }),
          start: fc.integer({ min: -1e12, max: 4e12 }),
          steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 1e9 }), anyDouble, fc.boolean()), {
            minLength: 1,
            maxLength: 150,
          }),
        })
        .map(({ labels, start, steps }) => {
          const timestamps: number[] = [];
          let t = start;
          for (const [d] of steps) timestamps.push((t += d));
          return { labels, timestamps, values: steps.map(([, v]) => v), stale: steps.map(([, , s]) => s) };
        });
      fc.assert(
        fc.property(fc.array(fc.array(chunkSeries, { maxLength: 3 }), { maxLength: 3 }), (results) => {
          const back = decodeReadResponse(encodeReadResponse(results));
          expect(back.map((r) => r.length)).toEqual(results.map((r) => r.length));
          results.forEach((r, qi) =>
            r.forEach((s, si) => {
              const b = back[qi]?.[si];
              expect(b?.timestamps).toEqual(s.timestamps.map((t) => t + 0));
              s.values.forEach((v, j) =>
                expect(sameDouble(b?.values[j] as number, s.stale[j] === true ? NaN : v)).toBe(true),
              );
            }),
          );
          for (const r of results) {
            const frame = decodeChunkedReadResponse(
              encodeChunkedReadResponse(
                1,
                r.map((s) => ({
                  labels: s.labels,
                  chunks: [
                    {
                      minTimeMs: s.timestamps[0] as number,
                      maxTimeMs: s.timestamps[s.timestamps.length - 1] as number,
                      data: encodeXorChunk(s.timestamps, s.values, s.stale),
                    },
                  ],
                })),
              ),
            );
            expect(frame.series).toHaveLength(r.length);
            r.forEach((s, si) => {
              const chunk = decodeXorChunk(frame.series[si]?.chunks[0]?.data as Buffer);
              expect(chunk.timestamps).toEqual(s.timestamps.map((t) => t + 0));
              expect(chunk.stale).toEqual(s.stale);
              s.values.forEach((v, j) => {
                if (s.stale[j] !== true) expect(sameDouble(chunk.values[j] as number, v)).toBe(true);
              });
            });
          }
        }),
        fuzzParams(300),
      );
    },
    fuzzTimeout(60_000),
  );
});

/** A snappy preamble (uvarint) declaring n bytes. */
function preamble(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    out.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v = Math.floor(v / 128);
  } while (v > 0);
  return Buffer.from(out);
}
