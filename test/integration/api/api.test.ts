/**
 * The read-only JSON API of the sink (`GET /api/v1/overview`, `GET /api/v1/series`) end to end: a private
 * PostgreSQL filled by `hostscope seed` (and `hostscope import` for hostile label values and many series),
 * the built sink serving it, and every figure compared with SQL computed here from the public views.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { Client } from 'pg';
import type { Overview } from '../../../src/api/overview';
import { CLI, runCli } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { runCli as runSink, type CliProcess } from '../sink/harness';
import { existsSync } from 'node:fs';

const available = (): boolean => hasPostgres() && existsSync(CLI);

/** A label value that would break naive SQL, JSON or URL handling. */
const HOSTILE = `x'); DROP TABLE hostscope.series; --"}]\\ & ?=%00 é ${'\u{1F600}'}`;

type Point = [number, number | null, number | null, number | null, number];
interface SeriesBody {
  status: string;
  data: {
    metric: string;
    from: number;
    to: number;
    step: number;
    source: string;
    series: { labels: Record<string, string>; points: Point[] }[];
  };
}

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

describeWithService('PostgreSQL and a built dist/', available, 'sink JSON API', () => {
  let pg: PgServer;
  let db: Client;
  let sink: CliProcess;
  let base: string;
  const work = mkdtempSync(path.join(tmpdir(), 'hs-api-'));

  beforeAll(async () => {
    pg = await startPostgres();
    const seed = await runCli([
      'seed',
      '--hosts=2',
      '--days=2',
      '--seed.interval=1m',
      `--database.url=${pg.url}`,
      '--log.level=warn',
    ]);
    if (seed.code !== 0) throw new Error(`seed failed: ${seed.stderr}`);
    // Hostile label values and a metric with more series than one answer may hold, through `import`.
    const t = Date.now() - 30 * 60_000;
    const lines = [
      `hostile_metric{evil="${escapeLabel(HOSTILE)}"} 42 ${t}`,
      `hostile_metric{evil="harmless"} 7 ${t}`,
      ...Array.from({ length: 201 }, (_, i) => `many_series{i="${i}"} ${i} ${t}`),
    ];
    const file = path.join(work, 'extra.prom');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const imp = await runCli([
      'import',
      `--database.url=${pg.url}`,
      '--label.instance=import:1',
      '--log.level=warn',
      file,
    ]);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}${imp.stdout}`);
    db = new Client({ connectionString: pg.url });
    await db.connect();
    const port = await freePort();
    sink = runSink([
      'sink',
      `--database.url=${pg.url}`,
      '--scrape.target=',
      '--web.enable-alertmanager-webhook', // the sink needs a source; no target keeps the seeded data as it is
      '--maintain.schedule=',
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    await sink.waitFor(/hostscope sink started/);
    base = `http://127.0.0.1:${port}`;
  }, 600_000);

  afterAll(async () => {
    sink?.child.kill('SIGTERM');
    await sink?.exited;
    await db?.end();
    await pg?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  const get = async (route: string): Promise<{ status: number; body: unknown; type: string | null }> => {
    const res = await fetch(`${base}${route}`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
  };
  const series = async (qs: string): Promise<SeriesBody['data']> => {
    const r = await get(`/api/v1/series?${qs}`);
    expect(r.status).toBe(200);
    return (r.body as SeriesBody).data;
  };

  it('overview: every seeded host with its latest usage, filesystems, network and containers as SQL has them', async () => {
    const r = await get('/api/v1/overview');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    const data = (r.body as { data: Overview }).data;
    const now = data.time;
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(60);
    expect(data.hosts.map((h) => h.host)).toEqual(['seed-host-01', 'seed-host-02']);

    const usage = await db.query(
      `SELECT DISTINCT ON (instance) instance, extract(epoch FROM time)::float8 AS time, cpu_percent, memory_percent,
              memory_total_bytes::float8 AS total, memory_used_bytes::float8 AS used, load1, load5, load15, cpu_count
         FROM hostscope.host_usage ORDER BY instance, time DESC`,
    );
    expect(usage.rows.length).toBe(2);
    for (const u of usage.rows) {
      const h = data.hosts.find((x) => x.instance === u.instance);
      expect(h).toBeDefined();
      if (h === undefined) continue;
      expect(h.time).toBeCloseTo(u.time, 3);
      expect(now - (h.time ?? 0)).toBeLessThan(300);
      expect(h.cpu.percent).toBeCloseTo(u.cpu_percent, 9);
      expect(h.cpu.percent).toBeGreaterThan(0);
      expect(h.cpu.percent).toBeLessThanOrEqual(100);
      expect(h.cpu.count).toBe(u.cpu_count);
      expect(h.memory.percent).toBeCloseTo(u.memory_percent, 9);
      expect(h.memory.total_bytes).toBe(u.total);
      expect(h.memory.used_bytes).toBe(u.used);
      expect([h.load.load1, h.load.load5, h.load.load15]).toEqual([u.load1, u.load5, u.load15]);

      // Filesystems: latest size and available bytes in the window, and the used-bytes trend (least
      // squares, computed here in JS) over the last 24 hourly rollups.
      const fs = await db.query(
        `SELECT DISTINCT ON (labels->>'mountpoint', metric) labels->>'mountpoint' AS mountpoint, metric, value
           FROM hostscope.samples
          WHERE metric IN ('node_filesystem_size_bytes', 'node_filesystem_avail_bytes')
            AND labels->>'instance' = $1 AND time > to_timestamp($2::float8 - 600) AND time <= to_timestamp($2::float8)
          ORDER BY labels->>'mountpoint', metric, time DESC`,
        [u.instance, now],
      );
      const mounts = [...new Set(fs.rows.map((x) => x.mountpoint as string))].sort();
      expect(mounts.length).toBeGreaterThan(0);
      expect(h.filesystems.map((f: { mountpoint: string }) => f.mountpoint).sort()).toEqual(mounts);
      for (const m of mounts) {
        const size = fs.rows.find(
          (x) => x.mountpoint === m && x.metric === 'node_filesystem_size_bytes',
        )?.value;
        const avail = fs.rows.find(
          (x) => x.mountpoint === m && x.metric === 'node_filesystem_avail_bytes',
        )?.value;
        const f = h.filesystems.find((x: { mountpoint: string }) => x.mountpoint === m);
        expect(f?.size_bytes).toBe(size);
        expect(f?.avail_bytes).toBe(avail);
        expect(f?.used_percent).toBeCloseTo((100 * (size - avail)) / size, 9);
        const hourly = await db.query(
          `SELECT extract(epoch FROM time)::float8 AS t, avg FROM hostscope.samples_hourly
            WHERE metric = 'node_filesystem_avail_bytes' AND labels->>'instance' = $1 AND labels->>'mountpoint' = $2
              AND time >= to_timestamp($3::float8 - 86400) AND time <= to_timestamp($3::float8)`,
          [u.instance, m, now],
        );
        const xs = hourly.rows.map((x) => x.t as number);
        const ys = hourly.rows.map((x) => -(x.avg as number));
        expect(xs.length).toBeGreaterThan(20);
        const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
        const my = ys.reduce((a, b) => a + b, 0) / ys.length;
        const slope =
          xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0) /
          xs.reduce((a, x) => a + (x - mx) ** 2, 0);
        expect((f?.growth_bytes_per_day ?? NaN) / 86400).toBeCloseTo(slope, 3);
        const forecast = (100 * Math.min(size, Math.max(0, size - avail + slope * 86400))) / size;
        expect(f?.forecast_used_percent_24h).toBeCloseTo(forecast, 6);
        if (slope > 0) expect(f?.full_in_seconds).toBeCloseTo(avail / slope, 0);
        else expect(f?.full_in_seconds).toBeNull();
      }
      // seed-host-01 fills its disk: it grows and is forecast to be fuller.
      if (h.host === 'seed-host-01')
        expect(h.filesystems.some((f) => (f.growth_bytes_per_day ?? 0) > 0)).toBe(true);

      // Network: (last - first) / (their time apart) of each counter in the window.
      const net = await db.query(
        `SELECT labels->>'device' AS device, metric,
                (array_agg(value ORDER BY time))[1] AS first, (array_agg(value ORDER BY time DESC))[1] AS last,
                extract(epoch FROM max(time) - min(time))::float8 AS seconds
           FROM hostscope.samples
          WHERE metric IN ('node_network_receive_bytes_total', 'node_network_transmit_bytes_total')
            AND labels->>'instance' = $1 AND time >= to_timestamp($2::float8 - 600) AND time <= to_timestamp($2::float8)
          GROUP BY 1, 2`,
        [u.instance, now],
      );
      expect(net.rows.length).toBeGreaterThan(0);
      for (const n of net.rows) {
        const iface = h.network.find((x: { device: string }) => x.device === n.device);
        const key =
          n.metric === 'node_network_receive_bytes_total'
            ? 'receive_bytes_per_second'
            : 'transmit_bytes_per_second';
        expect(iface?.[key]).toBeCloseTo((n.last - n.first) / n.seconds, 6);
        expect(iface?.[key]).toBeGreaterThan(0);
      }
      expect(h.disks).toEqual([]); // the seed has no disk counters

      // Containers: the latest usage row of each, and its restart and OOM counters.
      const cont = await db.query(
        `SELECT DISTINCT ON (container_id) container, container_id, image, status, cpu_percent,
                memory_usage_bytes::float8 AS mem, memory_limit_bytes::float8 AS lim, memory_percent
           FROM hostscope.container_usage
          WHERE instance = $1 AND time > to_timestamp($2::float8 - 600) AND time <= to_timestamp($2::float8)
          ORDER BY container_id, time DESC`,
        [u.instance, now],
      );
      expect(cont.rows.length).toBe(3);
      expect(h.containers.map((c: { name: string }) => c.name)).toEqual(['db', 'web', 'worker']);
      for (const c of cont.rows) {
        const got = h.containers.find((x: { id: string }) => x.id === c.container_id);
        expect(got).toMatchObject({ name: c.container, image: c.image, status: c.status });
        expect(got?.cpu_percent).toBeCloseTo(c.cpu_percent, 9);
        expect(got?.memory_usage_bytes).toBe(c.mem);
        expect(got?.memory_limit_bytes).toBe(c.lim);
        expect(got?.memory_percent).toBeCloseTo(c.memory_percent, 9);
        const ev = await db.query(
          `SELECT metric, value FROM hostscope.samples
            WHERE metric IN ('hostscope_container_restarts_total', 'container_oom_events_total')
              AND labels->>'instance' = $1 AND labels->>'name' = $2 AND time <= to_timestamp($3::float8)
            ORDER BY time DESC LIMIT 2`,
          [u.instance, c.container, now],
        );
        const value = (m: string): unknown => ev.rows.find((x) => x.metric === m)?.value;
        expect(got?.restarts_total).toBe(value('hostscope_container_restarts_total'));
        expect(got?.oom_events_total).toBe(value('container_oom_events_total'));
      }
      const worker = h.containers.find((x: { name: string }) => x.name === 'worker');
      if (h.host === 'seed-host-01') expect(worker?.restarts_total).toBeGreaterThan(0);
    }
  });

  /** Buckets computed here from rows of (time, value) or hourly (time, avg, min, max, count). */
  const bucketize = (
    rows: { t: number; avg: number; min: number; max: number; count: number }[],
    from: number,
    step: number,
  ): Point[] => {
    const m = new Map<number, { sum: number; min: number; max: number; count: number }>();
    for (const r of rows) {
      const k = Math.floor((r.t - from) / step);
      const b = m.get(k) ?? { sum: 0, min: Infinity, max: -Infinity, count: 0 };
      b.sum += r.avg * r.count;
      b.min = Math.min(b.min, r.min);
      b.max = Math.max(b.max, r.max);
      b.count += r.count;
      m.set(k, b);
    }
    return [...m.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([k, b]) => [from + k * step, b.sum / b.count, b.min, b.max, b.count]);
  };
  const expectPoints = (got: Point[], want: Point[]): void => {
    expect(got?.length).toBe(want.length);
    got.forEach((p, i) => {
      const w = want[i] as Point;
      expect(p[0]).toBeCloseTo(w[0], 6);
      expect(p[1]).toBeCloseTo(w[1] as number, 6);
      expect(p[2]).toBe(w[2]);
      expect(p[3]).toBe(w[3]);
      expect(p[4]).toBe(w[4]);
    });
  };

  it('series: short ranges read raw samples, bucketed to at most `points`, equal to SQL over the samples view', async () => {
    const to = Math.floor(Date.now() / 1000);
    const from = to - 2 * 3600;
    const d = await series(
      `metric=node_load1&match[instance]=seed-host-01:9100&from=${from}&to=${to}&points=13`,
    );
    expect([d.source, d.step, d.from, d.to]).toEqual(['raw', Math.ceil(7200 / 13), from, to]);
    expect(d.series.length).toBe(1);
    const s = d.series[0];
    expect(s?.labels).toMatchObject({ instance: 'seed-host-01:9100', job: expect.any(String) });
    const raw = await db.query(
      `SELECT extract(epoch FROM time)::float8 AS t, value FROM hostscope.samples
        WHERE metric = 'node_load1' AND labels->>'instance' = 'seed-host-01:9100'
          AND time >= to_timestamp($1::float8) AND time < to_timestamp($2::float8)`,
      [from, to],
    );
    expect(raw.rows.length).toBeGreaterThan(100);
    const want = bucketize(
      raw.rows.map((r) => ({ t: r.t, avg: r.value, min: r.value, max: r.value, count: 1 })),
      from,
      d.step,
    );
    expect(want.length).toBeLessThanOrEqual(13);
    expectPoints(s?.points ?? [], want);

    // RFC 3339 times give the same answer.
    const iso = (x: number): string => new Date(x * 1000).toISOString();
    const d2 = await series(
      `metric=node_load1&match[instance]=seed-host-01:9100&from=${iso(from)}&to=${encodeURIComponent(iso(to))}&points=13`,
    );
    expect(d2).toEqual(d);
  });

  it('series: long ranges read the hourly rollups, weighted by samples, equal to SQL over samples_hourly', async () => {
    const to = Math.floor(Date.now() / 1000);
    const from = to - 2 * 86_400;
    const d = await series(`metric=node_cpu_seconds_total&match[mode]=idle&from=${from}&to=${to}&points=20`);
    expect(d.source).toBe('hourly');
    expect(d.step).toBe(3 * 3600);
    const hourly = await db.query(
      `SELECT labels, extract(epoch FROM time)::float8 AS t, avg, min, max, count FROM hostscope.samples_hourly
        WHERE metric = 'node_cpu_seconds_total' AND labels->>'mode' = 'idle'
          AND time >= to_timestamp($1::float8) AND time < to_timestamp($2::float8)`,
      [from, to],
    );
    const keys = [...new Set(hourly.rows.map((r) => JSON.stringify(r.labels)))];
    expect(keys.length).toBeGreaterThan(2); // one per CPU and host
    expect(d.series.length).toBe(keys.length);
    for (const s of d.series) {
      const rows = hourly.rows.filter(
        (r) => r.labels.instance === s.labels.instance && r.labels.cpu === s.labels.cpu,
      );
      expect(s.labels.mode).toBe('idle');
      const want = bucketize(
        rows.map((r) => ({ t: r.t, avg: r.avg, min: r.min, max: r.max, count: Number(r.count) })),
        from,
        d.step,
      );
      expect(want.length).toBeLessThanOrEqual(20);
      expectPoints(s.points, want);
    }
    // Forced to raw samples, a 3-day range counts the same samples as its hourly rollups.
    const raw = await series(
      `metric=node_load1&match[instance]=seed-host-02:9100&from=${to - 3 * 86_400}&to=${to}&points=100&source=raw`,
    );
    const hourlyLoad = await series(
      `metric=node_load1&match[instance]=seed-host-02:9100&from=${to - 3 * 86_400}&to=${to}&points=50`,
    );
    expect(raw.source).toBe('raw');
    expect(hourlyLoad.source).toBe('hourly');
    const total = (x: SeriesBody['data']): number =>
      (x.series[0]?.points ?? []).reduce((a, p) => a + p[4], 0);
    const counted = await db.query(
      `SELECT count(*)::int AS n FROM hostscope.samples
        WHERE metric = 'node_load1' AND labels->>'instance' = 'seed-host-02:9100'
          AND time >= to_timestamp($1::float8) AND time < to_timestamp($2::float8)`,
      [to - 3 * 86_400, to],
    );
    expect(total(raw)).toBe(counted.rows[0]?.n);
    expect(total(raw)).toBeGreaterThanOrEqual(2 * 1440); // the two seeded days at 1 min
    // The rollups lack only the hour in progress and the part of the first hour before `from`.
    expect(Math.abs(total(raw) - total(hourlyLoad))).toBeLessThanOrEqual(2 * 60);
  });

  it('series: a hostile label value round-trips as a bound parameter, and matches only its series', async () => {
    const to = Math.floor(Date.now() / 1000);
    const d = await series(
      `metric=hostile_metric&match[evil]=${encodeURIComponent(HOSTILE)}&from=${to - 3600}&to=${to}`,
    );
    expect(d.series.length).toBe(1);
    expect(d.series[0]?.labels.evil).toBe(HOSTILE);
    expect(d.series[0]?.points.map((p) => p[1])).toEqual([42]);
    const all = await series(`metric=hostile_metric&from=${to - 3600}&to=${to}`);
    expect(all.series.map((s) => s.labels.evil).sort()).toEqual([HOSTILE, 'harmless'].sort());
    const n = await db.query(`SELECT count(*)::int AS n FROM hostscope.series`);
    expect(n.rows[0]?.n).toBeGreaterThan(100);
    // No match: an empty list, not an error.
    expect(
      (await series(`metric=hostile_metric&match[evil]=nothing&from=${to - 3600}&to=${to}`)).series,
    ).toEqual([]);
    expect((await series('metric=no_such_metric')).series).toEqual([]);
  });

  it.each([
    ['', 'metric'],
    ['metric=bad-name', 'metric'],
    ['metric=up&match[bad-label]=x', 'match[bad-label]'],
    ['metric=up&match[job]=', 'match[job]'],
    ['metric=up&from=tomorrow', 'from'],
    ['metric=up&to=2024-02-30', 'to'],
    ['metric=up&to=2024-02-30T00:00:00Z', 'to'],
    ['metric=up&from=100&to=50', 'from'],
    ['metric=up&from=0&to=40000000', 'from'],
    ['metric=up&points=0', 'points'],
    ['metric=up&points=5001', 'points'],
    ['metric=up&points=many', 'points'],
    ['metric=up&source=cache', 'source'],
    ['metric=up&step=60', 'step'],
    ['metric=up&metric=down', 'metric'],
    ['metric=many_series', 'match'],
  ])('series: 400 JSON for %s, naming %s', async (qs, parameter) => {
    const r = await get(`/api/v1/series?${qs}`);
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.body).toMatchObject({
      status: 'error',
      error: 'bad_parameter',
      parameter,
      message: expect.any(String),
    });
  });

  it('behind --web.config.file basic auth: 401 without credentials, the answer with them', async () => {
    const webConfig = path.join(work, 'web.yml');
    writeFileSync(
      webConfig,
      ['basic_auth_users:', `  reader: '${bcrypt.hashSync('read-pass', 10)}'`, ''].join('\n'),
    );
    const port = await freePort();
    const secured = runSink([
      'sink',
      `--database.url=${pg.url}`,
      '--scrape.target=',
      '--web.enable-alertmanager-webhook',
      '--maintain.schedule=',
      `--web.config.file=${webConfig}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    try {
      await secured.waitFor(/hostscope sink started/);
      const auth = (user: string, pass: string): Record<string, string> => ({
        authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
      });
      for (const route of ['/api/v1/overview', '/api/v1/series?metric=node_load1']) {
        expect((await fetch(`http://127.0.0.1:${port}${route}`)).status).toBe(401);
        expect(
          (await fetch(`http://127.0.0.1:${port}${route}`, { headers: auth('reader', 'wrong') })).status,
        ).toBe(401);
        const ok = await fetch(`http://127.0.0.1:${port}${route}`, { headers: auth('reader', 'read-pass') });
        expect(ok.status).toBe(200);
        expect(await ok.json()).toMatchObject({ status: 'success' });
      }
    } finally {
      secured.child.kill('SIGTERM');
      await secured.exited;
    }
  });

  it('works on the embedded database (PGlite) too', async () => {
    const dataDir = path.join(work, 'embedded');
    const seed = await runCli([
      'seed',
      '--hosts=1',
      '--days=1',
      '--seed.interval=5m',
      `--data.dir=${dataDir}`,
      '--log.level=warn',
    ]);
    expect(seed.code).toBe(0);
    const port = await freePort();
    const embedded = runSink([
      'sink',
      `--data.dir=${dataDir}`,
      '--scrape.target=',
      '--web.enable-alertmanager-webhook',
      '--maintain.schedule=',
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    try {
      await embedded.waitFor(/hostscope sink started/, 120_000);
      const url = `http://127.0.0.1:${port}`;
      const overview = (await (await fetch(`${url}/api/v1/overview`)).json()) as { data: Overview };
      const [h] = overview.data.hosts;
      expect(h?.host).toBe('seed-host-01');
      expect(h?.cpu.percent).toEqual(expect.any(Number));
      expect(h?.filesystems.length).toBeGreaterThan(0);
      expect(h?.containers.map((c) => c.name)).toEqual(['db', 'web', 'worker']);
      const now = Math.floor(Date.now() / 1000);
      for (const [qs, source] of [
        [`from=${now - 3600}&points=5`, 'raw'],
        [`from=${now - 86_400}&points=4`, 'hourly'],
      ] as const) {
        const r = (await (await fetch(`${url}/api/v1/series?metric=node_load1&${qs}`)).json()) as SeriesBody;
        expect(r.data.source).toBe(source);
        expect(r.data.series[0]?.points.length).toBeGreaterThan(0);
        expect(r.data.series[0]?.points.length).toBeLessThanOrEqual(5);
      }
    } finally {
      embedded.child.kill('SIGTERM');
      await embedded.exited;
    }
  }, 180_000);

  it('is read-only: other methods on the API routes are 404', async () => {
    const res = await fetch(`${base}/api/v1/overview`, { method: 'POST' });
    expect(res.status).toBe(404);
  });

  it('alerts: the seeded firing and resolved occurrences as SQL over alerts_history has them; 400s', async () => {
    const r = await get('/api/v1/alerts?limit=500');
    expect(r.status).toBe(200);
    const data = (
      r.body as {
        data: {
          since: number;
          firing: { alertname: string; instance: string; starts_at: number }[];
          firing_total: number;
          resolved: { ends_at: number }[];
          resolved_total: number;
        };
      }
    ).data;
    const firing = await db.query(
      `SELECT alertname, instance, extract(epoch FROM starts_at)::float8 AS starts_at FROM hostscope.alerts_history
        WHERE status = 'firing' ORDER BY starts_at DESC, fingerprint`,
    );
    expect(firing.rows.length).toBeGreaterThan(0);
    expect(data.firing_total).toBe(firing.rows.length);
    expect(data.firing.map((a) => [a.alertname, a.instance])).toEqual(
      firing.rows.map((a) => [a.alertname, a.instance]),
    );
    const resolved = await db.query(
      `SELECT count(*)::int AS n FROM hostscope.alerts_history WHERE ends_at >= to_timestamp($1::float8)`,
      [data.since],
    );
    expect(data.resolved_total).toBe(resolved.rows[0].n);
    expect(data.resolved.length).toBe(Math.min(500, resolved.rows[0].n));
    for (let i = 1; i < data.resolved.length; i++)
      expect(data.resolved[i - 1]?.ends_at ?? 0).toBeGreaterThanOrEqual(data.resolved[i]?.ends_at ?? 0);
    const one = (await get('/api/v1/alerts?instance=seed-host-02:9100&limit=2')).body as {
      data: { firing: { instance: string }[]; resolved: { instance: string }[] };
    };
    expect(one.data.resolved.length).toBeLessThanOrEqual(2);
    for (const a of [...one.data.firing, ...one.data.resolved]) expect(a.instance).toBe('seed-host-02:9100');
    for (const bad of [
      'limit=0',
      'since=tomorrow',
      'instance=',
      'x=1',
      `instance=${encodeURIComponent(HOSTILE)}&instance=a`,
    ]) {
      const b = await get(`/api/v1/alerts?${bad}`);
      expect([bad, b.status]).toEqual([bad, 400]);
    }
    // A hostile value is a bound parameter: no match, no error.
    const hostile = await get(`/api/v1/alerts?instance=${encodeURIComponent(HOSTILE)}`);
    expect(hostile.status).toBe(200);
    expect((hostile.body as { data: { firing_total: number } }).data.firing_total).toBe(0);
  });
});
