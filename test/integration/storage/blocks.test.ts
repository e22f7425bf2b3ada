import type { Database } from '../../../src/db/database';
import { migrate } from '../../../src/db/migrate';
import { BLOCK_WIDTH } from '../../../src/db/migrations/0004_blocks';
import { PostgresDatabase } from '../../../src/db/postgres';
import { silentLogger } from '../../../src/log/logger';
import type { Target } from '../../../src/sink/types';
import { SampleWriter } from '../../../src/sink/writer';
import { tempPgliteChild } from '../../helpers/pglite-child';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { scrape } from '../../helpers/scrapes';
import { describeWithService } from '../../helpers/services';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const logger = silentLogger();
const T0 = Date.UTC(2030, 4, 1, 12);
const a: Target = { url: 'http://a:9100/metrics', instance: 'a:9100', job: 'node' };
const b: Target = { url: 'http://b:9100/metrics', instance: 'b:9100', job: 'node' };

/** `n` gauges; series `i` is left out of scrape `k` when `skip(i, k)`; values encode (i, k). */
function body(n: number, k: number, skip: (i: number, k: number) => boolean = () => false): string {
  const lines = ['# TYPE g gauge'];
  for (let i = 0; i < n; i++) if (!skip(i, k)) lines.push(`g{i="${i}"} ${i * 1000 + k + 0.25}`);
  return lines.join('\n') + '\n';
}

/** What the public view returns, as sorted "instance i time value" lines (the synthetic series left out). */
async function stored(db: Database): Promise<string[]> {
  const rows = await db.query<{ time: Date; labels: Record<string, string>; value: number }>(
    `SELECT time, labels, value FROM hostscope.samples WHERE metric = 'g'`,
  );
  return rows.map((r) => `${r.labels.instance} ${r.labels.i} ${r.time.getTime()} ${r.value}`).sort();
}

/** The same samples read through samples_range (the path of rollups, compaction and the API). */
async function ranged(db: Database): Promise<string[]> {
  const rows = await db.query<{ time: Date; labels: Record<string, string>; value: number }>(
    `SELECT r.time, se.labels, r.value
       FROM hostscope.samples_range($1, $2) r
       JOIN hostscope.series se ON se.id = r.series_id
       JOIN hostscope.metrics m ON m.id = se.metric_id
      WHERE m.name = 'g'`,
    [new Date(T0 - DAY).toISOString(), new Date(T0 + DAY).toISOString()],
  );
  return rows.map((r) => `${r.labels.instance} ${r.labels.i} ${r.time.getTime()} ${r.value}`).sort();
}

function expected(t: Target, n: number, ks: readonly number[], skip = (_i: number, _k: number) => false) {
  const out: string[] = [];
  for (const k of ks)
    for (let i = 0; i < n; i++)
      if (!skip(i, k)) out.push(`${t.instance} ${i} ${T0 + k * 1000} ${i * 1000 + k + 0.25}`);
  return out;
}

async function count(db: Database, sql: string): Promise<number> {
  return Number((await db.query<{ n: string | number }>(sql))[0]?.n);
}

function behaviour(name: string, open: () => Promise<{ db: Database; close: () => Promise<void> }>): void {
  describe(name, () => {
    let db: Database;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ db, close } = await open());
    });
    afterAll(async () => close());
    beforeEach(async () => {
      await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
      await migrate(db, logger);
    });
    const writer = () => new SampleWriter(db, logger, { past: 365 * DAY, future: 365 * DAY });

    it('stores scraped samples as block rows and reads every one back, gaps included', async () => {
      const n = 3 * BLOCK_WIDTH + 17;
      const gaps = (i: number, k: number) => (i + k) % 5 === 0; // series come and go
      const w = writer();
      const ks = [0, 1, 2, 3];
      for (const k of ks) await w.write([scrape(body(n, k, gaps), T0 + k * 1000, a)], T0);
      const want = expected(a, n, ks, gaps);
      expect(await stored(db)).toEqual(want.sort());
      expect(await ranged(db)).toEqual(want.sort());
      // One row per block of 128 series ids and scrape, not one per sample; nothing in the row head.
      const blocks = await count(db, 'SELECT count(*) AS n FROM hostscope.samples_blocks');
      expect(blocks).toBeLessThanOrEqual(ks.length * (Math.ceil(n / BLOCK_WIDTH) + 1));
      expect(await count(db, 'SELECT count(*) AS n FROM hostscope.samples_raw')).toBe(0);
    });

    it('keeps samples with their own timestamps in the row head', async () => {
      const w = writer();
      await w.write([scrape(`g{i="0"} 0.25 ${T0}\ng{i="1"} 1000.25\n`, T0, a)], T0);
      expect(await count(db, 'SELECT count(*) AS n FROM hostscope.samples_raw')).toBe(1);
      expect(await stored(db)).toEqual([`a:9100 0 ${T0} 0.25`, `a:9100 1 ${T0} 1000.25`]);
    });

    it('does not duplicate a batch written again (a commit whose acknowledgement was lost)', async () => {
      const n = 2 * BLOCK_WIDTH;
      const batch = [scrape(body(n, 0), T0, a), scrape(body(n, 1), T0 + 1000, a)];
      const first = await writer().write(batch, T0);
      const again = await writer().write(batch, T0);
      expect(first.deduplicated).toBe(false);
      expect(again.deduplicated).toBe(true);
      expect(await stored(db)).toEqual(expected(a, n, [0, 1]).sort());
    });

    it('keeps two targets whose series share a block, scraped at the same millisecond, apart', async () => {
      // a's series take ids 1..100, b's the next ones: the block holding ids up to 127 has both.
      const w = writer();
      await w.write([scrape(body(100, 0), T0, a)], T0);
      // Written apart, as the batches of one round or two sinks are: no collision, no merge.
      expect((await w.write([scrape(body(100, 0), T0, b)], T0)).deduplicated).toBe(false);
      await w.write([scrape(body(100, 1), T0 + 1000, a)], T0);
      expect((await writer().write([scrape(body(100, 1), T0 + 1000, b)], T0)).deduplicated).toBe(false);
      // And in one batch.
      await w.write([scrape(body(100, 2), T0 + 2000, a), scrape(body(100, 2), T0 + 2000, b)], T0);
      expect(await stored(db)).toEqual(
        [...expected(a, 100, [0, 1, 2]), ...expected(b, 100, [0, 1, 2])].sort(),
      );
    });
  });
}

describeWithService('PostgreSQL', hasPostgres, 'block head', () => {
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
});

describe('block head on PGlite', () => {
  behaviour('embedded', tempPgliteChild);
});
