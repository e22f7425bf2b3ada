/**
 * The overview page in a real browser (Debian's Chromium, driven by puppeteer-core), against the built
 * sink (`node dist/cli.js sink --exporter.embedded`) scraping its real embedded exporter every 2 s into a
 * private PostgreSQL that `hostscope seed` filled with 10 days of two synthetic hosts and their alerts.
 * Every chart must draw data: its uPlot data arrays hold values, and its canvas has coloured pixels (the
 * series strokes; the grid is grey). Live updates must arrive, the history ranges must switch the data's
 * time span, zoom and its reset must work, and the page must reconnect by itself when the sink is killed
 * and started again on the same port.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { Client } from 'pg';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CLI, runCli } from '../helpers/exporter-process';
import { freePort } from '../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../helpers/postgres';
import { describeWithService } from '../helpers/services';
import { runCli as runSink, sleep, type CliProcess } from '../integration/sink/harness';

const CHROMIUM = '/usr/bin/chromium';
const PUBLIC = path.join(__dirname, '../../dist/web/public/index.html');
const available = (): boolean =>
  hasPostgres() && existsSync(CLI) && existsSync(CHROMIUM) && existsSync(PUBLIC);

/*
 * What the callbacks of page.evaluate use on the browser side. Declared here rather than taken from
 * lib.dom, which would change the types of Node's globals for the whole project.
 */
interface BrowserCanvas {
  readonly canvas: { readonly width: number; readonly height: number };
  getImageData(x: number, y: number, w: number, h: number): { readonly data: ArrayLike<number> };
}
interface BrowserElement {
  readonly id: string;
  readonly tagName: string;
  readonly hidden: boolean;
  readonly scrollWidth: number;
  readonly dataset: Record<string, string>;
}
declare const window: {
  readonly innerWidth: number;
  readonly hostscope: {
    charts: Record<
      string,
      Map<string, { plot?: { data: (number | null)[][]; ctx: BrowserCanvas; series: { label?: unknown }[] } }>
    >;
  };
};
declare const document: {
  readonly body: BrowserElement;
  readonly documentElement: BrowserElement;
  readonly activeElement: BrowserElement | null;
};
declare function getComputedStyle(e: unknown): { outlineStyle: string; backgroundColor: string };

const CHART_IDS = ['cpu', 'memory', 'load', 'filesystems', 'network', 'disk'] as const;
const SEED_HOST = 'seed-host-01:9100';

/**
 * A host with more series than one `/api/v1/series` answer may hold (200): 250 network devices (and `lo`),
 * 250 disks and 250 filesystems, over the last two hours at 60 s, imported with `hostscope import`.
 * Device i moves (i + 1) × 100 B/s in and half that out, reads (i + 1) × 10 and writes (i + 1) × 20 B/s;
 * `lo` moves 1 GB/s and must be left out; filesystem /mnt/v<i> is 10 + 80 × i / 249 % used, so the
 * fullest five are v249 .. v245.
 */
const MANY_HOST = 'many-devices:9100';
const MANY = 250;
const sumTo = (k: number): number => (k * (k + 1)) / 2;
const MANY_RATES = {
  rx: 100 * sumTo(MANY),
  tx: 50 * sumTo(MANY),
  read: 10 * sumTo(MANY),
  written: 20 * sumTo(MANY),
};
const manyUsed = (i: number): number => 10 + (80 * i) / (MANY - 1);
function manyDevicesFile(nowMs: number): string {
  const out: string[] = [];
  const start = Math.floor((nowMs - 2 * 3_600_000) / 60_000) * 60_000;
  const pad = (i: number): string => String(i).padStart(3, '0');
  for (let t = start; t <= nowMs - 60_000; t += 60_000) {
    const s = (t - start) / 1000;
    const family = (name: string, type: string, lines: string[]): void => {
      out.push(`# TYPE ${name} ${type}`, ...lines);
    };
    const per = (f: (i: number) => string): string[] => Array.from({ length: MANY }, (_, i) => f(i));
    family('node_network_receive_bytes_total', 'counter', [
      ...per(
        (i) => `node_network_receive_bytes_total{device="veth${pad(i)}"} ${1e6 + (i + 1) * 100 * s} ${t}`,
      ),
      `node_network_receive_bytes_total{device="lo"} ${1e9 * s} ${t}`,
    ]);
    family('node_network_transmit_bytes_total', 'counter', [
      ...per((i) => `node_network_transmit_bytes_total{device="veth${pad(i)}"} ${(i + 1) * 50 * s} ${t}`),
      `node_network_transmit_bytes_total{device="lo"} ${1e9 * s} ${t}`,
    ]);
    family(
      'node_disk_read_bytes_total',
      'counter',
      per((i) => `node_disk_read_bytes_total{device="sd${pad(i)}"} ${(i + 1) * 10 * s} ${t}`),
    );
    family(
      'node_disk_written_bytes_total',
      'counter',
      per((i) => `node_disk_written_bytes_total{device="sd${pad(i)}"} ${(i + 1) * 20 * s} ${t}`),
    );
    const fs = (i: number): string => `device="/dev/vd${pad(i)}",fstype="ext4",mountpoint="/mnt/v${pad(i)}"`;
    family(
      'node_filesystem_size_bytes',
      'gauge',
      per((i) => `node_filesystem_size_bytes{${fs(i)}} 1e12 ${t}`),
    );
    family(
      'node_filesystem_avail_bytes',
      'gauge',
      per((i) => `node_filesystem_avail_bytes{${fs(i)}} ${1e12 * (1 - manyUsed(i) / 100)} ${t}`),
    );
    out.push('');
  }
  return out.join('\n');
}

interface ChartState {
  id: string;
  drawn: boolean;
  points: number;
  valued: number;
  coloured: number;
  firstX: number | null;
  lastX: number | null;
}

/** What every chart of a view holds and shows: read from uPlot's data and its canvas pixels. */
async function chartStates(page: Page, view: 'live' | 'history'): Promise<ChartState[]> {
  return page.evaluate((v) => {
    const charts = window.hostscope.charts[v];
    return [...(charts?.entries() ?? [])].map(([id, chart]) => {
      const plot = chart.plot;
      if (plot === undefined)
        return { id, drawn: false, points: 0, valued: 0, coloured: 0, firstX: null, lastX: null };
      const xs = plot.data[0] ?? [];
      const valued = Math.max(0, ...plot.data.slice(1).map((s) => s.filter((x) => x !== null).length));
      const { width, height } = plot.ctx.canvas;
      const px = plot.ctx.getImageData(0, 0, width, height).data;
      let coloured = 0;
      for (let i = 0; i < px.length; i += 4) {
        const r = px[i] ?? 0;
        const g = px[i + 1] ?? 0;
        const b = px[i + 2] ?? 0;
        if ((px[i + 3] ?? 0) > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
      return {
        id,
        drawn: true,
        points: xs.length,
        valued,
        coloured,
        firstX: xs[0] ?? null,
        lastX: xs[xs.length - 1] ?? null,
      };
    });
  }, view);
}

/** A chart's series labels and values (uPlot's data), to compare with what the database holds. */
async function chartData(
  page: Page,
  view: 'live' | 'history',
  id: string,
): Promise<{ labels: string[]; x: number[]; values: (number | null)[][] }> {
  return page.evaluate(
    (v, chartId) => {
      const plot = window.hostscope.charts[v]?.get(chartId)?.plot;
      if (plot === undefined) return { labels: [], x: [], values: [] };
      return {
        labels: plot.series.slice(1).map((s) => String(s.label)),
        x: (plot.data[0] ?? []) as number[],
        values: plot.data.slice(1),
      };
    },
    view,
    id,
  );
}

async function waitForCharts(
  page: Page,
  view: 'live' | 'history',
  ids: readonly string[],
  minColoured = 20,
  timeoutMs = 60_000,
): Promise<ChartState[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await chartStates(page, view);
    const ok = ids.every((id) => {
      const s = states.find((x) => x.id === id);
      return s !== undefined && s.drawn && s.points >= 2 && s.valued >= 2 && s.coloured >= minColoured;
    });
    if (ok) return states;
    if (Date.now() > deadline)
      throw new Error(
        `${view} charts did not all draw data: ${JSON.stringify(states.filter((s) => ids.includes(s.id)))}`,
      );
    await sleep(250);
  }
}

async function dataset(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => ({ ...document.body.dataset }) as Record<string, string>);
}

async function waitForDataset(
  page: Page,
  check: (d: Record<string, string>) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await dataset(page);
    if (check(d)) return d;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(d)}`);
    await sleep(200);
  }
}

describeWithService('PostgreSQL, Chromium and a built dist/', available, 'overview page in a browser', () => {
  let pg: PgServer;
  let sink: CliProcess;
  let browser: Browser;
  let base: string;
  let sinkArgs: string[];
  let exporterPort: number;
  const work = mkdtempSync(path.join(tmpdir(), 'hs-page-'));

  const startSink = async (): Promise<void> => {
    sink = runSink(sinkArgs);
    await sink.waitFor(/hostscope sink started/, 60_000);
  };

  beforeAll(async () => {
    pg = await startPostgres();
    const seed = await runCli([
      'seed',
      '--hosts=2',
      '--days=10',
      '--seed.interval=5m',
      `--database.url=${pg.url}`,
      '--log.level=warn',
    ]);
    if (seed.code !== 0) throw new Error(`seed failed: ${seed.stderr}`);
    const manyFile = path.join(work, 'many-devices.prom');
    writeFileSync(manyFile, manyDevicesFile(Date.now()));
    const imported = await runCli([
      'import',
      `--database.url=${pg.url}`,
      `--label.instance=${MANY_HOST}`,
      '--log.level=warn',
      manyFile,
    ]);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}${imported.stdout}`);
    const port = await freePort();
    exporterPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    sinkArgs = [
      'sink',
      '--exporter.embedded',
      `--exporter.listen-address=127.0.0.1:${exporterPort}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--database.url=${pg.url}`,
      '--scrape.interval=2s',
      '--maintain.schedule=',
    ];
    await startSink();
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        `--user-data-dir=${path.join(work, 'chrome')}`,
      ],
    });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    sink?.child.kill('SIGTERM');
    await sink?.exited;
    await pg?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  const open = async (hash: string, opts: { width?: number; dark?: boolean } = {}): Promise<Page> => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    (page as Page & { errors?: string[] }).errors = errors;
    await page.emulateMediaFeatures([
      { name: 'prefers-color-scheme', value: opts.dark === true ? 'dark' : 'light' },
    ]);
    await page.setViewport({ width: opts.width ?? 1280, height: 900 });
    await page.goto(`${base}/#${hash}`, { waitUntil: 'load' });
    return page;
  };

  it('serves the page and its assets compressed, well under 300 kB, from no other origin', async () => {
    const res = await fetch(`${base}/`, { headers: { 'Accept-Encoding': 'br' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBe(2);
    expect(html).not.toMatch(/https?:\/\//);
    let brotli = Number(res.headers.get('content-length'));
    const gzIndex = await fetch(`${base}/`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gzIndex.headers.get('content-encoding')).toBe('gzip');
    let gzip = Number(gzIndex.headers.get('content-length'));
    for (const a of assets) {
      const br = await fetch(`${base}/${a}`, { headers: { 'Accept-Encoding': 'br' } });
      expect(br.headers.get('content-encoding')).toBe('br');
      expect(br.headers.get('cache-control')).toContain('immutable');
      brotli += Number(br.headers.get('content-length'));
      const gz = await fetch(`${base}/${a}`, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(gz.headers.get('content-encoding')).toBe('gzip');
      gzip += Number(gz.headers.get('content-length'));
      const plain = await fetch(`${base}/${a}`, { headers: { 'Accept-Encoding': 'identity' } });
      expect(plain.headers.get('content-encoding')).toBeNull();
    }
    // The initial load: index.html + script + stylesheet (the stream and API answers come after).
    expect(brotli).toBeLessThan(300_000);
    expect(gzip).toBeLessThan(300_000);
    process.stdout.write(`overview page initial load: ${brotli} bytes brotli, ${gzip} bytes gzip\n`);
    expect((await fetch(`${base}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/live?bogus=1`)).status).toBe(400);
  });

  it("links the embedded exporter's landing page to the overview", async () => {
    const landing = await (await fetch(`http://127.0.0.1:${exporterPort}/`)).text();
    expect(landing).toContain(`href="${base}/"`);
  });

  it('live: every chart draws the real exporter data, and updates arrive after each scrape', async () => {
    const page = await open('tab=live');
    const states = await waitForCharts(page, 'live', CHART_IDS);
    const before = states.find((s) => s.id === 'cpu')?.lastX ?? 0;
    const t0 = Number((await dataset(page)).liveTime);
    expect(t0).toBeGreaterThan(Date.now() / 1000 - 60);
    await waitForDataset(page, (d) => Number(d.liveTime) > t0, 'a newer live update');
    const after = await waitForCharts(page, 'live', CHART_IDS);
    expect(after.find((s) => s.id === 'cpu')?.lastX ?? 0).toBeGreaterThan(before);
    const status = await page.$eval('#status', (e) => e.textContent ?? '');
    expect(status).toMatch(/^Live · updated \d\d:\d\d:\d\d$/);
    // The tables: the filesystems of this machine, with the forecast column.
    const fsRows = await page.$$eval('#fs-table tbody tr', (rows) => rows.length);
    expect(fsRows).toBeGreaterThan(0);
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('live: a fresh sink at the default interval draws every live chart after its first scrape round, before its second', async () => {
    // A fresh start as `npm start` makes it: an empty database, the embedded exporter, the default scrape
    // interval (15 s). Rates (CPU by mode, throughput) need two scrapes and a chart two points, so the
    // charts must have them from the first round alone. When is read from the sink's own counters, not
    // from a clock: the first round is written (samples_written > 0 with scrape_rounds 1), and the charts
    // draw while scrape_rounds is still 1 (the second round has not started).
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE fresh_start');
    await admin.end();
    const freshUrl = pg.url.replace(/\/postgres$/, '/fresh_start');
    const port = await freePort();
    const fresh = runSink([
      'sink',
      '--exporter.embedded',
      `--exporter.listen-address=127.0.0.1:${await freePort()}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--database.url=${freshUrl}`,
    ]);
    try {
      const started = await fresh.waitFor(/^.*hostscope sink started.*$/m, 60_000);
      expect((JSON.parse(started[0]) as { interval?: number }).interval).toBe(15_000);
      const url = `http://127.0.0.1:${port}`;
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`${url}/#tab=live`, { waitUntil: 'load' });
      const counters = async (): Promise<{ rounds: number; written: number }> => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const one = (name: string): number =>
          Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
        return {
          rounds: one('hostscope_sink_scrape_rounds_total'),
          written: one('hostscope_sink_samples_written_total'),
        };
      };
      // The first round, written.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const c = await counters();
        expect(c.rounds).toBeLessThanOrEqual(1);
        if (c.rounds === 1 && c.written > 0) break;
        if (Date.now() > deadline) throw new Error(`the first round was not written: ${JSON.stringify(c)}`);
        await sleep(200);
      }
      // Every live chart draws, before the second round starts.
      for (;;) {
        const states = await chartStates(page, 'live');
        const drawn = CHART_IDS.every((id) => {
          const s = states.find((x) => x.id === id);
          return s !== undefined && s.drawn && s.points >= 2 && s.valued >= 2 && s.coloured >= 20;
        });
        const c = await counters();
        if (drawn) {
          expect(c.rounds).toBe(1);
          break;
        }
        if (c.rounds >= 2)
          throw new Error(
            `the second scrape round started before every live chart drew: ${JSON.stringify(states)}`,
          );
        await sleep(200);
      }
      expect((page as Page & { errors?: string[] }).errors ?? []).toEqual([]);
      await page.close();
    } finally {
      fresh.child.kill('SIGTERM');
      await fresh.exited;
    }
  }, 120_000);

  it('history: the range buttons switch the data range (seeded host), with raw and hourly sources', async () => {
    const page = await open(`tab=history&host=${SEED_HOST}&range=1h`);
    const seeded = ['cpu', 'memory', 'load', 'filesystems', 'network'];
    const spans: Record<string, number> = {};
    for (const [range, seconds] of [
      ['1h', 3600],
      ['24h', 86_400],
      ['7d', 7 * 86_400],
      ['30d', 30 * 86_400],
    ] as const) {
      const previous = (await dataset(page)).historyFrom;
      await page.click(`#ranges button[data-range="${range}"]`);
      const d = await waitForDataset(
        page,
        (x) =>
          x.historyState === 'ready' &&
          x.historyFrom !== previous &&
          Number(x.historyTo) - Number(x.historyFrom) === seconds,
        `history ${range}`,
      );
      const pressed = await page.$eval(`#ranges button[data-range="${range}"]`, (b) =>
        b.getAttribute('aria-pressed'),
      );
      expect(pressed).toBe('true');
      const states = await waitForCharts(page, 'history', seeded);
      const cpu = states.find((s) => s.id === 'cpu');
      const span = (cpu?.lastX ?? 0) - (cpu?.firstX ?? 0);
      expect(cpu?.firstX ?? 0).toBeGreaterThanOrEqual(Number(d.historyFrom) - 3600);
      expect(span).toBeLessThanOrEqual(seconds);
      spans[range] = span;
      const info = await page.$eval('#history-info', (e) => e.textContent ?? '');
      expect(info).toContain(range === '30d' ? 'hourly rollups' : 'raw samples');
    }
    // The seeded history is 10 days long: each longer range shows more of it.
    expect(spans['1h']).toBeGreaterThan(1800);
    expect(spans['24h']).toBeGreaterThan(20 * 3600);
    expect(spans['7d']).toBeGreaterThan(6 * 86_400);
    expect(spans['30d']).toBeGreaterThan(8 * 86_400);
    expect(spans['30d']).toBeGreaterThan(spans['7d'] ?? 0);
    await page.close();
  }, 180_000);

  it('history: container CPU and memory charts of a seeded host, its busiest containers first, raw and hourly', async () => {
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    try {
      const page = await open(`tab=history&host=${SEED_HOST}&range=24h`);
      for (const [range, seconds, table, cpu, mem] of [
        ['24h', 86_400, 'container_usage', 'cpu_percent', 'memory_usage_bytes'],
        ['30d', 30 * 86_400, 'container_usage_hourly', 'cpu_percent_avg', 'memory_usage_bytes_avg'],
      ] as const) {
        await page.click(`#ranges button[data-range="${range}"]`);
        const d = await waitForDataset(
          page,
          (x) => x.historyState === 'ready' && Number(x.historyTo) - Number(x.historyFrom) === seconds,
          `history ${range}`,
        );
        await waitForCharts(page, 'history', ['containers_cpu', 'containers_memory']);
        // The seeded host's three containers, in the order of their average over the range.
        const ranked = async (column: string): Promise<string[]> =>
          (
            await db.query<{ container: string }>(
              `SELECT container FROM hostscope.${table}
                WHERE instance = $1 AND time >= to_timestamp($2) AND time < to_timestamp($3)
                GROUP BY 1 ORDER BY avg(${column}) DESC`,
              [SEED_HOST, Number(d.historyFrom), Number(d.historyTo)],
            )
          ).rows.map((r) => r.container);
        const cpuChart = await chartData(page, 'history', 'containers_cpu');
        const memChart = await chartData(page, 'history', 'containers_memory');
        expect(cpuChart.labels).toEqual(await ranked(cpu));
        expect(memChart.labels).toEqual(await ranked(mem));
        expect(cpuChart.labels.length).toBe(3);
        // CPU is a share of the host (0-100), memory in bytes (the seed's working sets are 0.1-1.5 GiB).
        const cpuValues = cpuChart.values.flat().filter((v): v is number => v !== null);
        expect(Math.min(...cpuValues)).toBeGreaterThan(0);
        expect(Math.max(...cpuValues)).toBeLessThan(100);
        const memValues = memChart.values.flat().filter((v): v is number => v !== null);
        expect(Math.min(...memValues)).toBeGreaterThan(50 * 2 ** 20);
        expect(Math.max(...memValues)).toBeLessThan(2 * 2 ** 30);
        const info = await page.$eval('#history-info', (e) => e.textContent ?? '');
        expect(info).toContain(range === '30d' ? 'hourly rollups' : 'raw samples');
      }
      await page.close();
    } finally {
      await db.end();
    }
  }, 120_000);

  it('history: a host with more than 200 network, disk and filesystem series draws them all, summed on the server', async () => {
    // One series answer could not hold them (the page used to get 400s and draw nothing).
    const refused = await fetch(
      `${base}/api/v1/series?metric=node_network_receive_bytes_total&match%5Binstance%5D=${encodeURIComponent(MANY_HOST)}`,
    );
    expect(refused.status).toBe(400);
    const page = await open(`tab=history&host=${MANY_HOST}&range=1h`);
    for (const [range, seconds] of [
      ['1h', 3600],
      ['24h', 86_400],
    ] as const) {
      await page.click(`#ranges button[data-range="${range}"]`);
      await waitForDataset(
        page,
        (x) => x.historyState === 'ready' && Number(x.historyTo) - Number(x.historyFrom) === seconds,
        `history ${range}`,
      );
      await waitForCharts(page, 'history', ['network', 'disk', 'filesystems']);
      const near = (values: (number | null)[] | undefined, expected: number): void => {
        const v = (values ?? []).filter((x): x is number => x !== null);
        expect(v.length).toBeGreaterThanOrEqual(2);
        for (const x of v) expect(Math.abs(x / expected - 1)).toBeLessThan(0.01);
      };
      // Every device summed (lo left out): the rates the import was made with.
      const net = await chartData(page, 'history', 'network');
      expect(net.labels).toEqual(['receive', 'transmit']);
      near(net.values[0], MANY_RATES.rx);
      near(net.values[1], MANY_RATES.tx);
      const disk = await chartData(page, 'history', 'disk');
      near(disk.values[0], MANY_RATES.read);
      near(disk.values[1], MANY_RATES.written);
      // The five fullest of 250 filesystems, fullest first, at their used %.
      const fs = await chartData(page, 'history', 'filesystems');
      expect(fs.labels).toEqual(['/mnt/v249', '/mnt/v248', '/mnt/v247', '/mnt/v246', '/mnt/v245']);
      fs.values.forEach((v, k) => {
        const x = (v ?? []).filter((y): y is number => y !== null);
        expect(x.length).toBeGreaterThanOrEqual(2);
        for (const y of x) expect(y).toBeCloseTo(manyUsed(MANY - 1 - k), 6);
      });
    }
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('history: drag-zoom narrows the range and loads it once, Shift+drag and Earlier pan it, double-click resets it', async () => {
    const page = await open(`tab=history&host=${SEED_HOST}&range=7d`);
    await waitForDataset(
      page,
      (x) => x.historyState === 'ready' && Number(x.historyTo) - Number(x.historyFrom) === 7 * 86_400,
      'history 7d',
    );
    await waitForCharts(page, 'history', ['load']);
    const over = await page.$('figure[data-chart="load"] .u-over');
    const box = await over?.boundingBox();
    if (box === null || box === undefined) throw new Error('no plot area');
    const y = box.y + box.height / 2;
    // The selection is synchronised to every chart, and each reports it: the span must load once.
    const cpuLoads: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('api/v1/rates?metric=node_cpu_seconds_total')) cpuLoads.push(r.url());
    });
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
    await page.mouse.up();
    const zoomed = await waitForDataset(
      page,
      (x) => x.historyState === 'ready' && Number(x.historyTo) - Number(x.historyFrom) < 2 * 86_400,
      'the zoomed range',
    );
    expect(Number(zoomed.historyTo) - Number(zoomed.historyFrom)).toBeGreaterThan(3600);
    expect(cpuLoads.length).toBe(1);
    expect(await page.$eval('#zoom-reset', (b) => (b as unknown as BrowserElement).hidden)).toBe(false);
    const states = await waitForCharts(page, 'history', ['load']);
    const load = states.find((s) => s.id === 'load');
    expect((load?.firstX ?? 0) >= Number(zoomed.historyFrom) - 1).toBe(true);
    // Shift+drag pans: dragging to the left shows later times, the span let go at is loaded.
    const span = Number(zoomed.historyTo) - Number(zoomed.historyFrom);
    const before = Number(zoomed.historyFrom);
    const x0 =
      (await page.evaluate(() => window.hostscope.charts.history?.get('load')?.plot?.data[0]?.[0])) ?? 0;
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.5, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, y, { steps: 5 });
    // While dragging, the charts already show the new span (with the data they have).
    const during = await page.evaluate(() => document.body.dataset.historyFrom);
    expect(Number(during)).toBe(before);
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const panned = await waitForDataset(
      page,
      (x) => x.historyState === 'ready' && Number(x.historyFrom) > before,
      'the panned span',
    );
    expect(Number(panned.historyTo) - Number(panned.historyFrom)).toBeCloseTo(span, -1);
    const shift = Number(panned.historyFrom) - before;
    expect(shift).toBeGreaterThan(0.1 * span);
    expect(shift).toBeLessThan(0.3 * span);
    await waitForCharts(page, 'history', ['load']);
    const x1 =
      (await page.evaluate(() => window.hostscope.charts.history?.get('load')?.plot?.data[0]?.[0])) ?? 0;
    expect(x1).toBeGreaterThan(x0);
    // Earlier / Later: half a span each way, by keyboard too.
    expect(await page.$eval('#pan-earlier', (b) => (b as unknown as BrowserElement).hidden)).toBe(false);
    await page.focus('#pan-earlier');
    await page.keyboard.press('Enter');
    const earlier = await waitForDataset(
      page,
      (x) => x.historyState === 'ready' && Number(x.historyFrom) < Number(panned.historyFrom),
      'half a span earlier',
    );
    expect(Number(panned.historyFrom) - Number(earlier.historyFrom)).toBeCloseTo(span / 2, -1);
    await page.mouse.click(box.x + box.width * 0.5, y, { clickCount: 2 });
    await waitForDataset(
      page,
      (x) => x.historyState === 'ready' && Number(x.historyTo) - Number(x.historyFrom) === 7 * 86_400,
      'the whole range again',
    );
    expect(await page.$eval('#pan-earlier', (b) => (b as unknown as BrowserElement).hidden)).toBe(true);
    await page.close();
  }, 120_000);

  it('history: every chart draws for the live host (its real disk and network counters included)', async () => {
    const page = await open('tab=history&range=1h');
    await waitForDataset(page, (x) => x.historyState === 'ready', 'history of the live host');
    // Raw buckets of 6 s: two scrapes make two points; reload until the sink has written enough.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const states = await chartStates(page, 'history');
      if (CHART_IDS.every((id) => (states.find((s) => s.id === id)?.valued ?? 0) >= 2)) break;
      if (Date.now() > deadline)
        throw new Error(`history charts of the live host: ${JSON.stringify(states)}`);
      await sleep(3000);
      await page.click('#ranges button[data-range="1h"]');
      await waitForDataset(page, (x) => x.historyState === 'ready', 'history reload');
    }
    // A few seconds of data in an hour-wide chart: a short stroke at its right end, still drawn.
    await waitForCharts(page, 'history', CHART_IDS, 1);
    await page.close();
  }, 120_000);

  it('alerts: the seeded firing and resolved alerts, per host or for all', async () => {
    const page = await open(`tab=alerts&host=${SEED_HOST}`);
    await waitForDataset(page, (x) => x.alertsState === 'ready', 'alerts');
    const firing = await page.$eval('#alerts-firing', (e) => e.textContent ?? '');
    expect(firing).toContain('HostHighCpuLoad');
    const resolvedRows = await page.$$eval('#alerts-resolved tbody tr', (r) => r.length);
    expect(resolvedRows).toBeGreaterThan(0);
    const instances = await page.$$eval('#alerts-resolved tbody tr td:nth-child(3)', (c) => [
      ...new Set(c.map((x) => x.textContent)),
    ]);
    expect(instances).toEqual([SEED_HOST]);
    await page.click('#alerts-all');
    await sleep(500);
    await waitForDataset(page, (x) => x.alertsState === 'ready', 'alerts of all hosts');
    const all = await page.$$eval('#alerts-resolved tbody tr td:nth-child(3)', (c) => [
      ...new Set(c.map((x) => x.textContent)),
    ]);
    expect(all.length).toBeGreaterThan(1);
    await page.close();
  }, 60_000);

  it('keyboard: tabs are buttons moved by arrow keys, range buttons work with Enter, focus is visible', async () => {
    const page = await open('tab=live');
    await page.focus('#tab-live');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-history');
    expect(await page.$eval('#tab-history', (b) => b.getAttribute('aria-selected'))).toBe('true');
    expect(await page.$eval('#panel-history', (p) => (p as unknown as BrowserElement).hidden)).toBe(false);
    const outline = await page.$eval('#tab-history', (b) => getComputedStyle(b).outlineStyle);
    expect(outline).not.toBe('none');
    await page.focus('#ranges button[data-range="7d"]');
    await page.keyboard.press('Enter');
    await waitForDataset(
      page,
      (x) => x.historyState === 'ready' && Number(x.historyTo) - Number(x.historyFrom) === 7 * 86_400,
      '7d by keyboard',
    );
    await page.keyboard.press('Tab');
    const tag = await page.evaluate(() => document.activeElement?.tagName);
    expect(tag).toBe('BUTTON');
    await page.close();
  }, 60_000);

  it('dark theme from the system setting, and a phone-width layout without horizontal scrolling', async () => {
    const page = await open('tab=live', { dark: true, width: 390 });
    await waitForCharts(page, 'live', ['cpu', 'memory']);
    expect((await dataset(page)).theme).toBe('dark');
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [r = 255, g = 255, b = 255] = (bg.match(/\d+/g) ?? []).map(Number);
    expect(r + g + b).toBeLessThan(120);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  }, 60_000);

  it('survives the sink restarting: the page reconnects on its own and live updates resume', async () => {
    const page = await open('tab=live');
    await waitForCharts(page, 'live', CHART_IDS);
    sink.child.kill('SIGKILL');
    await sink.exited;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await page.$eval('#status', (e) => e.textContent ?? '');
      if (/Reconnecting|Disconnected/.test(status)) break;
      if (Date.now() > deadline) throw new Error(`the page did not notice the sink was gone: ${status}`);
      await sleep(200);
    }
    const lastBefore = Number((await dataset(page)).liveTime);
    await sleep(3000);
    await startSink();
    const d = await waitForDataset(
      page,
      (x) => Number(x.liveTime) > lastBefore + 2 && x.restarts === '1',
      'updates from the restarted sink',
    );
    expect(Number(d.liveTime)).toBeGreaterThan(lastBefore);
    await waitForCharts(page, 'live', CHART_IDS);
    const status = await page.$eval('#status', (e) => e.textContent ?? '');
    expect(status).toMatch(/^Live/);
    await page.close();
  }, 120_000);

  it('sits behind --web.config.file basic auth: 401 without credentials, the page works with them', async () => {
    const config = path.join(work, 'web.yml');
    writeFileSync(config, `basic_auth_users:\n  viewer: '${bcrypt.hashSync('page-pass', 10)}'\n`);
    const port = await freePort();
    const authed = runSink([
      'sink',
      `--scrape.target=http://127.0.0.1:${exporterPort}/metrics`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.config.file=${config}`,
      `--database.url=${pg.url}`,
      '--scrape.interval=2s',
      '--maintain.schedule=',
    ]);
    try {
      await authed.waitFor(/hostscope sink started/, 60_000);
      const url = `http://127.0.0.1:${port}`;
      const index = await (await fetch(`${base}/`)).text();
      const asset = /src="(assets\/[^"]+)"/.exec(index)?.[1] ?? '';
      for (const route of ['/', `/${asset}`, '/api/v1/live', '/api/v1/alerts', '/api/v1/overview'])
        expect([route, (await fetch(`${url}${route}`)).status]).toEqual([route, 401]);
      const auth = { Authorization: `Basic ${Buffer.from('viewer:page-pass').toString('base64')}` };
      expect((await fetch(`${url}/`, { headers: auth })).status).toBe(200);
      const page = await browser.newPage();
      await page.authenticate({ username: 'viewer', password: 'page-pass' });
      await page.goto(`${url}/#tab=live`, { waitUntil: 'load' });
      await waitForCharts(page, 'live', ['memory', 'load']);
      await page.close();
    } finally {
      authed.child.kill('SIGTERM');
      await authed.exited;
    }
  }, 120_000);
});
