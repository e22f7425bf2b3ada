import { PostgresDatabase } from '../../../src/db/postgres';
import { migrate, MIGRATION_LOCK_KEY } from '../../../src/db/migrate';
import { MIGRATIONS } from '../../../src/db/migrations';
import { BinaryCopyWriter, encodeBinaryCopy, splitTimestamp } from '../../../src/db/binary-copy';
import { countSamples, ParseCache, parseExposition } from '../../../src/expfmt/parse';
import { silentLogger } from '../../../src/log/logger';
import { applyInventory, extractInventory } from '../../../src/sink/inventory';
import { maintain } from '../../../src/sink/maintain';
import { runSeed } from '../../../src/sink/seed';
import { UsageTracker } from '../../../src/sink/usage';
import { SampleWriter } from '../../../src/sink/writer';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { scrape, target } from '../../helpers/scrapes';
import type { PendingScrape, Target } from '../../../src/sink/types';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const logger = silentLogger();
describeWithService('PostgreSQL', hasPostgres, 'sink database layer on a real PostgreSQL', () => {
  let pg: PgServer;
  let db: PostgresDatabase;

  beforeAll(async () => {
    pg = await startPostgres();
    db = new PostgresDatabase(pg.url);
  });

  afterAll(async () => {
    await db.close();
    await pg.destroy();
  });

  beforeEach(async () => {
    await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
    await migrate(db, logger);
  });

  describe('binary COPY', () => {
    it('is read back by the server exactly as encoded, for every column type', async () => {
      const json = JSON.stringify({ q: `'"\\`, u: '😀' });
      const payload = encodeBinaryCopy(
        ['int8', 'int4', 'float8', 'timestamptz', 'text', 'jsonb', 'bool'],
        [
          [
            2 ** 53 - 1,
            -7,
            -1.5e-300,
            Date.UTC(2024, 1, 29, 12, 0, 0, 123),
            `'); drop table x; -- é`,
            json,
            true,
          ],
          [-5, 0, Infinity, Date.UTC(1999, 0, 1), '', '{}', false],
          [null, null, null, null, null, null, null],
        ],
      );
      await db.session(async (s) => {
        await s.exec(
          `CREATE TEMP TABLE copy_types (a int8, b int4, c float8, d timestamptz, e text, f jsonb, g bool)`,
        );
        await s.copyBinary('copy_types (a, b, c, d, e, f, g)', payload);
        const rows = await s.query(
          `SELECT a::text, b, c::text, d, e, f, g FROM copy_types ORDER BY a NULLS LAST`,
        );
        expect(rows).toEqual([
          { a: '-5', b: 0, c: 'Infinity', d: new Date(Date.UTC(1999, 0, 1)), e: '', f: {}, g: false },
          {
            a: String(2 ** 53 - 1),
            b: -7,
            c: '-1.5e-300',
            d: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123)),
            e: `'); drop table x; -- é`,
            f: JSON.parse(json),
            g: true,
          },
          { a: null, b: null, c: null, d: null, e: null, f: null, g: null },
        ]);
        const w = new BinaryCopyWriter();
        const [hi, lo] = splitTimestamp(Date.UTC(2030, 5, 1, 0, 0, 0, 1));
        w.sampleRow(123_456_789_012, hi, lo, NaN);
        await s.exec('CREATE TEMP TABLE copy_samples (s int8, t timestamptz, v float8)');
        await s.copyBinary('copy_samples (s, t, v)', w.finish());
        expect(await s.query('SELECT s::text, t, v::text FROM copy_samples')).toEqual([
          { s: '123456789012', t: new Date(Date.UTC(2030, 5, 1, 0, 0, 0, 1)), v: 'NaN' },
        ]);
      });
    });
  });

  describe('migrations', () => {
    it('two concurrent migrators apply each migration once under the advisory lock', async () => {
      await db.exec('DROP SCHEMA hostscope CASCADE');
      const a = new PostgresDatabase(pg.url);
      const b = new PostgresDatabase(pg.url);
      try {
        // Hold the lock so both start waiting, then release it: they race for real.
        const results = await db.session(async (s) => {
          await s.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
          const both = Promise.all([migrate(a, logger), migrate(b, logger)]);
          await new Promise((r) => setTimeout(r, 300));
          const waiting = await s.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
          );
          expect(Number(waiting[0]?.n)).toBe(2);
          await s.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
          return both;
        });
        const applied = results.map((r) => r.applied.length).sort();
        expect(applied).toEqual([0, MIGRATIONS.length]);
        expect(results.map((r) => r.current)).toEqual([MIGRATIONS.length, MIGRATIONS.length]);
        const rows = await db.query('SELECT version FROM hostscope.schema_migrations');
        expect(rows).toHaveLength(MIGRATIONS.length);
        expect((await migrate(db, logger)).applied).toEqual([]);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('writer', () => {
    it('is idempotent: a retried batch and a restarted writer never duplicate or fail', async () => {
      const t0 = Date.UTC(2030, 0, 1, 10);
      const batch = [scrape('a_total{x="1"} 1\nb 2\n', t0), scrape('a_total{x="1"} 2\nb 3\n', t0 + 15_000)];
      const w1 = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      expect(await w1.write(batch, t0)).toMatchObject({ written: 10, deduplicated: false });
      expect(await w1.write(batch, t0)).toMatchObject({ written: 10, deduplicated: true });
      const w2 = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY }); // after a restart
      const more = [...batch, scrape('a_total{x="1"} 3\nb 4\n', t0 + 30_000)];
      expect(await w2.write(more, t0)).toMatchObject({ deduplicated: true });
      const rows = await db.query<{ metric: string; n: string }>(
        `SELECT metric, count(*) AS n FROM hostscope.samples GROUP BY 1 ORDER BY 1`,
      );
      expect(rows.map((r) => [r.metric, Number(r.n)])).toEqual([
        ['a_total', 3],
        ['b', 3],
        ['scrape_duration_seconds', 3],
        ['scrape_samples_scraped', 3],
        ['up', 3],
      ]);
      expect(await db.query('SELECT count(*)::int AS n FROM hostscope.series')).toEqual([{ n: 5 }]);
    });

    it('keeps the first of duplicate series in one scrape and same series with labels in another order', async () => {
      const t0 = Date.UTC(2030, 0, 1, 10);
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      const r = await w.write(
        [scrape('d{a="1",b="2"} 1\nd{a="1",b="2"} 2\n', t0), scrape('d{b="2",a="1"} 5\n', t0 + 1000)],
        t0,
      );
      expect(r.skipped).toBe(1);
      const rows = await db.query<{ value: number }>(
        `SELECT value FROM hostscope.samples WHERE metric = 'd' ORDER BY time`,
      );
      expect(rows.map((x) => x.value)).toEqual([1, 5]);
      expect(
        await db.query(
          `SELECT count(DISTINCT series_id)::int AS n FROM hostscope.samples WHERE metric = 'd'`,
        ),
      ).toEqual([{ n: 1 }]);
    });

    it('maps samples to the right series when a target reorders, adds or drops series between scrapes', async () => {
      const t0 = Date.UTC(2030, 0, 1, 10);
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      await w.write([scrape('x{a="1"} 1\nx{a="2"} 2\ny 3\n', t0)], t0);
      await w.write([scrape('x{a="2"} 20\nz 40\nx{a="1"} 10\n', t0 + 1000)], t0);
      await w.write([scrape('x{a="2",b=""} 200\nx{a="1"} 100\n', t0 + 2000)], t0);
      const rows = await db.query<{ metric: string; labels: Record<string, string>; values: number[] }>(
        `SELECT metric, labels - 'instance' - 'job' AS labels, array_agg(value ORDER BY time) AS values
           FROM hostscope.samples WHERE metric IN ('x', 'y', 'z') GROUP BY 1, 2 ORDER BY 1, 2::text`,
      );
      expect(rows).toEqual([
        { metric: 'x', labels: { a: '1' }, values: [1, 10, 100] },
        { metric: 'x', labels: { a: '2' }, values: [2, 20, 200] },
        { metric: 'y', labels: {}, values: [3] },
        { metric: 'z', labels: {}, values: [40] },
      ]);
    });

    it('stores the same from columnar parses (a ParseCache per target), across reorders and a restart', async () => {
      const t0 = Date.UTC(2030, 0, 2, 10);
      const t: Target = { url: 'http://h2:9100/metrics', instance: 'h2:9100', job: 'node' };
      const cache = new ParseCache();
      const columnar = (body: string, timeMs: number): PendingScrape => {
        const families = parseExposition(body, 'text', cache);
        return { target: t, timeMs, families, sampleCount: countSamples(families), containerUsage: [] };
      };
      let w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      await w.write([columnar('x{a="1"} 1\nx{a="2"} 2\ny 3\n', t0)], t0);
      await w.write([columnar('x{a="2"} 20\nz 40\nx{a="1"} 10\n', t0 + 1000)], t0);
      // A restarted writer finds the existing series; the first of two samples of one series wins.
      w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      await w.write([columnar('x{a="2",b=""} 200\nx{a="1"} 100\nx{a="1"} 7\n', t0 + 2000)], t0);
      await w.write([columnar('x{a="2",b=""} 2000\nx{a="1"} 1000\nx{a="1"} 7\n', t0 + 3000)], t0);
      const rows = await db.query<{ metric: string; labels: Record<string, string>; values: number[] }>(
        `SELECT metric, labels - 'instance' - 'job' AS labels, array_agg(value ORDER BY time) AS values
           FROM hostscope.samples WHERE metric IN ('x', 'y', 'z') AND labels->>'instance' = 'h2:9100'
          GROUP BY 1, 2 ORDER BY 1, 2::text`,
      );
      expect(rows).toEqual([
        { metric: 'x', labels: { a: '1' }, values: [1, 10, 100, 1000] },
        { metric: 'x', labels: { a: '2' }, values: [2, 20, 200, 2000] },
        { metric: 'y', labels: {}, values: [3] },
        { metric: 'z', labels: {}, values: [40] },
      ]);
      const series = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM hostscope.series WHERE labels->>'instance' = 'h2:9100'`,
      );
      expect(Number(series[0]?.n)).toBe(4);
    });

    it('finds the stored series of a write that follows new ones, whether it looks up or inserts first', async () => {
      const t0 = Date.UTC(2030, 0, 3, 12);
      const a: Target = { url: 'http://ha:9100/metrics', instance: 'ha:9100', job: 'node' };
      const b: Target = { url: 'http://hb:9100/metrics', instance: 'hb:9100', job: 'node' };
      const body = (v: number): string =>
        Array.from({ length: 50 }, (_, i) => `m{i="${i}"} ${v + i}`).join('\n') + '\n';
      await new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY }).write(
        [scrape(body(0), t0, a)],
        t0,
      );
      // A second writer (another process) first creates b's series, so it expects new ones and inserts
      // first; then a's series, stored already, conflict and must be looked up, not lost or doubled.
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      await w.write([scrape(body(100), t0 + 1000, b)], t0);
      await w.write([scrape(body(1000), t0 + 2000, a)], t0);
      const rows = await db.query<{ instance: string; series: number; samples: number; sum: number }>(
        `SELECT labels->>'instance' AS instance, count(DISTINCT series_id)::int AS series,
                count(*)::int AS samples, sum(value)::float8 AS sum
           FROM hostscope.samples WHERE metric = 'm' GROUP BY 1 ORDER BY 1`,
      );
      const sum = (v: number): number => 50 * v + (49 * 50) / 2;
      expect(rows).toEqual([
        { instance: 'ha:9100', series: 50, samples: 100, sum: sum(0) + sum(1000) },
        { instance: 'hb:9100', series: 50, samples: 50, sum: sum(100) },
      ]);
    });

    it('files a columnar line under the target labels of each write, when they change under one cache', async () => {
      const t0 = Date.UTC(2030, 0, 3, 10);
      const base: Target = { url: 'http://h3:9100/metrics', instance: 'h3:9100', job: 'node' };
      const cache = new ParseCache();
      const columnar = (t: Target, body: string, timeMs: number): PendingScrape => {
        const families = parseExposition(body, 'text', cache);
        return { target: t, timeMs, families, sampleCount: countSamples(families), containerUsage: [] };
      };
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      const a: Target = { ...base, labels: { dc: 'a' } };
      const b: Target = { ...base, labels: { dc: 'b' } };
      await w.write([columnar(a, 'x{k="1"} 1\n', t0)], t0);
      // A file_sd reload relabels the target; the parser hands out the same line object for the same text.
      await w.write([columnar(b, 'x{k="1"} 2\n', t0 + 1000)], t0);
      await w.write([columnar(a, 'x{k="1"} 3\n', t0 + 2000)], t0);
      const rows = await db.query<{ dc: string; values: number[] }>(
        `SELECT labels->>'dc' AS dc, array_agg(value ORDER BY time) AS values
           FROM hostscope.samples WHERE metric = 'x' AND labels->>'instance' = 'h3:9100' GROUP BY 1 ORDER BY 1`,
      );
      expect(rows).toEqual([
        { dc: 'a', values: [1, 3] },
        { dc: 'b', values: [2] },
      ]);
    });
    it('recreates a head partition that maintenance dropped under a running writer', async () => {
      const t0 = Date.UTC(2030, 0, 1, 10);
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      await w.write([scrape('p 1\n', t0)], t0);
      await db.exec('DROP TABLE hostscope.samples_blocks_p2030010110');
      await w.write([scrape('p 2\n', t0 + 1000)], t0);
      expect(await db.query(`SELECT value FROM hostscope.samples WHERE metric = 'p'`)).toEqual([
        { value: 2 },
      ]);
    });

    it('writes host_usage and container_usage rows computed from known counter values', async () => {
      const t0 = Date.UTC(2030, 0, 1, 10);
      const usage = new UsageTracker();
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      const body = (busy: number, idle: number, ccpu: number): string =>
        [
          `node_cpu_seconds_total{cpu="0",mode="user"} ${busy}`,
          `node_cpu_seconds_total{cpu="0",mode="idle"} ${idle}`,
          'node_memory_MemTotal_bytes 1000',
          'node_memory_MemAvailable_bytes 250',
          'machine_cpu_cores 2',
          'machine_memory_bytes 1000',
          `container_cpu_usage_seconds_total{id="/docker/${'b'.repeat(64)}",name="db",image="pg"} ${ccpu}`,
          `container_memory_working_set_bytes{id="/docker/${'b'.repeat(64)}",name="db",image="pg"} 100`,
        ].join('\n') + '\n';
      const batch = [
        [100, 900, 10],
        [103, 901, 11],
        [106, 905, 14],
      ].map(([b, i, c], k) => {
        const s = scrape(body(b as number, i as number, c as number), t0 + k * 10_000);
        const u = usage.compute(
          target,
          s.timeMs,
          parseExposition(body(b as number, i as number, c as number), 'text'),
        );
        return { ...s, ...(u.host === undefined ? {} : { hostUsage: u.host }), containerUsage: u.containers };
      });
      await w.write(batch, t0);
      const hosts = await db.query(
        `SELECT time, host, cpu_count, cpu_percent, memory_total_bytes::float8 AS total, memory_used_bytes::float8 AS used, memory_percent
           FROM hostscope.host_usage ORDER BY time`,
      );
      expect(hosts).toEqual(
        [
          {
            time: new Date(t0),
            host: 'h1:9100',
            cpu_count: 1,
            cpu_percent: null,
            total: 1000,
            used: 750,
            memory_percent: 75,
          },
          {
            time: new Date(t0 + 10_000),
            host: 'h1:9100',
            cpu_count: 1,
            cpu_percent: 75,
            total: 1000,
            used: 750,
            memory_percent: 75,
          },
          {
            time: new Date(t0 + 20_000),
            host: 'h1:9100',
            cpu_count: 1,
            cpu_percent: (100 * 3) / 7,
            total: 1000,
            used: 750,
            memory_percent: 75,
          },
        ].map((r) => ({
          ...r,
          cpu_percent: r.cpu_percent === null ? null : Math.round(r.cpu_percent * 1e6) / 1e6,
        })),
      );
      const containers = await db.query(
        `SELECT container, cpu_cores, cpu_percent, memory_usage_bytes::float8 AS mem, memory_percent FROM hostscope.container_usage ORDER BY time`,
      );
      expect(containers).toEqual([
        { container: 'db', cpu_cores: null, cpu_percent: null, mem: 100, memory_percent: 10 },
        { container: 'db', cpu_cores: 0.1, cpu_percent: 5, mem: 100, memory_percent: 10 },
        { container: 'db', cpu_cores: 0.3, cpu_percent: 15, mem: 100, memory_percent: 10 },
      ]);
    });
  });

  describe('maintenance', () => {
    it('rolls up closed hours with count/sum/min/max/first/last and a counter increase that survives resets', async () => {
      const h0 = Date.UTC(2030, 0, 1, 10);
      const w = new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });
      // Counter: 10, 20, 5 (reset), 15 in hour 0; 25, 2 (reset) in hour 1. Gauge: 4, 8 then 6.
      const values = [
        [0, 10, 4],
        [15, 20, 8],
        [30, 5, null],
        [45, 15, null],
        [60, 25, 6],
        [75, 2, null],
      ] as const;
      await w.write(
        values.map(([min, c, g]) =>
          scrape(`# TYPE c_total counter\nc_total ${c}\n${g === null ? '' : `g ${g}\n`}`, h0 + min * 60_000),
        ),
        h0,
      );
      const r = await maintain(db, logger, {
        retentionRawMs: 3650 * DAY,
        retentionHourlyMs: 3650 * DAY,
        nowMs: h0 + 3 * HOUR,
      });
      expect(r.hoursRolledUp).toBeGreaterThanOrEqual(2);
      const rows = await db.query(
        `SELECT metric, time, count, sum, min, max, first, last, increase, avg FROM hostscope.samples_hourly
          WHERE metric IN ('c_total', 'g') ORDER BY metric, time`,
      );
      expect(rows).toEqual([
        // 10 -> 20 (+10), 20 -> 5 reset (+5), 5 -> 15 (+10): 25
        {
          metric: 'c_total',
          time: new Date(h0),
          count: 4,
          sum: 50,
          min: 5,
          max: 20,
          first: 10,
          last: 15,
          increase: 25,
          avg: 12.5,
        },
        // from the previous hour's last 15: -> 25 (+10), 25 -> 2 reset (+2): 12
        {
          metric: 'c_total',
          time: new Date(h0 + HOUR),
          count: 2,
          sum: 27,
          min: 2,
          max: 25,
          first: 25,
          last: 2,
          increase: 12,
          avg: 13.5,
        },
        {
          metric: 'g',
          time: new Date(h0),
          count: 2,
          sum: 12,
          min: 4,
          max: 8,
          first: 4,
          last: 8,
          increase: null,
          avg: 6,
        },
        {
          metric: 'g',
          time: new Date(h0 + HOUR),
          count: 1,
          sum: 6,
          min: 6,
          max: 6,
          first: 6,
          last: 6,
          increase: null,
          avg: 6,
        },
      ]);
      // A late sample for hour 0 (after an outage) re-rolls hour 0 and the hour after it.
      await w.write([scrape('# TYPE c_total counter\nc_total 17\n', h0 + 50 * 60_000)], h0 + 3 * HOUR);
      await maintain(db, logger, {
        retentionRawMs: 3650 * DAY,
        retentionHourlyMs: 3650 * DAY,
        nowMs: h0 + 4 * HOUR,
      });
      const again = await db.query<{ count: number; increase: number }>(
        `SELECT count, increase FROM hostscope.samples_hourly WHERE metric = 'c_total' ORDER BY time`,
      );
      expect(again).toEqual([
        { count: 5, increase: 27 },
        { count: 2, increase: 10 },
      ]);
    });

    it('drops whole partitions past retention (raw chunks and rollups monthly) and keeps the rest', async () => {
      const now = Date.UTC(2030, 5, 20, 12);
      const w = new SampleWriter(db, logger, { past: 3650 * DAY, future: DAY });
      const times = [now - 20 * DAY, now - 15 * DAY, now - 13 * DAY, now - HOUR * 3];
      await w.write(
        times.map((t) => scrape('m 1\n', t)),
        now,
      );
      await maintain(db, logger, { retentionRawMs: 14 * DAY, retentionHourlyMs: 400 * DAY, nowMs: now });
      const children = async (parent: string): Promise<string[]> =>
        (
          await db.query<{ name: string }>(
            `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = $1::regclass ORDER BY 1`,
            [parent],
          )
        ).map((r) => r.name);
      // Every closed hour was compacted and its head partition dropped; May's chunks are past retention.
      expect(await children('hostscope.samples_raw')).toEqual([]);
      expect(await children('hostscope.samples_blocks')).toEqual([]);
      expect(await children('hostscope.chunks')).toEqual(['chunks_p203006']);
      expect(await db.query(`SELECT time FROM hostscope.samples WHERE metric = 'm' ORDER BY time`)).toEqual([
        { time: new Date(now - 13 * DAY) },
        { time: new Date(now - 3 * HOUR) },
      ]);
      // Rollups of every closed hour, those of the dropped days included, were made before the drop.
      expect(
        await db.query(`SELECT count(*)::int AS n FROM hostscope.samples_hourly WHERE metric = 'm'`),
      ).toEqual([{ n: 4 }]);
      await maintain(db, logger, {
        retentionRawMs: 14 * DAY,
        retentionHourlyMs: 14 * DAY,
        nowMs: now + 20 * DAY,
      });
      const hourly = await db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'hostscope.samples_hourly_raw'::regclass ORDER BY 1`,
      );
      expect(hourly.map((p) => p.name)).toEqual(['samples_hourly_raw_p203006']);
    });
  });

  describe('usage retention', () => {
    it('keeps per-scrape usage rows --retention.usage and their hourly rollups --retention.hourly', async () => {
      const now = Date.UTC(2030, 5, 20, 12);
      const w = new SampleWriter(db, logger, { past: 3650 * DAY, future: DAY });
      for (const t of [now - 20 * DAY, now - 3 * HOUR]) {
        const s = scrape('node_memory_MemTotal_bytes 1000\nnode_memory_MemAvailable_bytes 250\n', t);
        const usage = new UsageTracker().compute(target, t, s.families);
        await w.write([{ ...s, ...(usage.host === undefined ? {} : { hostUsage: usage.host }) }], now);
      }
      await maintain(db, logger, {
        retentionRawMs: 90 * DAY,
        retentionUsageMs: 14 * DAY,
        retentionHourlyMs: 400 * DAY,
        nowMs: now,
      });
      const times = async (sql: string): Promise<number[]> =>
        (await db.query<{ time: Date }>(sql)).map((r) => r.time.getTime());
      expect(await times('SELECT time FROM hostscope.host_usage ORDER BY 1')).toEqual([now - 3 * HOUR]);
      expect(await times('SELECT time FROM hostscope.host_usage_hourly ORDER BY 1')).toEqual([
        now - 20 * DAY,
        now - 3 * HOUR,
      ]);
      expect(
        await times(
          `SELECT time FROM hostscope.samples WHERE metric = 'node_memory_MemTotal_bytes' ORDER BY 1`,
        ),
      ).toEqual([now - 20 * DAY, now - 3 * HOUR]);
    });
  });

  describe('inventory', () => {
    const info = (disks: string[], cname = 'web'): string =>
      [
        'hostscope_system_info{hostname="h1",os="Debian",kernel="6.1",arch="x64",virtual="false"} 1',
        ...disks.map((d) => `hostscope_disk_info{device="${d}",size_bytes="1000",type="SSD"} 1`),
        'machine_cpu_cores 2',
        cname === ''
          ? ''
          : `container_last_seen{id="/docker/${'c'.repeat(64)}",name="${cname}",image="nginx",container_label_app="x"} 1`,
      ].join('\n') + '\n';

    async function apply(body: string, t: number): Promise<void> {
      await applyInventory(db, extractInventory(target, t, parseExposition(body, 'text')));
    }

    it('upserts, soft-deletes vanished items and undeletes returning ones, keeping ids', async () => {
      await apply(info(['/dev/sda', '/dev/sdb']), 1000);
      const first = await db.query<{ id: string; device: string }>(
        'SELECT id, device FROM hostscope.disk_info ORDER BY device',
      );
      expect(first.map((d) => d.device)).toEqual(['/dev/sda', '/dev/sdb']);
      await apply(info(['/dev/sda'], ''), 2000);
      expect(await db.query('SELECT device, is_deleted FROM hostscope.disk_info ORDER BY device')).toEqual([
        { device: '/dev/sda', is_deleted: false },
        { device: '/dev/sdb', is_deleted: true },
      ]);
      expect(await db.query('SELECT name, is_deleted, labels FROM hostscope.containers')).toEqual([
        { name: 'web', is_deleted: true, labels: { app: 'x' } },
      ]);
      const deletedAt = await db.query<{ updated_at: Date; created_at: Date }>(
        `SELECT updated_at, created_at FROM hostscope.disk_info WHERE device = '/dev/sdb'`,
      );
      await apply(info(['/dev/sda', '/dev/sdb']), 3000);
      const back = await db.query<{ id: string; device: string; is_deleted: boolean; size_bytes: string }>(
        'SELECT id, device, is_deleted, size_bytes FROM hostscope.disk_info ORDER BY device',
      );
      expect(back.map((d) => [d.device, d.is_deleted, Number(d.size_bytes)])).toEqual([
        ['/dev/sda', false, 1000],
        ['/dev/sdb', false, 1000],
      ]);
      expect(back.map((d) => d.id)).toEqual(first.map((d) => d.id));
      const undeleted = await db.query<{ updated_at: Date; created_at: Date }>(
        `SELECT updated_at, created_at FROM hostscope.disk_info WHERE device = '/dev/sdb'`,
      );
      expect(undeleted[0]?.created_at).toEqual(deletedAt[0]?.created_at);
      expect(await db.query('SELECT is_deleted FROM hostscope.containers')).toEqual([{ is_deleted: false }]);
      expect(await db.query('SELECT instance, hostname, os, is_deleted FROM hostscope.hosts')).toEqual([
        { instance: 'h1:9100', hostname: 'h1', os: 'Debian', is_deleted: false },
      ]);
    });
  });

  describe('seed', () => {
    it('keeps seeded hosts live after its closing maintenance, however many days it fills', async () => {
      const now = Date.UTC(2031, 5, 3, 0, 30);
      await runSeed(db, { hosts: 1, days: 3, stepMs: 3_600_000, nowMs: now, seed: 5 }, logger);
      const rows = await db.query<{ deleted: boolean; last_seen: Date }>(
        `SELECT is_deleted AS deleted, last_seen FROM hostscope.hosts WHERE hostname = 'seed-host-01'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.deleted).toBe(false);
      expect(now - new Date(rows[0]?.last_seen ?? 0).getTime()).toBeLessThanOrEqual(3_600_000);
    });

    it('writes compacted chunks and the same hourly rollups maintain computes from them', async () => {
      const now = Date.UTC(2030, 0, 3, 0, 30);
      await runSeed(db, { hosts: 2, days: 2, stepMs: 60_000, nowMs: now, seed: 9 }, logger);
      // Straight into chunks: nothing in the head, every sample once through the view.
      expect(await db.query('SELECT count(*)::int AS n FROM hostscope.samples_raw')).toEqual([{ n: 0 }]);
      expect(await db.query('SELECT count(*)::int AS n FROM hostscope.samples_blocks')).toEqual([{ n: 0 }]);
      const dupes = await db.query(
        'SELECT series_id, time FROM hostscope.samples GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 1',
      );
      expect(dupes).toEqual([]);
      const rollups =
        'SELECT series_id, time, count, sum, min, max, first, last, increase FROM hostscope.samples_hourly ORDER BY 1, 2';
      const seeded = await db.query(rollups);
      expect(seeded.length).toBeGreaterThan(1000);
      await db.exec(
        'TRUNCATE hostscope.samples_hourly_raw; UPDATE hostscope.rollup_state SET rolled_until = NULL',
      );
      await maintain(db, logger, { retentionRawMs: 30 * DAY, retentionHourlyMs: 400 * DAY, nowMs: now });
      const recomputed = await db.query<Record<string, number>>(rollups);
      expect(recomputed.length).toBe(seeded.length);
      // Sums are added in another order in SQL: equal to the last few bits.
      recomputed.forEach((r, i) => {
        const s0 = seeded[i] as Record<string, number>;
        for (const k of Object.keys(r)) {
          const a = r[k];
          const b = s0[k];
          if (typeof a === 'number' && typeof b === 'number')
            expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
          else expect(a).toEqual(b);
        }
      });
    });

    it('fills samples, usage, inventory and rollups with a host whose disk fills up', async () => {
      const now = Date.UTC(2030, 0, 2, 0, 30);
      const written = await runSeed(db, { hosts: 2, days: 1, stepMs: 300_000, nowMs: now, seed: 3 }, logger);
      expect(written).toBeGreaterThan(10_000);
      // Seeded hosts stay live: last_seen follows the synthetic history, so maintain does not retire them.
      const hosts = await db.query<{ hostname: string }>(
        'SELECT hostname FROM hostscope.hosts WHERE NOT is_deleted ORDER BY 1',
      );
      expect(hosts.map((h) => h.hostname)).toEqual(['seed-host-01', 'seed-host-02']);
      expect(
        await db.query('SELECT count(*)::int AS n FROM hostscope.containers WHERE NOT is_deleted'),
      ).toEqual([{ n: 6 }]);
      const usage = await db.query<{ host: string; lo: number; hi: number; n: string }>(
        `SELECT host, min(cpu_percent) AS lo, max(cpu_percent) AS hi, count(*) AS n FROM hostscope.host_usage GROUP BY 1 ORDER BY 1`,
      );
      for (const u of usage) {
        expect(Number(u.n)).toBe(289);
        expect(u.lo).toBeGreaterThan(0);
        expect(u.hi).toBeLessThan(100);
        expect(u.hi - u.lo).toBeGreaterThan(10); // a daily cycle, not a flat line
      }
      const disk = await db.query<{ host: string; first: number; last: number }>(
        `SELECT labels->>'instance' AS host, min(value) AS last, max(value) AS first FROM hostscope.samples
          WHERE metric = 'node_filesystem_avail_bytes' GROUP BY 1 ORDER BY 1`,
      );
      expect(disk[0]?.last).toBeLessThan(0.05 * (disk[0]?.first ?? 0)); // seed-host-01 fills its disk
      const rolled = await db.query<{ n: number }>(
        `SELECT count(DISTINCT time)::int AS n FROM hostscope.samples_hourly`,
      );
      expect(rolled[0]?.n).toBeGreaterThanOrEqual(24);
      const cu = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM hostscope.container_usage WHERE cpu_percent > 0`,
      );
      expect(cu[0]?.n).toBeGreaterThan(1000);
    });
  });
});
