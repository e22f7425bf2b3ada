import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log/logger';
import { BodyTooLargeError, ClientAbortedError, readBody, refuseBody } from '../http/body';
import { InvalidWriteError } from './ingest';
import { ProtobufError } from './protobuf';
import { UnavailableError, type RemoteReceiver } from './receiver';
import type { RemoteMetrics } from './remote-metrics';
import { SnappyError, snappyDecode, snappyDecodedLength } from './snappy';
import { decodeWriteColumns } from './write-columns';

export interface WriteHandlerDeps {
  readonly receiver: RemoteReceiver;
  readonly metrics: RemoteMetrics;
  readonly logger: Logger;
  /** --remote-write.max-body-bytes: bound of the body as sent and of its decompressed size. */
  readonly maxBodyBytes: number;
  /** The sink's clock (ms): the accepted window of timestamps and the late hours are reckoned from it. */
  readonly now?: () => number;
}

/** Logs a repeated problem at most once a minute per message, so a misconfigured sender cannot flood. */
export class OncePerMinute {
  private readonly last = new Map<string, number>();
  constructor(private readonly logger: Logger) {}
  warn(fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    const key = `${message}\u0000${String(fields.reason)}`;
    const at = this.last.get(key);
    if (at !== undefined && nowMs - at < 60_000) return;
    if (this.last.size > 1000) this.last.clear();
    this.last.set(key, nowMs);
    this.logger.warn(fields, message);
  }
}

function answer(res: Response, status: number, message: string): void {
  res.status(status).type('text/plain').send(`${message}\n`);
}

/**
 * `POST /api/v1/write`: Prometheus remote write 1.0 (a snappy-compressed protobuf WriteRequest). The
 * status codes drive the sender's retries: 204 once the samples are committed; 400 for a body that
 * cannot be decoded (the sender drops it, so the reason is logged); 413 over the size bound; 415 for
 * another protocol; 503 while the database cannot take it (the sender keeps the samples and retries).
 * 429 is never used: Prometheus 2.42 drops on 429 unless told otherwise.
 */
export function remoteWriteHandler(deps: WriteHandlerDeps): RequestHandler {
  const log = new OncePerMinute(deps.logger);
  return (req: Request, res: Response) => {
    void (async () => {
      const reply = (status: number, message: string, reason?: string): void => {
        deps.metrics.writeRequest(status);
        if (status === 400 || status === 413 || status === 415)
          log.warn(
            { reason: reason ?? message, remote: req.socket.remoteAddress, status },
            'remote write request rejected',
          );
        // A body refused for its size is not read further: the connection closes after the 413.
        if (status === 413) refuseBody(res, message);
        else answer(res, status, message);
      };
      const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      if (/proto=io\.prometheus\.write\.v2/.test(type)) {
        reply(415, 'remote write 2.0 is not supported; send remote write 1.0 (prometheus.WriteRequest)');
        req.resume();
        return;
      }
      if (encoding !== 'snappy') {
        reply(415, `expected Content-Encoding: snappy, got "${encoding}"`);
        req.resume();
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req, deps.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          reply(413, `${err.message} (--remote-write.max-body-bytes)`);
          return;
        }
        if (err instanceof ClientAbortedError) {
          log.warn(
            { reason: err.message, remote: req.socket.remoteAddress },
            'remote write request abandoned',
          );
          return;
        }
        throw err;
      }
      let request;
      try {
        // Before decompressing: a body that will not fit is refused for nothing spent on it.
        deps.receiver.refuseEarly();
        const decoded = snappyDecodedLength(body);
        if (decoded > deps.maxBodyBytes * 8) {
          reply(
            413,
            `decompressed body of ${decoded} bytes is larger than 8 x --remote-write.max-body-bytes`,
          );
          return;
        }
        request = decodeWriteColumns(snappyDecode(body));
      } catch (err) {
        if (err instanceof SnappyError || err instanceof ProtobufError) {
          reply(400, `malformed remote write body: ${err.message}`);
          return;
        }
        if (err instanceof UnavailableError) {
          reply(503, err.message);
          return;
        }
        throw err;
      }
      try {
        await deps.receiver.receive(request, (deps.now ?? Date.now)());
      } catch (err) {
        if (err instanceof InvalidWriteError) {
          reply(400, `invalid remote write request: ${err.message}`);
          return;
        }
        if (err instanceof UnavailableError) {
          reply(503, err.message);
          return;
        }
        throw err;
      }
      deps.metrics.writeRequest(204);
      res.status(204).end();
    })().catch((err: unknown) => {
      deps.logger.error({ err }, 'remote write request failed');
      if (!res.headersSent) {
        deps.metrics.writeRequest(500);
        answer(res, 500, 'internal error');
      }
    });
  };
}
