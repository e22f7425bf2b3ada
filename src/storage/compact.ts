import type { Database, Queryable } from '../db/database';
import { BLOCK_WIDTH } from '../db/migrations/0004_blocks';
import { HOUR_MS, PartitionManager, type PartitionInfo } from '../db/partitions';

/**
 * Compaction: moves closed ranges of the row-per-sample head (`samples_raw`) into `chunks`, one row per
 * series and block of whole hours within a UTC day, values as a float8[] that PostgreSQL compresses
 * (TOAST, lz4 or pglz), timestamps as a shared set in `chunk_times`.
 *
 * A block is long enough to hold at least MIN_CHUNK_SAMPLES samples, because PostgreSQL only compresses a
 * row past ~2 kB: 1 h at 1 s, 2 h at 15 s, 6 h at 1 min, a whole day for sparser series. Blocks are
 * aligned to the day, never overlap, and a chunk's block is fixed when it is created, so the samples of
 * a later hour of the same block (the next compaction, or a late replay after an outage) are merged into
 * it: old and new samples are unioned by time, the stored sample winning, so a replay never duplicates.
 *
 * Each compaction step is one transaction that takes the source rows, writes the merged chunks and
 * empties the source range, so a crash at any point leaves either the head rows or the chunks, never
 * both, never neither.
 */
export const MIN_CHUNK_SAMPLES = 256;
const SPANS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

/** Hours per block for a series with `perHour` samples in its densest hour (see MIN_CHUNK_SAMPLES). */
export function blockHours(perHour: number): number {
  for (const s of SPANS) if (perHour * s >= MIN_CHUNK_SAMPLES) return s;
  return 24;
}

function spanCase(column: string): string {
  const arms = SPANS.slice(0, -1).map((s) => `WHEN ${column} * ${s} >= ${MIN_CHUNK_SAMPLES} THEN ${s}`);
  return `CASE ${arms.join(' ')} ELSE 24 END`;
}

const UTC_HOUR = (col: string): string =>
  `(date_trunc('hour', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
const UTC_DAY = (col: string): string => `(date_trunc('day', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;

/** A timestamp literal from a number we computed (never user text). */
function ts(ms: number): string {
  return `'${new Date(ms).toISOString()}'::timestamptz`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The head partitions of one range: the row head's (samples_raw) and the block head's (samples_blocks). */
export interface HeadPartitions {
  readonly raw?: string;
  readonly blocks?: string;
}

export interface CompactResult {
  readonly samples: number;
  readonly chunks: number;
}

/**
 * Compacts the head rows of `partition` in [fromMs, toMs) into chunks, inside the caller's transaction
 * (`s` must be in one). Returns how many samples moved and how many chunks were written.
 */
export async function compactRange(
  s: Queryable,
  head: HeadPartitions,
  fromMs: number,
  toMs: number,
  wholePartition: boolean,
): Promise<CompactResult> {
  const raw = head.raw === undefined ? undefined : `hostscope.${quoteIdent(head.raw)}`;
  const blocks = head.blocks === undefined ? undefined : `hostscope.${quoteIdent(head.blocks)}`;
  const range = `r.time >= ${ts(fromMs)} AND r.time < ${ts(toMs)}`;
  const sources: string[] = [];
  if (raw !== undefined) sources.push(`SELECT r.series_id, r.time, r.value FROM ${raw} r WHERE ${range}`);
  if (blocks !== undefined)
    sources.push(`
      SELECT x.id, x.time, x.v
        FROM (SELECT r.block * ${BLOCK_WIDTH} + generate_subscripts(r."values", 1) - 1 AS id, r.time,
                     unnest(r."values") AS v
                FROM ${blocks} r WHERE ${range}) x
       WHERE x.v IS NOT NULL`);
  if (sources.length === 0) return { samples: 0, chunks: 0 };
  // Writers wait while we move the range; readers go on (they see the rows in one place or the other).
  for (const t of [raw, blocks]) if (t !== undefined) await s.exec(`LOCK TABLE ${t} IN EXCLUSIVE MODE`);
  await s.exec(`
    CREATE TEMP TABLE hs_src ON COMMIT DROP AS
    SELECT q.series_id, q.time, q.value FROM (${sources.join(' UNION ALL ')}) AS q(series_id, time, value);

    CREATE TEMP TABLE hs_groups ON COMMIT DROP AS
    SELECT r.series_id, ${UTC_HOUR('r.time')} AS hour, count(*)::int AS n
      FROM hs_src r GROUP BY 1, 2;

    CREATE TEMP TABLE hs_blocks ON COMMIT DROP AS
    WITH g AS (
      SELECT g.series_id, g.hour, ${UTC_DAY('g.hour')} AS day,
             max(g.n) OVER (PARTITION BY g.series_id, ${UTC_DAY('g.hour')}) AS mx
        FROM hs_groups g
    ), a AS (
      SELECT g.series_id, g.hour, g.day, ${spanCase('g.mx')} AS span FROM g
    ), b AS (
      SELECT a.series_id, a.hour, a.span,
             a.day + make_interval(hours => (floor(extract(hour FROM a.hour AT TIME ZONE 'UTC') / a.span) * a.span)::int)
               AS aligned
        FROM a
    )
    SELECT b.series_id, b.hour, COALESCE(prev.stop > b.hour, false) AS existing,
           CASE WHEN prev.stop > b.hour THEN prev.start ELSE greatest(b.aligned, prev.stop) END AS b_start,
           CASE WHEN prev.stop > b.hour THEN prev.stop
                ELSE least(b.aligned + make_interval(hours => b.span), nxt.start) END AS b_stop
      FROM b
      LEFT JOIN LATERAL (
        SELECT c.start, c.stop FROM hostscope.chunks c
         WHERE c.series_id = b.series_id AND c.start <= b.hour AND c.start > b.hour - interval '1 day'
         ORDER BY c.start DESC LIMIT 1) prev ON true
      LEFT JOIN LATERAL (
        SELECT c.start FROM hostscope.chunks c
         WHERE c.series_id = b.series_id AND c.start > b.hour AND c.start < b.hour + interval '1 day'
         ORDER BY c.start LIMIT 1) nxt ON true;

    -- Chunks that get new samples: their time sets may become unused.
    CREATE TEMP TABLE hs_old ON COMMIT DROP AS
    SELECT DISTINCT c.start, c.times_id
      FROM (SELECT DISTINCT series_id, b_start FROM hs_blocks WHERE existing) e
      JOIN hostscope.chunks c ON c.series_id = e.series_id AND c.start = e.b_start;

    CREATE TEMP TABLE hs_merged ON COMMIT DROP AS
    SELECT series_id, b_start, b_stop, array_agg(t ORDER BY t) AS times, array_agg(v ORDER BY t) AS vals
      FROM (
        SELECT DISTINCT ON (series_id, b_start, t) series_id, b_start, b_stop, t, v
          FROM (
            SELECT r.series_id, b.b_start, b.b_stop, r.time AS t, r.value AS v, 1 AS prio
              FROM hs_src r
              JOIN hs_blocks b ON b.series_id = r.series_id AND b.hour = ${UTC_HOUR('r.time')}
            UNION ALL
            SELECT c.series_id, c.start, c.stop, u.t, u.v, 0
              FROM (SELECT DISTINCT series_id, b_start FROM hs_blocks WHERE existing) e
              JOIN hostscope.chunks c ON c.series_id = e.series_id AND c.start = e.b_start
              JOIN hostscope.chunk_times ct ON ct.start = c.start AND ct.id = c.times_id
             CROSS JOIN LATERAL unnest(ct.times, c."values") AS u(t, v)
          ) x
         ORDER BY series_id, b_start, t, prio
      ) d
     GROUP BY series_id, b_start, b_stop;

    CREATE TEMP TABLE hs_final ON COMMIT DROP AS
    SELECT m.*, ('x' || left(md5(array_send(m.times)), 16))::bit(64)::bigint AS tid FROM hs_merged m;

    INSERT INTO hostscope.chunk_times (start, id, times)
    SELECT DISTINCT ON (b_start, tid) b_start, tid, times FROM hs_final ORDER BY b_start, tid
    ON CONFLICT (start, id) DO NOTHING;
  `);
  // A time set is named by a 64-bit hash of its contents: refuse, rather than mislabel, on a collision.
  const clash = await s.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM hs_final f
       JOIN hostscope.chunk_times ct ON ct.start = f.b_start AND ct.id = f.tid
      WHERE ct.times <> f.times`,
  );
  if (Number(clash[0]?.n ?? 0) > 0) throw new Error('time set hash collision: compaction refused');
  const written = await s.query<{ chunks: string | number; samples: string | number }>(`
    WITH up AS (
      INSERT INTO hostscope.chunks (series_id, start, stop, times_id, count, "values")
      SELECT series_id, b_start, b_stop, tid, cardinality(vals), vals FROM hs_final
      ON CONFLICT (series_id, start) DO UPDATE SET
        stop = EXCLUDED.stop, times_id = EXCLUDED.times_id, count = EXCLUDED.count, "values" = EXCLUDED."values"
      RETURNING 1)
    SELECT (SELECT count(*) FROM up) AS chunks, (SELECT COALESCE(sum(n), 0) FROM hs_groups) AS samples`);
  const emptying = [raw, blocks]
    .filter((t) => t !== undefined)
    .map((t) => (wholePartition ? `TRUNCATE ${t}` : `DELETE FROM ${t} r WHERE ${range}`))
    .join(';\n');
  await s.exec(`
    DELETE FROM hostscope.chunk_times ct USING hs_old o
     WHERE ct.start = o.start AND ct.id = o.times_id
       AND NOT EXISTS (SELECT 1 FROM hostscope.chunks c WHERE c.start = o.start AND c.times_id = o.times_id);
    ${emptying};
    DROP TABLE hs_src, hs_groups, hs_blocks, hs_old, hs_merged, hs_final;
  `);
  return { samples: Number(written[0]?.samples ?? 0), chunks: Number(written[0]?.chunks ?? 0) };
}

/** Key of the advisory lock that keeps two compactors (sink schedule, `hostscope maintain`) apart. */
export const COMPACT_LOCK_KEY = 0x6873636d; // "hscm"

export interface CompactionRun {
  readonly partitions: number;
  readonly samples: number;
  readonly chunks: number;
  readonly dropped: readonly string[];
}

/**
 * Compacts every head partition whose range ended before `closedUntil`: an hour in one step (its
 * samples_raw and samples_blocks partitions together), a day partition made by migration 1 hour by hour
 * (so an upgrade converts old data progressively, in small transactions, while the sink keeps writing),
 * then drops the emptied partitions. `heads` lists the partitions of both head tables.
 */
export async function compactHead(
  db: Database,
  heads: readonly PartitionInfo[],
  closedUntil: number,
  onStep: (partition: string, result: CompactResult) => void = () => undefined,
): Promise<CompactionRun> {
  const partitions = new PartitionManager();
  const blockParts = new Map(
    heads.filter((p) => p.parent === 'samples_blocks').map((p) => [p.lower, p.name] as const),
  );
  // Each step: a range, and the head partitions holding it.
  const steps: { from: number; to: number; whole: boolean; head: HeadPartitions }[] = [];
  for (const p of [...heads].sort((a, b) => a.lower - b.lower)) {
    if (p.upper > closedUntil || p.parent !== 'samples_raw') continue;
    const whole = p.upper - p.lower <= HOUR_MS;
    for (let h = p.lower; h < p.upper; h += HOUR_MS) {
      const blocks = blockParts.get(h);
      blockParts.delete(h);
      steps.push({
        from: whole ? p.lower : h,
        to: whole ? p.upper : h + HOUR_MS,
        whole,
        head: blocks === undefined ? { raw: p.name } : { raw: p.name, blocks },
      });
      if (whole) break;
    }
  }
  for (const [lower, name] of blockParts)
    if (lower + HOUR_MS <= closedUntil)
      steps.push({ from: lower, to: lower + HOUR_MS, whole: true, head: { blocks: name } });
  steps.sort((a, b) => a.from - b.from);

  let samples = 0;
  let chunks = 0;
  const emptied = new Set<string>();
  for (const step of steps) {
    await partitions.ensureMonth(db, 'chunks', step.from);
    await partitions.ensureMonth(db, 'chunk_times', step.from);
    const r = await db.session(async (s) => {
      await s.exec('BEGIN');
      try {
        await s.query('SELECT pg_advisory_xact_lock($1)', [COMPACT_LOCK_KEY]);
        await s.exec(`SET LOCAL work_mem = '${db.bulkWorkMem}'`);
        const result = await compactRange(s, step.head, step.from, step.to, step.whole);
        await s.exec('COMMIT');
        return result;
      } catch (err) {
        await s.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    samples += r.samples;
    chunks += r.chunks;
    const label = step.head.raw ?? step.head.blocks ?? '';
    if (r.samples > 0) onStep(label, r);
    if (step.head.raw !== undefined) emptied.add(step.head.raw);
    if (step.head.blocks !== undefined) emptied.add(step.head.blocks);
  }
  // Partitions compacted, counting an hour's two head partitions once.
  const touched = new Set(steps.map((st) => st.head.raw ?? st.head.blocks)).size;
  const dropped: string[] = [];
  for (const name of emptied) if (await dropIfEmpty(db, name)) dropped.push(name);
  return { partitions: touched, samples, chunks, dropped };
}

/**
 * Drops an emptied head partition. Dropping a partition locks the parent table, so it waits at most a
 * moment behind running queries and is otherwise left for the next run; rows that arrived since (a late
 * write) keep it.
 */
async function dropIfEmpty(db: Database, name: string): Promise<boolean> {
  return db.session(async (s) => {
    await s.exec('BEGIN');
    try {
      await s.exec("SET LOCAL lock_timeout = '2s'");
      const rel = `hostscope.${quoteIdent(name)}`;
      await s.exec(`LOCK TABLE ${rel} IN ACCESS EXCLUSIVE MODE`);
      const rows = await s.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${rel}) AS any`);
      if (rows[0]?.any === true) {
        await s.exec('ROLLBACK');
        return false;
      }
      await s.exec(`DROP TABLE ${rel}`);
      await s.exec('COMMIT');
      return true;
    } catch {
      // Most likely the lock timeout: the partition stays (empty) until the next run drops it.
      await s.exec('ROLLBACK').catch(() => undefined);
      return false;
    }
  });
}
