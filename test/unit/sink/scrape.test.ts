import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ParseCache } from '../../../src/expfmt/parse';
import { scrapeTarget } from '../../../src/sink/scrape';

/** The scrape's HTTP client against real servers on 127.0.0.1: what Prometheus does, it does. */

const BODY = '# TYPE a gauge\na{x="1"} 1\na{x="2"} 2\n';

let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function scrape(path: string, bodyLimitBytes = 0): ReturnType<typeof scrapeTarget> {
  return scrapeTarget(
    { url: `${base}${path}`, instance: 'x', job: 'y' },
    { timeoutMs: 1000, bodyLimitBytes, cache: new ParseCache() },
  );
}

describe('scrapeTarget', () => {
  it('asks for gzip and the negotiated formats, and decodes a gzipped body', async () => {
    let headers: IncomingMessage['headers'] = {};
    handler = (req, res) => {
      headers = req.headers;
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Encoding': 'gzip' });
      res.end(gzipSync(BODY));
    };
    const out = await scrape('/metrics');
    expect(out.error).toBeUndefined();
    expect(out.families?.[0]?.samples.map((s) => s.value)).toEqual([1, 2]);
    expect(headers['accept-encoding']).toBe('gzip');
    expect(headers.accept).toContain('application/openmetrics-text');
  });

  it('follows redirects, and parses OpenMetrics when the target answers with it', async () => {
    handler = (req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { Location: '/new' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/openmetrics-text; version=1.0.0' });
      res.end('# TYPE c counter\nc_total 3\n# EOF\n');
    };
    const out = await scrape('/old');
    expect(out.error).toBeUndefined();
    expect(out.families?.map((f) => [f.name, f.type, f.samples[0]?.value])).toEqual([
      ['c_total', 'counter', 3],
    ]);
  });

  it('fails on a non-2xx status, a body over the limit, a slow target and a refused connection', async () => {
    handler = (_req, res) => {
      res.writeHead(503, 'Service Unavailable').end('down\n');
    };
    expect((await scrape('/')).error).toBe('server returned HTTP status 503 Service Unavailable');
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('a 1\n'.repeat(1000)); // no Content-Length: the limit applies while reading
      res.end('a 1\n'.repeat(1000));
    };
    expect((await scrape('/', 5000)).error).toBe('body larger than the limit of 5000 bytes');
    expect((await scrape('/', 10_000)).error).toBeUndefined();
    handler = (_req, res) => {
      setTimeout(() => res.end(BODY), 3000).unref();
    };
    expect((await scrape('/')).error).toBe('scrape timed out after 1000 ms');
    const refused = await scrapeTarget(
      { url: 'http://127.0.0.1:1/metrics', instance: 'x', job: 'y' },
      { timeoutMs: 1000, bodyLimitBytes: 0 },
    );
    expect(refused.error).toMatch(/ECONNREFUSED/);
  });
});
