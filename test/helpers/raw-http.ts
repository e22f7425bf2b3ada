import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export type RawOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly body: Buffer;
    }
  | { readonly kind: 'error'; readonly error: string };

export interface RawRequest {
  readonly port: number;
  readonly method: string;
  /** Path and query, sent as given (percent-encode what must be). */
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Sent with a Content-Length unless `chunked`. */
  readonly body?: Buffer;
  readonly chunked?: boolean;
  /** Gives up (and reports an error) after this long. */
  readonly timeoutMs?: number;
}

/**
 * One HTTP/1.1 request on a fresh connection to 127.0.0.1, for tests that send what a well-behaved
 * client would not: arbitrary bodies, wrong headers, bodies larger than the server takes. Resolves with
 * the response as soon as the server answers (even if it answers before the whole body went out), or
 * with the connection error when there is no answer; never rejects.
 */
export function rawRequest(r: RawRequest): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: RawOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const headers: OutgoingHttpHeaders = { ...r.headers };
    if (r.body !== undefined && r.chunked !== true) headers['Content-Length'] = r.body.length;
    const req = httpRequest({
      host: '127.0.0.1',
      port: r.port,
      method: r.method,
      path: r.path,
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy();
      settle({ kind: 'error', error: `no answer within ${r.timeoutMs ?? 30_000} ms` });
    }, r.timeoutMs ?? 30_000);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (): void =>
        settle({
          kind: 'response',
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
        });
      res.once('end', done);
      // The server may close while we still send: what was answered stands.
      res.once('error', done);
      res.once('aborted', done);
    });
    req.on('error', (err: Error & { code?: string }) => {
      // An early answer (413) and then a reset of the rest of the body: wait briefly for the response.
      setTimeout(() => settle({ kind: 'error', error: err.code ?? err.message }), 200);
    });
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}
