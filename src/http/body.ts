import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The client went away before sending the whole body: nobody is left to answer. */
export class ClientAbortedError extends Error {
  constructor() {
    super('the client closed the connection before sending the whole request body');
    this.name = 'ClientAbortedError';
  }
}

/**
 * Reads a request body, failing with BodyTooLargeError as soon as it passes `limit` bytes (or declares
 * more), and with ClientAbortedError when the client disconnects first. Answer BodyTooLargeError with
 * refuseBody.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const tooLarge = (): void => {
      cleanup();
      req.pause();
      reject(new BodyTooLargeError(limit));
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) tooLarge();
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    const onError = (): void => {
      cleanup();
      reject(new ClientAbortedError());
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new ClientAbortedError());
    };
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge();
      return;
    }
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/**
 * Answers a body refused for its size: 413 with `message`, and the connection closes after it, so the
 * rest of the body is never read (a keep-alive connection would read and discard it). A client that is
 * still sending when the connection closes may see a reset rather than the 413 (Node does not linger).
 */
export function refuseBody(res: ServerResponse, message: string): void {
  res.statusCode = 413;
  res.setHeader('Connection', 'close');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${message}\n`);
}
