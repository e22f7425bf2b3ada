import type { Database } from '../../../src/db/database';
import { migrate } from '../../../src/db/migrate';
import { PostgresDatabase } from '../../../src/db/postgres';
import { silentLogger } from '../../../src/log/logger';
import { maintain } from '../../../src/sink/maintain';
import type { PendingScrape, Target } from '../../../src/sink/types';
import { SampleWriter } from '../../../src/sink/writer';
import { blockHours, MIN_CHUNK_SAMPLES } from '../../../src/storage/compact';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { scrape } from '../../helpers/scrapes';
import { describeWithService } from '../../helpers/services';
import { runCli } from '../sink/harness';
import { tempPgliteChild } from '../../helpers/pglite-child';

jest.setTimeout(300_000);

const HOUR = 3_600_000;
const DAY = 86_400_000;
const logger = silentLogger();
const T0 = Date.UTC(2030, 2, 10, 20); // 20:00 UTC: the history below crosses midnight

const targets: { t: Target; stepMs: number }[] = [
  { t: { url: 'http://fast:9100/metrics', instance: 'fast:9100', job: 'node' }, stepMs: 1000 },
  { t: { url: 'http://std:9100/metrics', instance: 'std:9100', job: 'node' }, stepMs: 15_000 },
  { t: { url: 'http://slow:9100/metrics', instance: 'slow:9100', job: 'node' }, stepMs: 60_000 },
];

/** Exposition text of scrape `i` of a target: a counter, a gauge with odd values, a series that comes and goes. */
function body(i: number, jitter: number): string {
  const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0.5, 1e300, 5e-324][i % 6];
  const lines = [
    '# TYPE c_total counter',
    `c_total{path="/a b\\"q\\\\"} ${i * 3 + (i % 100 === 50 ? -1e6 : 0)}`,
    '# TYPE g gauge',
    `g{k="v"} ${String(odd).replace('Infinity', 'Inf')}`,
    `g{k="w"} ${Math.sin(i / 10) * 1000 + jitter}`,
  ];
  if (i % 7 < 4) lines.push(`flappy ${i}`);
  return lines.join('\n') + '\n';
}

/** Scrapes of every target over [from, to), with a few ms of jitter in their times, as the sink takes them. */
function history(from: number, to: number): PendingScrape[] {
  const out: PendingScrape[] = [];
  for (const { t, stepMs } of targets)
    for (let time = from, i = 0; time < to; time += stepMs, i++) {
      const jitter = (i * 7919) % 23;
      out.push(scrape(body(Math.floor(time / stepMs), jitter), time + jitter, t));
    }
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

async function write(db: Database, scrapes: PendingScrape[], nowMs: number): Promise<void> {
  const w = new SampleWriter(db, logger, { past: 3650 * DAY, future: 3650 * DAY });
  for (let i = 0; i < scrapes.length; i += 2000) await w.write(scrapes.slice(i, i + 2000), nowMs);
}

type Row = {
  time: Date;
  metric: string;
  labels: Record<string, string>;
  value: number;
};

/** Every sample through the public view, in a stable order, values as text so NaN compares. */
async function everything(db: Database): Promise<string[]> {
  const rows = await db.query<Row>(
    `SELECT time, metric, labels, value FROM hostscope.samples ORDER BY metric, labels::text, time`,
  );
  return rows
    .map((r) => `${r.metric} ${sortedJson(r.labels)} ${r.time.toISOString()} ${String(r.value)}`)
    .sort();
}

async function count(db: Database, sql: string): Promise<number> {
  const rows = await db.query<{ n: string | number }>(sql);
  return Number(rows[0]?.n);
}

/** Rows left in either head table (row-per-sample and block) before a time. */
const headRowsBefore = (ms: number): string =>
  `SELECT (SELECT count(*) FROM hostscope.samples_raw WHERE time < '${new Date(ms).toISOString()}')
        + (SELECT count(*) FROM hostscope.samples_blocks WHERE time < '${new Date(ms).toISOString()}') AS n`;

function behaviour(name: string, open: () => Promise<{ db: Database; close: () => Promise<void> }>): void {
  describe(name, () => {
    let db: Database;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ db, close } = await open());
    });
    afterAll(async () => {
      await close();
    });
    beforeEach(async () => {
      await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
      await migrate(db, logger);
    });

    it('returns exactly the same samples and rollups through the views after compaction', async () => {
      const now = T0 + 5 * HOUR + 20 * 60_000;
      await write(db, history(T0, now), now);
      const before = await everything(db);
      expect(before.length).toBeGreaterThan(20_000);
      await maintain(db, logger, { retentionRawMs: 3650 * DAY, retentionHourlyMs: 3650 * DAY, nowMs: now });
      const hourlyBefore = await db.query(
        'SELECT time, metric, labels, count, sum, min, max, first, last, increase FROM hostscope.samples_hourly ORDER BY 1, 2, 3::text',
      );
      // The closed hours moved to chunks; the open hour (and the one not closed for 5 minutes) stays.
      expect(await count(db, 'SELECT count(*) AS n FROM hostscope.chunks')).toBeGreaterThan(0);
      expect(await count(db, headRowsBefore(T0 + 5 * HOUR))).toBe(0);
      expect(await everything(db)).toEqual(before);

      // Re-rolling every hour from the compacted chunks gives the same rollups as from the head.
      await db.exec(
        'TRUNCATE hostscope.samples_hourly_raw; UPDATE hostscope.rollup_state SET rolled_until = NULL',
      );
      await maintain(db, logger, { retentionRawMs: 3650 * DAY, retentionHourlyMs: 3650 * DAY, nowMs: now });
      expect(
        await db.query(
          'SELECT time, metric, labels, count, sum, min, max, first, last, increase FROM hostscope.samples_hourly ORDER BY 1, 2, 3::text',
        ),
      ).toEqual(hourlyBefore);
    });

    it('sizes blocks by density, within a UTC day, each at least MIN_CHUNK_SAMPLES long when it can be', async () => {
      const now = T0 + 6 * HOUR + 10 * 60_000;
      await write(db, history(T0, now), now);
      await maintain(db, logger, { retentionRawMs: 3650 * DAY, retentionHourlyMs: 3650 * DAY, nowMs: now });
      const blocks = await db.query<{
        instance: string;
        hours: number;
        day_start: Date;
        day_end: Date;
        n: number;
      }>(
        `SELECT se.labels->>'instance' AS instance, extract(epoch FROM c.stop - c.start)::int / 3600 AS hours,
                date_trunc('day', c.start AT TIME ZONE 'UTC') AS day_start,
                date_trunc('day', (c.stop - interval '1 ms') AT TIME ZONE 'UTC') AS day_end, c.count AS n
           FROM hostscope.chunks c JOIN hostscope.series se ON se.id = c.series_id
          WHERE se.labels->>'k' = 'w'`,
      );
      for (const b of blocks) expect(b.day_start).toEqual(b.day_end);
      const spans = new Map(blocks.map((b) => [b.instance, b.hours]));
      expect(spans.get('fast:9100')).toBe(blockHours(3600));
      expect(spans.get('std:9100')).toBe(blockHours(240));
      expect(spans.get('slow:9100')).toBe(blockHours(60));
      // A full block at 15 s holds 480 samples: past PostgreSQL's ~2 kB threshold, so it is compressed
      // (a counter's values are; noise like g{k="w"} does not shrink).
      const full = blocks.filter((b) => b.instance === 'std:9100' && b.n >= MIN_CHUNK_SAMPLES);
      expect(full.length).toBeGreaterThan(0);
      const sizes = await db.query<{ raw: number; stored: number }>(
        `SELECT 8 * c.count AS raw, pg_column_size(c."values") AS stored
           FROM hostscope.chunks c JOIN hostscope.series se ON se.id = c.series_id
          WHERE se.labels->>'instance' = 'std:9100' AND se.labels ? 'path' AND c.count >= $1`,
        [MIN_CHUNK_SAMPLES],
      );
      expect(sizes.length).toBeGreaterThan(0);
      for (const s of sizes) expect(s.stored).toBeLessThan(s.raw / 2);
      // The series of one target share their time sets.
      expect(await count(db, 'SELECT count(*) AS n FROM hostscope.chunk_times')).toBeLessThan(
        (await count(db, 'SELECT count(*) AS n FROM hostscope.chunks')) / 3,
      );
    });

    it('merges late samples into compacted blocks without duplicates; the stored sample wins', async () => {
      const now = T0 + 3 * HOUR + 10 * 60_000;
      const all = history(T0, now);
      // The first pass misses every 3rd scrape (as if an outage buffered them) ...
      await write(
        db,
        all.filter((_, i) => i % 3 !== 0),
        now,
      );
      await maintain(db, logger, { retentionRawMs: 3650 * DAY, retentionHourlyMs: 3650 * DAY, nowMs: now });
      // ... which arrive later, together with a replay of everything (a retried batch after a crash),
      // where the replay carries different values for already-stored samples: those must not win.
      await write(
        db,
        all.filter((_, i) => i % 3 === 0),
        now + HOUR,
      );
      await maintain(db, logger, {
        retentionRawMs: 3650 * DAY,
        retentionHourlyMs: 3650 * DAY,
        nowMs: now + HOUR,
      });
      const changed = all.map((s) => ({
        ...s,
        families: s.families.map((f) => ({ ...f, samples: f.samples.map((x) => ({ ...x, value: -42 })) })),
      }));
      await write(db, changed, now + HOUR);
      await maintain(db, logger, {
        retentionRawMs: 3650 * DAY,
        retentionHourlyMs: 3650 * DAY,
        nowMs: now + 2 * HOUR,
      });

      expect(await everything(db)).toEqual(expected(all));
      expect(await count(db, `SELECT count(*) AS n FROM hostscope.samples WHERE value = -42`)).toBe(0);
    });

    it('converts day partitions of the previous schema in place, keeping every sample', async () => {
      const day = Date.UTC(2030, 2, 9);
      await db.exec('DROP SCHEMA hostscope CASCADE');
      const { MIGRATIONS } = await import('../../../src/db/migrations');
      await migrate(db, logger, MIGRATIONS.slice(0, 1));
      // Schema 1 wrote a day partition per UTC day, one row per sample.
      await db.exec(
        `SELECT hostscope.ensure_partition('samples_raw', 'p20300309', '2030-03-09', '2030-03-10')`,
      );
      await migrate(db, logger);
      const scrapes = history(day + 22 * HOUR, day + DAY + HOUR);
      await write(
        db,
        scrapes.filter((s) => s.timeMs < day + DAY),
        day + DAY,
      );
      // The writer of today stores scraped samples as blocks: move that day's into the old day partition,
      // as the previous schema would have stored them.
      await db.exec(`
        INSERT INTO hostscope.samples_raw (series_id, time, value)
        SELECT series_id, time, value FROM hostscope.block_samples('2030-03-09', '2030-03-10');
        DELETE FROM hostscope.samples_blocks WHERE time < '2030-03-10'`);
      expect(await count(db, 'SELECT count(*) AS n FROM hostscope.samples_raw_p20300309')).toBeGreaterThan(0);
      const before = await everything(db);
      await write(
        db,
        scrapes.filter((s) => s.timeMs >= day + DAY),
        day + DAY + HOUR,
      );
      await maintain(db, logger, {
        retentionRawMs: 3650 * DAY,
        retentionHourlyMs: 3650 * DAY,
        nowMs: day + DAY + 2 * HOUR,
      });
      expect(
        await count(db, `SELECT count(*) AS n FROM pg_class WHERE relname = 'samples_raw_p20300309'`),
      ).toBe(0);
      const after = await everything(db);
      expect(after).toEqual(expected(scrapes));
      expect(before).toEqual(expected(scrapes.filter((s) => s.timeMs < day + DAY)));
    });
  });
}

/** Labels as sorted JSON, so both sides print them alike (jsonb orders keys its own way). */
function sortedJson(labels: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** What the view must return for these scrapes: each sample once, the first written winning. */
function expected(scrapes: readonly PendingScrape[]): string[] {
  const rows = new Map<string, string>();
  for (const s of scrapes)
    for (const f of s.families)
      for (const x of f.samples) {
        const labels: Record<string, string> = { instance: s.target.instance, job: s.target.job };
        for (const [k, v] of Object.entries(x.labels)) if (v !== '') labels[k] = v;
        const head = `${x.name} ${sortedJson(labels)}`;
        const key = `${head} ${s.timeMs}`;
        if (!rows.has(key)) rows.set(key, `${head} ${new Date(s.timeMs).toISOString()} ${String(x.value)}`);
      }
  return [...rows.values()].sort();
}

describeWithService('PostgreSQL', hasPostgres, 'compacted storage', () => {
  let pg: PgServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg.destroy();
  });

  behaviour('on PostgreSQL', async () => {
    const db = new PostgresDatabase(pg.url);
    return { db, close: () => db.close() };
  });

  it('loses and duplicates nothing when compaction is killed at any point', async () => {
    const db = new PostgresDatabase(pg.url, { applicationName: 'hostscope-test' });
    try {
      await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
      await migrate(db, logger);
      // Recent history, since the `hostscope maintain` command below works relative to the real clock.
      const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
      const scrapes = history(end - 2 * HOUR, end);
      await write(db, scrapes, Date.now());
      const want = expected(scrapes);
      expect(await everything(db)).toEqual(want);
      // `hostscope maintain` runs while this test terminates its database session once it is compacting,
      // 150 ms later on each attempt, until a run gets through. After every kill nothing is lost or
      // doubled; the steps committed before a kill stay done.
      let killed = 0;
      let completed = false;
      for (let attempt = 0; attempt < 60 && !completed; attempt++) {
        const child = runCli(['maintain', `--database.url=${pg.url}`, '--log.level=error']);
        const deadline = Date.now() + 60_000;
        let stop = false;
        const killer = (async () => {
          while (!stop && Date.now() < deadline) {
            const busy = await db.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity
                WHERE application_name = 'hostscope' AND query ~ '(hs_|chunk)' AND state = 'active'`,
            );
            if (busy.length > 0) {
              await new Promise((r) => setTimeout(r, attempt * 150));
              await db.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hostscope'",
              );
              return true;
            }
            await new Promise((r) => setTimeout(r, 2));
          }
          return false;
        })();
        const code = await child.exited;
        stop = true;
        await killer;
        if (code === 0) completed = true;
        else killed++;
        expect(await everything(db)).toEqual(want);
      }
      expect(killed).toBeGreaterThan(0);
      expect(completed).toBe(true);
      expect(await count(db, headRowsBefore(end))).toBe(0);
    } finally {
      await db.close();
    }
  });
});

describe('compacted storage on PGlite', () => {
  behaviour('embedded', tempPgliteChild);
});
