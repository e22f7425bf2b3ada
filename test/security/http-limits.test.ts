import { connect, type Socket } from 'node:net';
import {
  CONNECTIONS_CHECK_MS,
  HEADERS_TIMEOUT_MS,
  MAX_HEADER_BYTES,
  REQUEST_TIMEOUT_MS,
} from '../../src/http/web-server';
import { startExporterProcess, type ExporterProcess } from '../helpers/exporter-process';
import { runCli, type CliProcess } from '../integration/sink/harness';

/**
 * Slow and oversized requests against every listener, the real processes: the exporter (`/metrics`,
 * `/health`, ...) and the sink (its `/metrics` and `/health`, remote write, remote read, the
 * Alertmanager webhook, the JSON API). Every connection below is cut by the server within its bound
 * (src/http/web-server.ts, docs/security.md), give or take Node's check interval and SLACK_MS for a
 * loaded machine; none needs the client to give up:
 *   - headers sent a byte at a time (slowloris): cut after HEADERS_TIMEOUT_MS, with 408;
 *   - a body sent a byte at a time, to every route: cut after REQUEST_TIMEOUT_MS;
 *   - an endless body to a GET route, which the server answers without reading: cut likewise;
 *   - headers over MAX_HEADER_BYTES: 431, and the connection closes;
 * and while a hundred slow connections hang on each listener, both still answer /health at once.
 */

const SLACK_MS = 5_000;

let exporter: ExporterProcess;
let sink: CliProcess;
let sinkPort: number;

interface Listener {
  readonly name: string;
  port(): number;
  readonly get: readonly string[];
  readonly post: readonly string[];
}

const LISTENERS: readonly Listener[] = [
  { name: 'exporter', port: () => exporter.port, get: ['/metrics', '/health', '/'], post: ['/metrics'] },
  {
    name: 'sink',
    port: () => sinkPort,
    get: ['/metrics', '/health', '/api/v1/series?metric=up', '/api/v1/overview'],
    post: ['/api/v1/write', '/api/v1/read', '/api/v1/alertmanager'],
  },
];

interface Outcome {
  /** Milliseconds from the first byte sent until the server closed the connection. */
  readonly closedAfterMs: number;
  /** What the server sent, as latin1. */
  readonly received: string;
}

/**
 * Opens a connection, sends `head`, then one byte of `drip` every `everyMs` (or `burst` bytes at a time)
 * until the server closes the connection; gives up (rejects) after `giveUpMs`.
 */
function drip(
  port: number,
  head: string,
  opts: { everyMs: number; burst?: number; giveUpMs: number; byte?: string },
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write((opts.byte ?? 'a').repeat(opts.burst ?? 1));
      }, opts.everyMs);
    });
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(
        new Error(`the server kept the connection for ${opts.giveUpMs} ms: ${head.split('\r\n')[0] ?? ''}`),
      );
    }, opts.giveUpMs);
    socket.once('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, received });
    });
  });
}

beforeAll(async () => {
  exporter = await startExporterProcess(['--collector.disable-defaults', '--collector.loadavg']);
  // No database is needed to hold connections open: the sink buffers while it is unreachable.
  sink = runCli([
    'sink',
    '--scrape.target=',
    '--web.listen-address=127.0.0.1:0',
    '--web.enable-remote-write-receiver',
    '--web.enable-remote-read',
    '--web.enable-alertmanager-webhook',
    '--database.url=postgres://hostscope@127.0.0.1:1/none',
    '--maintain.schedule=',
  ]);
  sinkPort = Number((await sink.waitFor(/"port":(\d+)[^\n]*"msg":"hostscope sink started"/))[1]);
}, 60_000);

afterAll(async () => {
  await exporter?.stop();
  if (sink !== undefined && sink.child.exitCode === null) {
    sink.child.kill('SIGTERM');
    await sink.exited;
  }
});

const report: string[] = [];
afterAll(() => {
  // The observed bounds, for docs/security.md.
  process.stdout.write(`http limits observed:\n${report.join('\n')}\n`);
});

describe('every listener bounds slow and oversized requests', () => {
  it('cuts headers sent a byte at a time (slowloris) after the headers timeout, with 408', async () => {
    const runs = LISTENERS.flatMap((l) =>
      [...l.get.map((p) => `GET ${p}`), ...l.post.map((p) => `POST ${p}`)].map(async (line) => {
        const o = await drip(l.port(), `${line} HTTP/1.1\r\nHost: x\r\nX-Slow: `, {
          everyMs: 500,
          giveUpMs: HEADERS_TIMEOUT_MS + CONNECTIONS_CHECK_MS + SLACK_MS * 3,
        });
        report.push(`${l.name} ${line}: slow headers cut after ${o.closedAfterMs} ms`);
        expect(o.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + CONNECTIONS_CHECK_MS + SLACK_MS);
        expect(o.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1000);
        if (o.received !== '') expect(o.received).toMatch(/^HTTP\/1\.1 408 /);
      }),
    );
    await Promise.all(runs);
  }, 60_000);

  it('cuts a body sent a byte at a time (every route), and an endless body to a GET route, after the request timeout', async () => {
    const slow = LISTENERS.flatMap((l) =>
      [...l.post.map((p) => `POST ${p}`), ...l.get.map((p) => `GET ${p}`)].map(async (line) => {
        const o = await drip(
          l.port(),
          `${line} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: 100000\r\n\r\n`,
          { everyMs: 500, giveUpMs: REQUEST_TIMEOUT_MS + CONNECTIONS_CHECK_MS + SLACK_MS * 3 },
        );
        report.push(`${l.name} ${line}: slow body cut after ${o.closedAfterMs} ms`);
        expect(o.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CONNECTIONS_CHECK_MS + SLACK_MS);
      }),
    );
    // A GET is answered without reading its body, which the server then reads and throws away:
    // 64 KiB every 50 ms, about 1.3 MB/s, without end.
    const endless = LISTENERS.map(async (l) => {
      const o = await drip(
        l.port(),
        'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n',
        {
          everyMs: 50,
          burst: 65_536,
          giveUpMs: REQUEST_TIMEOUT_MS + CONNECTIONS_CHECK_MS + SLACK_MS * 3,
        },
      );
      report.push(`${l.name} GET /health with an endless body: cut after ${o.closedAfterMs} ms`);
      expect(o.received).toMatch(/^HTTP\/1\.1 200 /);
      expect(o.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + CONNECTIONS_CHECK_MS + SLACK_MS);
    });
    await Promise.all([...slow, ...endless]);
  }, 120_000);

  it('answers headers over the limit with 431 and closes the connection', async () => {
    for (const l of LISTENERS)
      for (const head of [
        `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES + 1024)}\r\n\r\n`,
        `POST ${l.post[0] ?? '/'} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${'b'.repeat(16)}\r\n`).join('')}\r\n`,
      ]) {
        const o = await drip(l.port(), head, { everyMs: 60_000, giveUpMs: 10_000 });
        expect({ listener: l.name, status: o.received.slice(0, 12) }).toEqual({
          listener: l.name,
          status: 'HTTP/1.1 431',
        });
      }
  });

  it('still answers /health at once while a hundred slow connections hang on each listener', async () => {
    const sockets: Socket[] = [];
    try {
      for (const l of LISTENERS)
        for (let i = 0; i < 100; i++) {
          const s = connect(l.port(), '127.0.0.1', () =>
            s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: '),
          );
          s.on('error', () => undefined);
          sockets.push(s);
        }
      await new Promise((r) => setTimeout(r, 500));
      for (const l of LISTENERS) {
        const res = await fetch(`http://127.0.0.1:${l.port()}/health`, {
          signal: AbortSignal.timeout(5_000),
        });
        expect(res.status).toBe(200);
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 30_000);
});
