import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

/** Recorded Docker Engine API documents (test/fixtures/docker/api/<set>). */
export const API_FIXTURES = path.join(__dirname, '../fixtures/docker/api');

export function loadJson(set: string, file: string): unknown {
  return JSON.parse(readFileSync(path.join(API_FIXTURES, set, file), 'utf8')) as unknown;
}

type Json = Record<string, unknown>;

/**
 * Serves recorded Engine API JSON on a unix socket, for golden tests of the docker collector: the real
 * dockerode client and event handling run against deterministic answers. Tests change the recorded state
 * (`containers`, `inspect`) and push events to simulate what the real engine does. Integration tests use a
 * real Docker Engine; this replays what one answered.
 */
export class DockerReplay {
  readonly socketPath: string;
  readonly host: string;
  info: unknown;
  /** id -> inspect document; the container list is derived from it. */
  readonly inspect = new Map<string, Json>();
  /** id -> stats document. */
  readonly stats = new Map<string, unknown>();
  /** While set, inspect answers wait for it (an engine slow to answer while events go on). */
  inspectGate: Promise<void> | undefined;
  /** Inspect answers sent (written to the socket). */
  inspectsAnswered = 0;
  /** Requests received, as `METHOD /path` (without query and version prefix). */
  readonly requests: string[] = [];
  private readonly server: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly dir: string;

  private constructor(set: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-replay-'));
    this.socketPath = path.join(this.dir, 'docker.sock');
    this.host = `unix://${this.socketPath}`;
    this.info = loadJson(set, 'info.json');
    this.server = createServer((req, res) => this.handle(req.method ?? 'GET', req.url ?? '/', res));
  }

  /** Starts a replay of a fixture set; `inspect` names the inspect/stats fixture suffixes to load. */
  static async start(set: string, names: readonly string[]): Promise<DockerReplay> {
    const r = new DockerReplay(set);
    for (const name of names) {
      const doc = loadJson(set, `inspect-${name}.json`) as Json;
      const id = String(doc.Id);
      r.inspect.set(id, doc);
      try {
        r.stats.set(id, loadJson(set, `stats-${name}.json`));
      } catch {
        // no recorded stats for this container
      }
    }
    await new Promise<void>((resolve) => r.server.listen(r.socketPath, resolve));
    return r;
  }

  /** Writes one event to every open /events stream. */
  emit(event: Json): void {
    const line = `${JSON.stringify(event)}\n`;
    for (const s of this.streams) s.write(line);
  }

  /** An event like the engine's for a container action. */
  containerEvent(id: string, action: string): Json {
    const doc = this.inspect.get(id) ?? {};
    const name = typeof doc.Name === 'string' ? doc.Name.replace(/^\//, '') : '';
    const now = Date.now();
    return {
      status: action,
      id,
      Type: 'container',
      Action: action,
      Actor: { ID: id, Attributes: { name } },
      scope: 'local',
      time: Math.floor(now / 1000),
      timeNano: now * 1e6,
    };
  }

  /** Ends the open event streams (the engine went away). */
  dropStreams(): void {
    for (const s of this.streams) s.destroy();
    this.streams.clear();
  }

  /** Stops answering (the engine is down) but keeps the recorded state; `resume()` brings it back. */
  async pause(): Promise<void> {
    this.dropStreams();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async resume(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(method: string, url: string, res: ServerResponse): void {
    const p = url.split('?')[0]?.replace(/^\/v\d+\.\d+/, '') ?? '/';
    this.requests.push(`${method} ${p}`);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (p === '/_ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('OK');
      return;
    }
    if (p === '/info') return json(200, this.info);
    if (p === '/events') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    if (p === '/containers/json') {
      return json(
        200,
        [...this.inspect.values()].map((d) => ({
          Id: d.Id,
          Names: [d.Name],
          State: (d.State as Json | undefined)?.Status,
        })),
      );
    }
    const m = /^\/containers\/([^/]+)\/(json|stats)$/.exec(p);
    if (m !== null) {
      const id = [...this.inspect.keys()].find((k) => k === m[1] || k.startsWith(m[1] as string));
      if (id === undefined) return json(404, { message: `No such container: ${m[1] as string}` });
      if (m[2] === 'json') {
        // The document as it was when the request came (the engine's answer), sent once the gate opens.
        const doc = this.inspect.get(id);
        void (this.inspectGate ?? Promise.resolve()).then(() => {
          res.once('finish', () => this.inspectsAnswered++);
          json(200, doc);
        });
        return;
      }
      const stats = this.stats.get(id);
      return stats === undefined ? json(404, { message: 'no stats' }) : json(200, stats);
    }
    json(404, { message: `page not found: ${p}` });
  }
}
