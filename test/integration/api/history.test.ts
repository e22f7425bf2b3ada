/**
 * The aggregating history API of the sink (`GET /api/v1/rates`, `/api/v1/filesystems`, `/api/v1/containers`)
 * end to end: a private PostgreSQL filled by `hostscope seed` and `hostscope import`, the built sink serving
 * it, every figure compared with what is computed here from the public views (`samples`, `samples_hourly`,
 * `container_usage`, `container_usage_hourly`), the bounds answered with 400s, and the embedded database.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import type { ContainersAnswer, FilesystemsAnswer, RatesAnswer } from '../../../src/api/history';
import { MAX_AGGREGATE_SERIES } from '../../../src/api/history';
import { CLI, runCli } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { runCli as runSink, type CliProcess } from '../sink/harness';

const available = (): boolean => hasPostgres() && existsSync(CLI);

const HOST = 'seed-host-01:9100';
/** A label value that would break naive SQL, JSON or URL handling. */
const HOSTILE = `x'); DROP TABLE hostscope.series; --"}]\\ & ?=%00 é ${'\u{1F600}'}`;

/**
 * Per series: bucket → average value and average time of its samples (or of its hours' middles). Rows go
 * into buckets by `at` when given (an hour by its start, as the API's /series does), else by `t`.
 */
type Buckets = Map<number, { v: number; t: number }>;

function bucketsOf(
  rows: { t: number; v: number; w: number; at?: number }[],
  from: number,
  step: number,
): Buckets {
  const acc = new Map<number, { v: number; t: number; w: number }>();
  for (const r of rows) {
    const k = Math.floor(((r.at ?? r.t) - from) / step);
    const b = acc.get(k) ?? { v: 0, t: 0, w: 0 };
    b.v += r.v * r.w;
    b.t += r.t * r.w;
    b.w += r.w;
    acc.set(k, b);
  }
  return new Map([...acc].map(([k, b]) => [k, { v: b.v / b.w, t: b.t / b.w }]));
}

/** Rates between consecutive buckets of one series (a fall: none), by bucket start. */
function ratesOf(b: Buckets, from: number, step: number): Map<number, number> {
  const keys = [...b.keys()].sort((x, y) => x - y);
  const out = new Map<number, number>();
  for (let i = 1; i < keys.length; i++) {
    const p = b.get(keys[i - 1] as number);
    const c = b.get(keys[i] as number);
    if (p === undefined || c === undefined) continue;
    const r = (c.v - p.v) / (c.t - p.t);
    if (r >= 0) out.set(from + (keys[i] as number) * step, r);
  }
  return out;
}

describeWithService('PostgreSQL and a built dist/', available, 'sink aggregating history API', () => {
  let pg: PgServer;
  let db: Client;
  let sink: CliProcess;
  let base: string;
  const work = mkdtempSync(path.join(tmpdir(), 'hs-history-api-'));

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
    // Filesystems to rank (one mountpoint on two devices), and a metric with more series than one
    // aggregating request may read, through `import`.
    const t = Date.now() - 30 * 60_000;
    const fs = (mount: string, device: string, used: number): string[] => [
      `node_filesystem_size_bytes{mountpoint="${mount}",device="${device}",fstype="ext4"} 1000 ${t}`,
      `node_filesystem_avail_bytes{mountpoint="${mount}",device="${device}",fstype="ext4"} ${1000 - used * 10} ${t}`,
    ];
    const lines = [
      ...fs('/a', 'd1', 50),
      ...fs('/b', 'd2', 80),
      ...fs('/b', 'd3', 30),
      ...fs('/c', 'd4', 20),
      ...Array.from({ length: MAX_AGGREGATE_SERIES + 1 }, (_, i) => `wide_total{i="${i}"} ${i} ${t}`),
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
      '--web.enable-alertmanager-webhook',
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

  const get = async <T>(route: string, params: Record<string, string | number>): Promise<T> => {
    const q = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
    const res = await fetch(`${base}${route}?${q.toString()}`);
    const body = (await res.json()) as { data: T };
    expect([route, res.status]).toEqual([route, 200]);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return body.data;
  };

  /** Reference rates summed by group, computed here from the public views. */
  async function referenceRates(
    metric: string,
    by: string,
    from: number,
    to: number,
    step: number,
    source: 'raw' | 'hourly',
  ): Promise<Map<string, Map<number, number>>> {
    const rows =
      source === 'raw'
        ? await db.query<{ labels: Record<string, string>; t: number; v: number; w: number; at?: number }>(
            `SELECT labels, extract(epoch FROM time)::float8 AS t, value AS v, 1 AS w FROM hostscope.samples
              WHERE metric = $1 AND labels->>'instance' = $2
                AND time >= to_timestamp($3::float8) AND time < to_timestamp($4::float8)`,
            [metric, HOST, from, to],
          )
        : await db.query<{ labels: Record<string, string>; t: number; v: number; w: number; at?: number }>(
            `SELECT labels, extract(epoch FROM time)::float8 + 1800 AS t, avg AS v, count AS w,
                    extract(epoch FROM time)::float8 AS at
               FROM hostscope.samples_hourly
              WHERE metric = $1 AND labels->>'instance' = $2 AND count > 0
                AND time >= to_timestamp($3::float8) AND time < to_timestamp($4::float8)`,
            [metric, HOST, from, to],
          );
    const perSeries = new Map<
      string,
      { group: string; rows: { t: number; v: number; w: number; at?: number }[] }
    >();
    for (const r of rows.rows) {
      const key = JSON.stringify(r.labels);
      const s = perSeries.get(key) ?? { group: r.labels[by] ?? '', rows: [] };
      s.rows.push({
        t: r.t,
        v: r.v,
        w: Number(r.w),
        ...(r.at === undefined || r.at === null ? {} : { at: Number(r.at) }),
      });
      perSeries.set(key, s);
    }
    const out = new Map<string, Map<number, number>>();
    for (const s of perSeries.values()) {
      const g = out.get(s.group) ?? new Map<number, number>();
      for (const [t, r] of ratesOf(bucketsOf(s.rows, from, step), from, step)) g.set(t, (g.get(t) ?? 0) + r);
      out.set(s.group, g);
    }
    return out;
  }

  const expectRates = (
    got: readonly [number, number, number][],
    want: Map<number, number> | undefined,
  ): void => {
    expect(want).toBeDefined();
    expect(got.map((p) => p[0])).toEqual([...(want?.keys() ?? [])].sort((a, b) => a - b));
    for (const [t, r] of got) expect(r).toBeCloseTo(want?.get(t) ?? NaN, 9);
  };

  it.each([
    ['raw', 6 * 3600, 40],
    ['hourly', 2 * 86_400, 16],
  ] as const)(
    'rates: CPU by mode from %s data, each group the sum of its series rates as computed from the views',
    async (source, seconds, points) => {
      const to = Math.floor(Date.now() / 1000);
      const from = to - seconds;
      const a = await get<RatesAnswer>('/api/v1/rates', {
        metric: 'node_cpu_seconds_total',
        'match[instance]': HOST,
        by: 'mode',
        from,
        to,
        points,
      });
      expect(a.source).toBe(source);
      expect(a.series_count).toBe(2 * 8); // the first seeded host has 2 CPUs
      expect(a.group_count).toBe(8);
      expect(a.groups.map((g) => g.series)).toEqual(Array(8).fill(2));
      expect(a.other).toBeNull();
      const want = await referenceRates('node_cpu_seconds_total', 'mode', from, to, a.step, source);
      for (const g of a.groups) {
        expectRates(g.points, want.get(g.value));
        // Both CPUs in every bucket after the first.
        expect(g.points.every((p) => p[2] === 2)).toBe(true);
      }
      // Largest volume first.
      const volume = (g: { points: readonly [number, number, number][] }): number =>
        g.points.reduce((s, p) => s + p[1], 0);
      for (let i = 1; i < a.groups.length; i++)
        expect(volume(a.groups[i - 1] as RatesAnswer['groups'][number])).toBeGreaterThanOrEqual(
          volume(a.groups[i] as RatesAnswer['groups'][number]),
        );
      // Shares of all CPU time: every mode together is 2 CPU-seconds per second.
      const total = new Map<number, number>();
      for (const g of a.groups) for (const [t, r] of g.points) total.set(t, (total.get(t) ?? 0) + r);
      for (const r of total.values()) expect(r).toBeCloseTo(2, 6);
    },
  );

  it('rates: top groups apart, the rest summed into other; without `by`, one group; exclusions', async () => {
    const to = Math.floor(Date.now() / 1000);
    const from = to - 6 * 3600;
    const common = { metric: 'node_cpu_seconds_total', 'match[instance]': HOST, from, to, points: 30 };
    const all = await get<RatesAnswer>('/api/v1/rates', { ...common, by: 'mode' });
    const top = await get<RatesAnswer>('/api/v1/rates', { ...common, by: 'mode', top: 2 });
    expect(top.groups.map((g) => g.value)).toEqual(all.groups.slice(0, 2).map((g) => g.value));
    expect(top.other).toMatchObject({ groups: 6, series: 12 });
    for (const [t, r, n] of top.other?.points ?? []) {
      const rest = all.groups.slice(2).reduce((s, g) => s + (g.points.find((p) => p[0] === t)?.[1] ?? 0), 0);
      expect(r).toBeCloseTo(rest, 9);
      expect(n).toBe(12);
    }
    const one = await get<RatesAnswer>('/api/v1/rates', common);
    expect(one.by).toBeNull();
    expect(one.groups.map((g) => [g.value, g.series])).toEqual([['', 16]]);
    for (const [, r] of one.groups[0]?.points ?? []) expect(r).toBeCloseTo(2, 6);
    // exclude[]: the idle and user series left out.
    const some = await get<RatesAnswer>('/api/v1/rates', {
      ...common,
      by: 'mode',
      'exclude[mode]': 'idle',
      'exclude[job]': 'nothing',
    });
    expect(some.series_count).toBe(14);
    expect(some.groups.map((g) => g.value)).not.toContain('idle');
    const none = await get<RatesAnswer>('/api/v1/rates', { ...common, 'match[instance]': HOSTILE });
    expect(none).toMatchObject({ series_count: 0, group_count: 0, groups: [], other: null });
  });

  it('filesystems: used % of the fullest, one per mountpoint, as computed from the views', async () => {
    const to = Math.floor(Date.now() / 1000);
    const imported = await get<FilesystemsAnswer>('/api/v1/filesystems', {
      instance: 'import:1',
      from: to - 3600,
      to,
      top: 2,
    });
    expect(imported.filesystem_count).toBe(3);
    expect(imported.filesystems.map((f) => [f.mountpoint, f.device, f.fstype])).toEqual([
      ['/b', 'd2', 'ext4'],
      ['/a', 'd1', 'ext4'],
    ]);
    expect(imported.filesystems.map((f) => f.points.map((p) => p[1]))).toEqual([[80], [50]]);

    const from = to - 6 * 3600;
    const seeded = await get<FilesystemsAnswer>('/api/v1/filesystems', {
      instance: HOST,
      from,
      to,
      points: 12,
    });
    expect(seeded.source).toBe('raw');
    const rows = await db.query<{ metric: string; t: number; v: number }>(
      `SELECT metric, extract(epoch FROM time)::float8 AS t, value AS v FROM hostscope.samples
        WHERE metric IN ('node_filesystem_size_bytes', 'node_filesystem_avail_bytes') AND labels->>'instance' = $1
          AND time >= to_timestamp($2::float8) AND time < to_timestamp($3::float8)`,
      [HOST, from, to],
    );
    const of = (m: string): Buckets =>
      bucketsOf(
        rows.rows.filter((r) => r.metric === m).map((r) => ({ t: r.t, v: r.v, w: 1 })),
        from,
        seeded.step,
      );
    const size = of('node_filesystem_size_bytes');
    const avail = of('node_filesystem_avail_bytes');
    expect(seeded.filesystems.map((f) => f.mountpoint)).toEqual(['/']);
    const points = seeded.filesystems[0]?.points ?? [];
    expect(points.length).toBe(size.size);
    for (const [t, used] of points) {
      const k = (t - from) / seeded.step;
      const s = size.get(k)?.v ?? NaN;
      expect(used).toBeCloseTo((100 * (s - (avail.get(k)?.v ?? NaN))) / s, 9);
    }
  });

  it.each([
    ['raw', 6 * 3600, 'container_usage', 'cpu_percent', 'memory_usage_bytes', '1'],
    ['hourly', 2 * 86_400, 'container_usage_hourly', 'cpu_percent_avg', 'memory_usage_bytes_avg', 'samples'],
  ] as const)(
    'containers: CPU and memory of the busiest from %s data (%i s), the rest as other, as computed from %s',
    async (source, seconds, table, cpu, mem, weight) => {
      const to = Math.floor(Date.now() / 1000);
      const from = to - seconds;
      const a = await get<ContainersAnswer>('/api/v1/containers', {
        instance: HOST,
        from,
        to,
        points: 20,
        top: 2,
      });
      expect(a.source).toBe(source);
      expect(a.container_count).toBe(3);
      const ref = async (column: string): Promise<Map<string, Map<number, number>>> => {
        const rows = await db.query<{ container: string; t: number; v: number; w: number }>(
          `SELECT container, extract(epoch FROM time)::float8 AS t, ${column}::float8 AS v, ${weight}::float8 AS w
             FROM hostscope.${table}
            WHERE instance = $1 AND ${column} IS NOT NULL
              AND time >= to_timestamp($2::float8) AND time < to_timestamp($3::float8)`,
          [HOST, from, to],
        );
        const out = new Map<string, Map<number, number>>();
        for (const name of new Set(rows.rows.map((r) => r.container))) {
          const b = bucketsOf(
            rows.rows.filter((r) => r.container === name),
            from,
            a.step,
          );
          out.set(name, new Map([...b].map(([k, x]) => [from + k * a.step, x.v])));
        }
        return out;
      };
      for (const [chart, column] of [
        [a.cpu, cpu],
        [a.memory, mem],
      ] as const) {
        const want = await ref(column);
        const mean = (m: Map<number, number>): number => [...m.values()].reduce((s, v) => s + v, 0) / m.size;
        const order = [...want].sort((x, y) => mean(y[1]) - mean(x[1])).map(([n]) => n);
        expect(chart.containers.map((c) => c.name)).toEqual(order.slice(0, 2));
        for (const c of chart.containers) {
          const w = want.get(c.name);
          expect(c.points.map((p) => p[0])).toEqual([...(w?.keys() ?? [])].sort((x, y) => x - y));
          for (const [t, v] of c.points) expect(v).toBeCloseTo(w?.get(t) ?? NaN, 6);
        }
        expect(chart.containers.map((c) => c.image).every((i) => i !== '')).toBe(true);
        expect(chart.other?.containers).toBe(1);
        const rest = want.get(order[2] as string);
        for (const [t, v] of chart.other?.points ?? []) expect(v).toBeCloseTo(rest?.get(t) ?? NaN, 6);
      }
      // A hostile instance is a bound parameter: nothing matches, nothing breaks.
      const none = await get<ContainersAnswer>('/api/v1/containers', { instance: HOSTILE, from, to });
      expect(none).toMatchObject({ container_count: 0, cpu: { containers: [], other: null } });
    },
  );

  it.each([
    ['/api/v1/rates', '', 'metric'],
    ['/api/v1/rates', 'metric=bad-name', 'metric'],
    ['/api/v1/rates', 'metric=up&by=bad-label', 'by'],
    ['/api/v1/rates', 'metric=up&top=0', 'top'],
    ['/api/v1/rates', 'metric=up&top=51', 'top'],
    ['/api/v1/rates', 'metric=up&exclude[bad-label]=x', 'exclude[bad-label]'],
    ['/api/v1/rates', 'metric=up&exclude[device]=', 'exclude[device]'],
    ['/api/v1/rates', 'metric=up&step=60', 'step'],
    ['/api/v1/rates', 'metric=up&by=a&by=b', 'by'],
    ['/api/v1/rates', 'metric=up&points=5001', 'points'],
    ['/api/v1/rates', 'metric=wide_total', 'match'],
    ['/api/v1/filesystems', '', 'instance'],
    ['/api/v1/filesystems', 'instance=a&top=x', 'top'],
    ['/api/v1/filesystems', 'instance=a&match[job]=x', 'match[job]'],
    ['/api/v1/filesystems', 'instance=a&from=0&to=40000000', 'from'],
    ['/api/v1/containers', 'instance=', 'instance'],
    ['/api/v1/containers', 'instance=a&source=cache', 'source'],
    ['/api/v1/containers', 'instance=a&to=2024-02-30T00:00:00Z', 'to'],
  ])('%s: 400 JSON for %s, naming %s', async (route, qs, parameter) => {
    const res = await fetch(`${base}${route}?${qs}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ status: 'error', error: 'bad_parameter', parameter });
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
      const to = Math.floor(Date.now() / 1000);
      const json = async <T>(route: string): Promise<T> => {
        const res = await fetch(`${url}${route}`);
        expect([route, res.status]).toEqual([route, 200]);
        return ((await res.json()) as { data: T }).data;
      };
      const from = to - 6 * 3600;
      const rates = await json<RatesAnswer>(
        `/api/v1/rates?metric=node_cpu_seconds_total&match[instance]=${HOST}&by=mode&exclude[mode]=steal&top=3&from=${from}&to=${to}&points=12`,
      );
      expect(rates.groups.length).toBe(3);
      expect(rates.other?.groups).toBe(4);
      const fs = await json<FilesystemsAnswer>(`/api/v1/filesystems?instance=${HOST}&from=${from}&to=${to}`);
      expect(fs.filesystems.map((f) => f.mountpoint)).toEqual(['/']);
      const containers = await json<ContainersAnswer>(
        `/api/v1/containers?instance=${HOST}&from=${to - 86_400}&to=${to}&top=2&points=12`,
      );
      expect(containers.source).toBe('hourly');
      expect(containers.cpu.containers.length).toBe(2);
      expect(containers.memory.other?.containers).toBe(1);
    } finally {
      embedded.child.kill('SIGTERM');
      await embedded.exited;
    }
  }, 180_000);
});
