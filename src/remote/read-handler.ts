import type { Request, RequestHandler, Response } from 'express';
import type { Database } from '../db/database';
import type { Logger } from '../log/logger';
import { crc32c } from './crc32c';
import { BodyTooLargeError, ClientAbortedError, readBody, refuseBody } from '../http/body';
import { MatchBudget, MatchTimeoutError, RegexSyntaxError } from './matchers';
import {
  decodeReadRequest,
  encodeChunkedReadResponse,
  encodeReadResponse,
  type Query,
  type SeriesSamples,
  type XorChunk,
} from './prompb';
import { ProtobufError, ProtoWriter } from './protobuf';
import { ReadLimitError, readSamples, selectSeries } from './read-store';
import type { RemoteMetrics } from './remote-metrics';
import { snappyDecode, snappyEncode, SnappyError, snappyDecodedLength } from './snappy';
import { encodeXorChunk, SAMPLES_PER_CHUNK } from './xor-chunk';
import { OncePerMinute } from './write-handler';

export interface ReadHandlerDeps {
  readonly db: Database;
  readonly metrics: RemoteMetrics;
  readonly logger: Logger;
  readonly maxSamples: number;
  readonly maxBytes: number;
  readonly prepare: () => Promise<void>;
}

const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** A streamed frame holds series up to about this size, as Prometheus' own server cuts them. */
const FRAME_BYTES = 1024 * 1024;

function answer(res: Response, status: number, message: string): void {
  res.status(status).type('text/plain').send(`${message}\n`);
}

async function runQuery(
  deps: ReadHandlerDeps,
  q: Query,
  budget: { samples: number; matching: MatchBudget },
): Promise<SeriesSamples[]> {
  const series = await selectSeries(deps.db, q.matchers, budget.matching);
  const data = await readSamples(
    deps.db,
    series.map((s) => s.id),
    q.startMs,
    q.endMs,
    budget.samples,
  );
  const out: SeriesSamples[] = [];
  for (const s of series) {
    const d = data.get(s.id);
    if (d === undefined) continue;
    budget.samples -= d.timestamps.length;
    out.push({ labels: s.labels, timestamps: d.timestamps, values: d.values, stale: d.stale });
  }
  return out;
}

/** The XOR chunks of one series, SAMPLES_PER_CHUNK samples each. */
function chunksOf(s: SeriesSamples): XorChunk[] {
  const chunks: XorChunk[] = [];
  for (let i = 0; i < s.timestamps.length; i += SAMPLES_PER_CHUNK) {
    const ts = s.timestamps.slice(i, i + SAMPLES_PER_CHUNK);
    const vs = s.values.slice(i, i + SAMPLES_PER_CHUNK);
    const stale = s.stale?.slice(i, i + SAMPLES_PER_CHUNK);
    chunks.push({
      minTimeMs: ts[0] as number,
      maxTimeMs: ts[ts.length - 1] as number,
      data: encodeXorChunk(ts, vs, stale),
    });
  }
  return chunks;
}

/** One frame of a streamed response: uvarint size, CRC-32C (big-endian) of the message, the message. */
function frame(message: Buffer): Buffer {
  const head = new ProtoWriter(16).rawVarint(message.length).finish();
  const crc = Buffer.allocUnsafe(4);
  crc.writeUInt32BE(crc32c(message), 0);
  return Buffer.concat([head, crc, message]);
}

/**
 * `POST /api/v1/read`: Prometheus remote read. Answers SAMPLES (a snappy-compressed ReadResponse) or,
 * when the client accepts it first, STREAMED_XOR_CHUNKS (frames of ChunkedReadResponse). Bounded by
 * --remote-read.max-samples and --remote-read.max-bytes: over either, 413 with a message saying which.
 */
export function remoteReadHandler(deps: ReadHandlerDeps): RequestHandler {
  const log = new OncePerMinute(deps.logger);
  return (req: Request, res: Response) => {
    void (async () => {
      const reply = (status: number, message: string): void => {
        deps.metrics.readRequest(status);
        if (status < 500) log.warn({ reason: message, status }, 'remote read request rejected');
        if (status === 413 && !req.complete) refuseBody(res, message);
        else answer(res, status, message);
      };
      let request;
      try {
        const body = await readBody(req, MAX_REQUEST_BYTES);
        if (snappyDecodedLength(body) > MAX_REQUEST_BYTES * 4)
          throw new SnappyError('decoded request too large');
        request = decodeReadRequest(snappyDecode(body));
      } catch (err) {
        if (err instanceof BodyTooLargeError) return reply(413, err.message);
        if (err instanceof ClientAbortedError) {
          log.warn({ reason: err.message, status: 0 }, 'remote read request abandoned');
          return;
        }
        if (err instanceof SnappyError || err instanceof ProtobufError)
          return reply(400, `malformed remote read body: ${err.message}`);
        throw err;
      }
      const streamed =
        request.acceptedResponseTypes.length > 0 &&
        request.acceptedResponseTypes[0] === 'streamed_xor_chunks';
      const budget = { samples: deps.maxSamples, matching: new MatchBudget() };
      try {
        await deps.prepare();
        if (!streamed) {
          const results: SeriesSamples[][] = [];
          for (const q of request.queries) results.push(await runQuery(deps, q, budget));
          const raw = encodeReadResponse(results);
          if (raw.length > deps.maxBytes)
            return reply(
              413,
              `the response would be ${raw.length} bytes, more than --remote-read.max-bytes (${deps.maxBytes}); narrow the time range or the matchers`,
            );
          let series = 0;
          let samples = 0;
          for (const r of results)
            for (const s of r) {
              series++;
              samples += s.timestamps.length;
            }
          deps.metrics.readSeries += series;
          deps.metrics.readSamples += samples;
          deps.metrics.readRequest(200);
          res
            .status(200)
            .setHeader('Content-Type', 'application/x-protobuf')
            .setHeader('Content-Encoding', 'snappy')
            .end(snappyEncode(raw));
          return;
        }
        // Streamed: every query is read (and checked against the limits) before the first byte goes out,
        // so that an error is still a clean status code.
        const frames: Buffer[] = [];
        let bytes = 0;
        let series = 0;
        let samples = 0;
        for (let qi = 0; qi < request.queries.length; qi++) {
          const result = await runQuery(deps, request.queries[qi] as Query, budget);
          let batch: { labels: SeriesSamples['labels']; chunks: XorChunk[] }[] = [];
          let batchBytes = 0;
          for (const s of result) {
            const chunks = chunksOf(s);
            batch.push({ labels: s.labels, chunks });
            for (const c of chunks) batchBytes += c.data.length + 24;
            series++;
            samples += s.timestamps.length;
            if (batchBytes >= FRAME_BYTES) {
              frames.push(frame(encodeChunkedReadResponse(qi, batch)));
              bytes += frames[frames.length - 1]?.length ?? 0;
              batch = [];
              batchBytes = 0;
            }
          }
          if (batch.length > 0) {
            frames.push(frame(encodeChunkedReadResponse(qi, batch)));
            bytes += frames[frames.length - 1]?.length ?? 0;
          }
          if (bytes > deps.maxBytes)
            return reply(
              413,
              `the response would be more than --remote-read.max-bytes (${deps.maxBytes}) bytes; narrow the time range or the matchers`,
            );
        }
        deps.metrics.readSeries += series;
        deps.metrics.readSamples += samples;
        deps.metrics.readRequest(200);
        res
          .status(200)
          .setHeader('Content-Type', 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse');
        for (const f of frames) res.write(f);
        res.end();
      } catch (err) {
        if (err instanceof RegexSyntaxError || err instanceof MatchTimeoutError)
          return reply(400, err.message);
        if (err instanceof ReadLimitError) return reply(413, err.message);
        deps.logger.error({ err }, 'remote read failed');
        return reply(503, 'reading from the database failed; retry later');
      }
    })().catch((err: unknown) => {
      deps.logger.error({ err }, 'remote read request failed');
      if (!res.headersSent) {
        deps.metrics.readRequest(500);
        answer(res, 500, 'internal error');
      }
    });
  };
}
