import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Database } from '../../../src/db/database';
import { migrate } from '../../../src/db/migrate';
import { PostgresDatabase } from '../../../src/db/postgres';
import { silentLogger } from '../../../src/log/logger';
import { maintain } from '../../../src/sink/maintain';
import type { PendingScrape } from '../../../src/sink/types';
import { SampleWriter } from '../../../src/sink/writer';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { scrape } from '../../helpers/scrapes';
import { describeWithService } from '../../helpers/services';
import { errorLines, eventually, fixtureServer, query, runCli, text, type FixtureServer } from './harness';

jest.setTimeout(180_000);

const HOUR = 3_600_000;
const MIN = 60_000;
const DAY = 86_400_000;
const logger = silentLogger();
const retention = { retentionRawMs: 90 * DAY, retentionHourlyMs: 400 * DAY };

/** Scrapes every 10 s over [from, to) with gauge `g` at `g`, as a sink whose clock reads those times takes them. */
function rounds(from: number, to: number, g = 1): PendingScrape[] {
  const out: PendingScrape[] = [];
  for (let t = from; t < to; t += 10_000)
    out.push(scrape(`# TYPE c_total counter\nc_total ${t / 1000}\ng ${g}\n`, t));
  return out;
}

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const rows = await db.query<{ n: string | number | null }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** Samples of metric `g` stored in the hour starting at `h`, and the count its hourly rollup holds. */
async function hourCounts(db: Database, h: number): Promise<{ stored: number; rolled: number }> {
  const range = [new Date(h).toISOString(), new Date(h + HOUR).toISOString()];
  return {
    stored: await count(
      db,
      `SELECT count(*) AS n FROM hostscope.samples WHERE metric = 'g' AND time >= $1 AND time < $2`,
      range,
    ),
    rolled: await count(
      db,
      `SELECT sum(count) AS n FROM hostscope.samples_hourly WHERE metric = 'g' AND time >= $1 AND time < $2`,
      range,
    ),
  };
}

describeWithService('PostgreSQL', hasPostgres, 'the sink clock jumping forward and back', () => {
  let pg: PgServer;
  let db: Database;
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

  // The defect the stress suite's clockJump fault found: an hour rolled up (and compacted) while the clock
  // was an hour ahead got more samples once the clock was set back; they were written to its head, but
  // the hour was "current" on the writer's clock, so nothing queued it for a new rollup, and maintenance
  // never went back to it (its watermark had passed it): the rollup stayed short of them for good.
  it('rolls an hour up again when samples land in it after it was rolled up under a clock running ahead', async () => {
    const h = Date.UTC(2030, 4, 6, 14); // 14:00 UTC
    const writer = new SampleWriter(db, logger);
    // True time 14:20: ten minutes of rounds.
    for (const s of rounds(h + 10 * MIN, h + 20 * MIN)) await writer.write([s], s.timeMs);
    // The clock jumps an hour ahead: rounds at 15:20..15:21, and maintenance closes and compacts 14:00.
    for (const s of rounds(h + HOUR + 20 * MIN, h + HOUR + 21 * MIN)) await writer.write([s], s.timeMs);
    const ahead = await maintain(db, logger, { ...retention, nowMs: h + HOUR + 21 * MIN });
    expect(ahead.compactedSamples).toBeGreaterThan(0);
    expect(await hourCounts(db, h)).toEqual({ stored: 60, rolled: 60 });
    // Back 70 minutes (14:11:05, between the instants stored before): rounds land in 14:00 again, the
    // current hour on this clock.
    for (const s of rounds(h + 11 * MIN + 5000, h + 12 * MIN)) await writer.write([s], s.timeMs);
    // Back to true time and beyond the close of 15:00: every hour's rollup holds every stored sample.
    await maintain(db, logger, { ...retention, nowMs: h + HOUR + 10 * MIN });
    await maintain(db, logger, { ...retention, nowMs: h + 2 * HOUR + 10 * MIN });
    expect(await hourCounts(db, h)).toEqual({ stored: 66, rolled: 66 });
    expect(await hourCounts(db, h + HOUR)).toEqual({ stored: 6, rolled: 6 });
  });

  // Found with the one above: a jump back onto instants already stored and compacted wrote a second sample
  // of those instants to the head. Compaction keeps the stored one (as the head does, and as Prometheus
  // rejects a second sample at a timestamp), but the hour was rolled up again before it was compacted,
  // so its rollup counted both for good.
  it('keeps the stored sample, in the data and in the rollup, when a jump back repeats compacted instants', async () => {
    const h = Date.UTC(2030, 4, 6, 14);
    const writer = new SampleWriter(db, logger);
    for (const s of rounds(h + 10 * MIN, h + 20 * MIN)) await writer.write([s], s.timeMs);
    for (const s of rounds(h + HOUR + 20 * MIN, h + HOUR + 21 * MIN)) await writer.write([s], s.timeMs);
    await maintain(db, logger, { ...retention, nowMs: h + HOUR + 21 * MIN });
    // Back 70 minutes onto the very instants stored at 14:11 (other values).
    for (const s of rounds(h + 11 * MIN, h + 12 * MIN, 2)) await writer.write([s], s.timeMs);
    await maintain(db, logger, { ...retention, nowMs: h + 2 * HOUR + 10 * MIN });
    expect(await hourCounts(db, h)).toEqual({ stored: 60, rolled: 60 });
    expect(await count(db, `SELECT max(value) AS n FROM hostscope.samples WHERE metric = 'g'`)).toBe(1);
    expect(await count(db, `SELECT max(max) AS n FROM hostscope.samples_hourly WHERE metric = 'g'`)).toBe(1);
  });

  it('rolls an hour up again when another process rolled it up first with its clock ahead', async () => {
    const h = Date.UTC(2030, 4, 6, 14);
    // Maintenance elsewhere (a clock 20 minutes ahead) closed 14:00 at its 15:06.
    const writer = new SampleWriter(db, logger);
    for (const s of rounds(h + 40 * MIN, h + 45 * MIN)) await writer.write([s], s.timeMs);
    await maintain(db, logger, { ...retention, nowMs: h + HOUR + 6 * MIN });
    // This sink's clock reads 14:46: its rounds are in its current hour, rolled up already.
    for (const s of rounds(h + 46 * MIN, h + 47 * MIN)) await writer.write([s], s.timeMs);
    await maintain(db, logger, { ...retention, nowMs: h + HOUR + 26 * MIN });
    expect(await hourCounts(db, h)).toEqual({ stored: 36, rolled: 36 });
  });

  describe('a running sink driven through --testing.clock-offset-file', () => {
    let target: FixtureServer;
    let dir: string;
    beforeAll(async () => {
      target = await fixtureServer((n, _req, res) =>
        text(res, `# TYPE served_total counter\nserved_total ${n}\n`),
      );
      dir = mkdtempSync(path.join(tmpdir(), 'hostscope-clock-e2e-'));
    });
    afterAll(async () => {
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stamps rounds with its clock through jumps, skipping and repeating none, each jump logged once', async () => {
      const file = path.join(dir, 'offset');
      const put = (ms: number): void => {
        writeFileSync(`${file}.tmp`, String(ms));
        renameSync(`${file}.tmp`, file);
      };
      put(0);
      await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
      const sink = runCli([
        'sink',
        `--scrape.target=${target.url}`,
        '--scrape.interval=1s',
        `--database.url=${pg.url}`,
        '--web.listen-address=127.0.0.1:0',
        '--maintain.schedule=',
        `--testing.clock-offset-file=${file}`,
      ]);
      const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
      const ups = async (): Promise<number[]> =>
        (
          await query<{ t: Date }>(
            pg.url,
            `SELECT time AS t FROM hostscope.samples WHERE metric = 'up' ORDER BY time`,
          )
        ).map((r) => r.t.getTime());
      const phase = async (offsetMs: number): Promise<number> => {
        put(offsetMs);
        const since = Date.now();
        await eventually(
          async () =>
            (await ups()).filter(
              (t) => Math.abs(t - (Date.now() + offsetMs)) < 10_000 && t > since + offsetMs,
            ).length >= 3,
          `three rounds stamped at offset ${offsetMs}`,
        );
        return since;
      };
      const trueStart = Date.now();
      await phase(0);
      await phase(HOUR);
      await phase(-10 * MIN);
      await phase(0);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      sink.child.kill('SIGTERM');
      expect(await sink.exited).toBe(0);
      const times = await ups();
      // Every scrape the target served is stored, once, at a time of its own.
      expect(times.length).toBe(target.requests);
      expect(new Set(times).size).toBe(times.length);
      // Stored at the sink's clock: around the true time, an hour ahead, and ten minutes behind.
      const end = Date.now();
      const band = (off: number): number =>
        times.filter((t) => t >= trueStart + off - 2000 && t <= end + off + 2000).length;
      expect(band(HOUR)).toBeGreaterThanOrEqual(3);
      expect(band(-10 * MIN)).toBeGreaterThanOrEqual(3);
      expect(band(0)).toBeGreaterThanOrEqual(6);
      expect(band(0) + band(HOUR) + band(-10 * MIN)).toBe(times.length);
      // The head partition of the hour an hour ahead was made.
      const ahead = new Date(Math.floor((trueStart + HOUR + 30_000) / HOUR) * HOUR)
        .toISOString()
        .replace(/[-:T]/g, '')
        .slice(0, 10);
      expect(
        await query(pg.url, `SELECT 1 FROM pg_tables WHERE schemaname = 'hostscope' AND tablename = $1`, [
          `samples_blocks_p${ahead}`,
        ]),
      ).toHaveLength(1);
      // Three jumps (+1 h, -70 min, +10 min), each logged once and counted; no tick skipped.
      const out = sink.output();
      expect(out.match(/the clock jumped (forward|back) between two scrape ticks/g)).toHaveLength(3);
      expect(metrics).toMatch(/^hostscope_sink_clock_jumps_total 3$/m);
      expect(metrics).toMatch(/^hostscope_sink_scrape_rounds_skipped_total\{reason="overrun"\} 0$/m);
      expect(metrics).toMatch(/^hostscope_sink_scrape_rounds_skipped_total\{reason="late"\} 0$/m);
      expect(errorLines(out)).toEqual([]);

      // `hostscope maintain` four hours later (the same seam): every hour is closed, compacted and rolled
      // up; nothing is lost, and each hour's rollup counts what it stores.
      const later = path.join(dir, 'later');
      writeFileSync(later, String(4 * HOUR));
      const m = runCli(['maintain', `--database.url=${pg.url}`, `--testing.clock-offset-file=${later}`]);
      expect(await m.exited).toBe(0);
      expect(await ups()).toEqual(times);
      const perHour = await query<{ h: Date; stored: number; rolled: number | null }>(
        pg.url,
        `SELECT s.h, s.stored, r.rolled FROM
           (SELECT date_trunc('hour', time, 'UTC') AS h, count(*)::int AS stored FROM hostscope.samples
             WHERE metric = 'up' GROUP BY 1) s
           LEFT JOIN (SELECT time AS h, sum(count)::int AS rolled FROM hostscope.samples_hourly
             WHERE metric = 'up' GROUP BY 1) r ON r.h = s.h`,
      );
      expect(perHour.length).toBeGreaterThanOrEqual(2);
      for (const r of perHour) expect(r.rolled).toBe(r.stored);
      expect(await count(db, 'SELECT count(*) AS n FROM hostscope.samples_blocks')).toBe(0);
    });

    it('refuses a missing or invalid offset file at start with exit status 2', async () => {
      const bad = path.join(dir, 'bad');
      writeFileSync(bad, 'one hour');
      for (const f of [bad, path.join(dir, 'none')])
        for (const args of [['sink', `--scrape.target=${target.url}`], ['maintain']]) {
          const cli = runCli([...args, `--database.url=${pg.url}`, `--testing.clock-offset-file=${f}`]);
          expect(await cli.exited).toBe(2);
          expect(cli.output()).toMatch(
            /--testing\.clock-offset-file \(env HOSTSCOPE_TESTING_CLOCK_OFFSET_FILE\)/,
          );
        }
    });
  });
});
