import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';

export const CLI = path.join(__dirname, '../../../dist/cli.js');

export interface FixtureServer {
  readonly url: string;
  requests: number;
  close(): Promise<void>;
}

/** A tiny local HTTP server; `handler` gets the request count (1-based) and answers. */
export async function fixtureServer(
  handler: (n: number, req: IncomingMessage, res: ServerResponse) => void,
  urlPath = '/metrics',
): Promise<FixtureServer> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    handler(state.requests, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${urlPath}`,
    get requests() {
      return state.requests;
    },
    set requests(v: number) {
      state.requests = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function text(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end(body);
}

export interface CliProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * Runs `node dist/cli.js <args>` with JSON logs; the environment never leaks a DATABASE_URL in. A sink
 * given neither --buffer.dir nor --data.dir gets a temporary buffer directory of its own (removed when
 * it exits) rather than ./data/buffer, which concurrent tests would share.
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.HOSTSCOPE_DATABASE_URL;
  delete base.HOSTSCOPE_BUFFER_DIR;
  const own =
    args[0] === 'sink' &&
    !args.some((a) => a.startsWith('--buffer.dir') || a.startsWith('--data.dir')) &&
    env.HOSTSCOPE_BUFFER_DIR === undefined
      ? mkdtempSync(path.join(tmpdir(), 'hostscope-sink-buffer-'))
      : undefined;
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...base, ...(own === undefined ? {} : { HOSTSCOPE_BUFFER_DIR: own }), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (own !== undefined) child.once('exit', () => rmSync(own, { recursive: true, force: true }));
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m !== null) return m;
        if (child.exitCode !== null)
          throw new Error(`process exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${out}`);
        await sleep(50);
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true (or throws after the deadline). Not a timing assertion: a wait. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // the database may be down on purpose; keep waiting
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function query<R extends Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** JSON log lines of a process at level error. */
export function errorLines(output: string): string[] {
  return output.split('\n').filter((l) => l.includes('"level":"error"'));
}
