import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';

/** Where the Engine API listens (see connectionOptions in engine.parse.ts). */
export type EngineConnection =
  | { readonly socketPath: string }
  | { readonly host: string; readonly port: number; readonly protocol: 'http' | 'https' };

/** The engine answered with a status other than 2xx; `statusCode` 404 means "no such container". */
export class EngineApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(`(HTTP code ${statusCode}) ${message}`);
    this.name = 'EngineApiError';
  }
}

/** Largest JSON answer accepted (an inspect is a few kB, a list of 10,000 containers a few MB). */
const MAX_BODY_BYTES = 256 << 20;

/**
 * The few Engine API calls the docker collector makes (ping, info, list, inspect, one-shot stats and the
 * event stream), over node:http on the engine's unix socket or TCP. A general client (dockerode) loads
 * docker-modem, which loads ssh2 at the top level for ssh:// hosts: about 20 MB of resident memory
 * (ssh2's crypto allocates a 16 MB WebAssembly memory) for a transport hostscope never uses.
 * Paths carry no API version prefix, so the engine answers with its own version, as dockerode did.
 */
export class EngineClient {
  private readonly agent: http.Agent;

  constructor(private readonly conn: EngineConnection) {
    // Keep-alive: stats API polling makes many small requests. Idle pooled sockets are unref'd by Node.
    const opts = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16 };
    this.agent =
      'protocol' in conn && conn.protocol === 'https' ? new https.Agent(opts) : new http.Agent(opts);
  }

  async ping(signal: AbortSignal): Promise<void> {
    await this.text('/_ping', signal);
  }

  async info(signal: AbortSignal): Promise<unknown> {
    return this.json('/info', signal);
  }

  /** Every container, running or not (`/containers/json?all=true`). */
  async listContainers(signal: AbortSignal): Promise<unknown> {
    return this.json('/containers/json?all=true', signal);
  }

  async inspect(id: string, signal: AbortSignal): Promise<unknown> {
    return this.json(`/containers/${encodeURIComponent(id)}/json`, signal);
  }

  /** One stats sample; `one-shot` (API 1.41+) skips the second sample the engine otherwise waits for. */
  async stats(id: string, signal: AbortSignal): Promise<unknown> {
    return this.json(`/containers/${encodeURIComponent(id)}/stats?stream=false&one-shot=true`, signal);
  }

  /** The event stream (newline-delimited JSON) for the given filters; ends when the signal aborts. */
  async events(filters: Readonly<Record<string, readonly string[]>>, signal: AbortSignal): Promise<Readable> {
    const res = await this.request(`/events?filters=${encodeURIComponent(JSON.stringify(filters))}`, signal);
    if (isOk(res)) return res;
    throw await statusError(res);
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  private async json(path: string, signal: AbortSignal): Promise<unknown> {
    const text = await this.text(path, signal);
    return JSON.parse(text) as unknown;
  }

  private async text(path: string, signal: AbortSignal): Promise<string> {
    const res = await this.request(path, signal);
    if (!isOk(res)) throw await statusError(res);
    return readBody(res);
  }

  private request(path: string, signal: AbortSignal): Promise<http.IncomingMessage> {
    const c = this.conn;
    const target =
      'socketPath' in c
        ? { socketPath: c.socketPath }
        : { host: c.host, port: c.port, protocol: `${c.protocol}:` };
    const send = 'protocol' in c && c.protocol === 'https' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send({
        ...target,
        path,
        method: 'GET',
        agent: this.agent,
        signal,
        headers: { Accept: 'application/json' },
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end();
    });
  }
}

function isOk(res: http.IncomingMessage): boolean {
  const code = res.statusCode ?? 0;
  return code >= 200 && code < 300;
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.destroy(new Error(`Engine API answer larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('Engine API answer ended early'));
    });
  });
}

/** The engine's error message (`{"message": "..."}`) with the status code, as dockerode reported it. */
async function statusError(res: http.IncomingMessage): Promise<EngineApiError> {
  const code = res.statusCode ?? 0;
  let message = res.statusMessage ?? 'unexpected';
  try {
    const text = await readBody(res);
    try {
      const doc = JSON.parse(text) as unknown;
      if (typeof doc === 'object' && doc !== null && 'message' in doc && typeof doc.message === 'string')
        message = doc.message;
      else if (text.trim() !== '') message = text.trim();
    } catch {
      if (text.trim() !== '') message = text.trim();
    }
  } catch {
    // keep the status line
  }
  return new EngineApiError(code, message);
}
