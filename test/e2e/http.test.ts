import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { buildApp } from '../../src/http/app';
import { HttpStats } from '../../src/http/http-stats';
import { silentLogger } from '../../src/log/logger';
import { MetricSet } from '../../src/metrics/metric-set';
import type { MetricFamily } from '../../src/metrics/types';
import { runCli, startExporterProcess } from '../helpers/exporter-process';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('exporter HTTP app (in process)', () => {
  const releases: Array<() => void> = [];
  let blockScrapes = false;
  let bigBody = false;
  const scrape = async (): Promise<MetricFamily[]> => {
    if (blockScrapes) await new Promise<void>((r) => releases.push(r));
    const set = new MetricSet().counter('demo_total', 'Demo.', 7, { q: 'a"b' });
    // ~1 MB of exposition: above the size that is compressed on the main thread.
    if (bigBody) for (let i = 0; i < 20_000; i++) set.gauge('demo_big', 'Big.', i, { series: `s${i}` });
    return set.families();
  };
  const stats = new HttpStats();
  let ready = true;
  let afterScrapes = 0;
  const app = buildApp({
    scrape,
    afterScrape: () => afterScrapes++,
    telemetryPath: '/metrics',
    maxRequests: 2,
    stats,
    logger: silentLogger(),
    isReady: () => ready,
    title: 'hostscope exporter',
    version: 'test',
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  let port = 0;
  beforeAll(async () => {
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('serves text format 0.0.4 by default', async () => {
    const r = await get(port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body.toString()).toContain('demo_total{q="a\\"b"} 7\n');
    expect(r.body.toString()).not.toContain('# EOF');
  });

  it('serves OpenMetrics when the Accept header asks for it', async () => {
    const r = await get(port, '/metrics', { Accept: 'application/openmetrics-text; version=1.0.0' });
    expect(r.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.body.toString()).toMatch(/# TYPE demo counter\n[^]*demo_total\{q="a\\"b"\} 7\n# EOF\n$/);
  });

  it('gzips when accepted, and not when gzip has q=0', async () => {
    const r = await get(port, '/metrics', { 'Accept-Encoding': 'gzip, deflate' });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.body).toString()).toContain('demo_total');
    const plain = await get(port, '/metrics', { 'Accept-Encoding': 'gzip;q=0' });
    expect(plain.headers['content-encoding']).toBeUndefined();
  });

  it('gzips a large body (compressed off the main thread) to the same bytes as the plain one', async () => {
    bigBody = true;
    try {
      const plain = await get(port, '/metrics');
      const zipped = await get(port, '/metrics', { 'Accept-Encoding': 'gzip' });
      expect(plain.body.length).toBeGreaterThan(256 * 1024);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    } finally {
      bigBody = false;
    }
  });

  it('runs afterScrape once per /metrics response, plain or gzipped, and for no other path', async () => {
    const before = afterScrapes;
    await get(port, '/metrics');
    await get(port, '/metrics', { 'Accept-Encoding': 'gzip' });
    await get(port, '/health');
    await get(port, '/nope');
    // 'finish' may come a moment after the client has the body.
    await new Promise((r) => setTimeout(r, 50));
    expect(afterScrapes - before).toBe(2);
  });

  it('ignores the query string, answers HEAD like GET without a body, and 404 to other methods', async () => {
    const r = await get(port, '/metrics?collect[]=cpu');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('demo_total');
    const head = await get(port, '/metrics', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(Number(head.headers['content-length'])).toBe(r.body.length);
    expect(head.body.length).toBe(0);
    expect((await get(port, '/metrics', {}, 'POST')).status).toBe(404);
    const health = await get(port, '/health');
    expect([health.headers['content-type'], health.body.toString()]).toEqual([
      'text/plain; charset=utf-8',
      'OK\n',
    ]);
  });

  it('answers 404 for unknown paths, and serves health, readiness and a landing page', async () => {
    expect((await get(port, '/nope')).status).toBe(404);
    expect((await get(port, '/health')).status).toBe(200);
    expect((await get(port, '/ready')).status).toBe(200);
    ready = false;
    expect((await get(port, '/ready')).status).toBe(503);
    ready = true;
    const landing = await get(port, '/');
    expect(landing.body.toString()).toContain('<a href="/metrics">');
  });

  it('answers 503 beyond --web.max-requests parallel scrapes', async () => {
    blockScrapes = true;
    const first = get(port, '/metrics');
    const second = get(port, '/metrics');
    while (stats.current < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await get(port, '/metrics');
    expect(third.status).toBe(503);
    blockScrapes = false;
    for (const r of releases.splice(0)) r();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });
});

describe('exporter process', () => {
  it('exits 0 on SIGTERM after finishing, and logs the shutdown', async () => {
    const exporter = await startExporterProcess(['--collector.disable-defaults', '--collector.loadavg']);
    const r = await get(exporter.port, '/metrics');
    expect(r.body.toString()).toContain('node_load1 ');
    expect(await exporter.stop('SIGTERM')).toBe(0);
    expect(exporter.output()).toContain('"msg":"shutting down"');
    expect(exporter.output()).toContain('"signal":"SIGTERM"');
  });

  it('exits 2 naming every invalid flag', async () => {
    const r = await runCli([
      'exporter',
      '--web.listen-address=x',
      '--collector.loadavg.bogus=1',
      '--log.format=xml',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--web.listen-address (env HOSTSCOPE_WEB_LISTEN_ADDRESS)');
    expect(r.stderr).toContain('unknown flag --collector.loadavg.bogus');
    expect(r.stderr).toContain('--log.format (env HOSTSCOPE_LOG_FORMAT)');
  });

  it('prints help and version', async () => {
    const help = await runCli(['exporter', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--web.listen-address');
    expect(help.stdout).toContain('--no-collector.loadavg');
    const version = await runCli(['--version']);
    expect(version.stdout).toMatch(/^hostscope \d+\.\d+\.\d+/);
  });
});

describe('landing page links (the sink embedding the exporter)', () => {
  it('gives them the host name the request was sent to, without its port', async () => {
    const hosts: string[] = [];
    const app = buildApp({
      scrape: async () => [],
      telemetryPath: '/metrics',
      maxRequests: 0,
      stats: new HttpStats(),
      logger: silentLogger(),
      isReady: () => true,
      title: 't',
      version: 'test',
      landingLinks: (host) => {
        hosts.push(host);
        return [{ href: `http://${host}:9101/`, text: 'Overview <live>' }];
      },
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const host of ['example.com:9100', '[::1]:9100', 'example.com', '[fe80::1]'])
        await get(port, '/', { Host: host });
      expect(hosts).toEqual(['example.com', '[::1]', 'example.com', '[fe80::1]']);
      const page = (await get(port, '/', { Host: 'web-1:9100' })).body.toString();
      expect(page).toContain('<a href="http://web-1:9101/">Overview &#60;live&#62;</a>');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('metric handler errors', () => {
  it('answers 500 when gathering fails, and counts it like promhttp', async () => {
    const stats = new HttpStats();
    const app = buildApp({
      scrape: async () => {
        throw new Error('boom');
      },
      telemetryPath: '/metrics',
      maxRequests: 0,
      stats,
      logger: silentLogger(),
      isReady: () => true,
      title: 't',
      version: 'test',
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const r = await get((server.address() as AddressInfo).port, '/metrics');
      expect(r.status).toBe(500);
      const families = await stats.collect();
      const value = (name: string, labels: Record<string, string>): number | undefined =>
        families
          .find((f) => f.name === name)
          ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      expect(value('promhttp_metric_handler_errors_total', { cause: 'gathering' })).toBe(1);
      expect(value('promhttp_metric_handler_errors_total', { cause: 'encoding' })).toBe(0);
      expect(value('promhttp_metric_handler_requests_total', { code: '500' })).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
