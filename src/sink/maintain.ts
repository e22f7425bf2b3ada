import type { Database } from '../db/database';
import {
  listPartitions,
  PartitionManager,
  ROLLUP_TABLES,
  USAGE_TABLES,
  type PartitionInfo,
} from '../db/partitions';
import type { Logger } from '../log/logger';
import { compactHead } from '../storage/compact';
import { expireAlertHistory } from '../alerts/store';
import { softDeleteStaleHosts } from './inventory';

const HOUR_MS = 3_600_000;

export interface MaintainOptions {
  readonly retentionRawMs: number;
  /** Per-scrape usage rows (host_usage, container_usage); default: as long as raw samples. */
  readonly retentionUsageMs?: number;
  readonly retentionHourlyMs: number;
  /** Raw Alertmanager notifications (alert_notifications); default 90 days. */
  readonly retentionAlertNotificationsMs?: number;
  /** An hour is rolled up once it ended this long ago (late scrapes of the hour have been written). */
  readonly closeDelayMs?: number;
  /** Hosts not seen for this long are soft-deleted. */
  readonly hostStaleMs?: number;
  readonly nowMs?: number;
}

export interface MaintainResult {
  readonly hoursRolledUp: number;
  readonly rollupRows: number;
  /** Samples moved from the head into compacted chunks, and the chunks written. */
  readonly compactedSamples: number;
  readonly chunksWritten: number;
  readonly droppedPartitions: readonly string[];
  readonly hostsDeleted: number;
  readonly alertNotificationsDeleted: number;
  readonly alertOccurrencesDeleted: number;
}

/**
 * The hourly rollup of one hour: per series count, sum, min, max, first, last, and for counters the
 * increase, which sums the deltas between consecutive samples and, where a value went down (a counter
 * reset), counts the new value from zero (as PromQL's increase does, without extrapolation). The delta from
 * the previous hour's last value to this hour's first is included, so hourly increases add up.
 */
const ROLLUP_SQL = `
INSERT INTO hostscope.samples_hourly_raw AS h (series_id, hour, count, sum, min, max, first, last, increase)
SELECT a.series_id, $1::timestamptz, a.n, a.s, a.mn, a.mx, a.f, a.l,
       CASE WHEN m.is_counter THEN
         a.inc + CASE WHEN p.last IS NULL THEN 0 WHEN a.f >= p.last THEN a.f - p.last ELSE a.f END
       END
  FROM (
    SELECT series_id, count(*)::int AS n, sum(value) AS s, min(value) AS mn, max(value) AS mx,
           max(value) FILTER (WHERE pv IS NULL) AS f,
           max(value) FILTER (WHERE nv IS NULL) AS l,
           sum(CASE WHEN pv IS NULL THEN 0 WHEN value >= pv THEN value - pv ELSE value END) AS inc
      FROM (
        SELECT series_id, value,
               lag(value) OVER w AS pv,
               lead(value) OVER w AS nv
          FROM hostscope.samples_range($1::timestamptz, $1::timestamptz + interval '1 hour')
        WINDOW w AS (PARTITION BY series_id ORDER BY time)
      ) x
     GROUP BY series_id
  ) a
  JOIN hostscope.series se ON se.id = a.series_id
  JOIN hostscope.metrics m ON m.id = se.metric_id
  LEFT JOIN hostscope.samples_hourly_raw p
         ON p.series_id = a.series_id AND p.hour = $1::timestamptz - interval '1 hour'
ON CONFLICT (series_id, hour) DO UPDATE SET
  count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
  first = EXCLUDED.first, last = EXCLUDED.last, increase = EXCLUDED.increase`;

/**
 * Hourly averages and peaks of the usage tables over [from, to) (whole hours; idempotent: replaces the
 * hours' rows). One statement for any range, so `seed` rolls up months at once.
 */
export async function rollupUsage(
  db: Database,
  partitions: PartitionManager,
  fromMs: number,
  toMs: number,
): Promise<void> {
  for (
    let m = fromMs;
    m < toMs;
    m = Date.UTC(new Date(m).getUTCFullYear(), new Date(m).getUTCMonth() + 1, 1)
  ) {
    await partitions.ensureMonth(db, 'host_usage_hourly', m);
    await partitions.ensureMonth(db, 'container_usage_hourly', m);
  }
  const range = [new Date(fromMs).toISOString(), new Date(toMs).toISOString()];
  const hour = "date_trunc('hour', time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'";
  await db.query(
    `INSERT INTO hostscope.host_usage_hourly AS u
     SELECT ${hour}, instance, max(job), max(host), count(*)::int, avg(cpu_percent), max(cpu_percent),
            avg(memory_percent), max(memory_percent), max(load1)
       FROM hostscope.host_usage WHERE time >= $1 AND time < $2
      GROUP BY 1, instance
     ON CONFLICT (instance, time) DO UPDATE SET job = EXCLUDED.job, host = EXCLUDED.host,
       samples = EXCLUDED.samples, cpu_percent_avg = EXCLUDED.cpu_percent_avg,
       cpu_percent_max = EXCLUDED.cpu_percent_max, memory_percent_avg = EXCLUDED.memory_percent_avg,
       memory_percent_max = EXCLUDED.memory_percent_max, load1_max = EXCLUDED.load1_max`,
    range,
  );
  await db.query(
    `INSERT INTO hostscope.container_usage_hourly AS u
     SELECT ${hour}, instance, max(job), max(host), max(container), container_id, max(image), count(*)::int,
            avg(cpu_percent), max(cpu_percent), avg(memory_usage_bytes), max(memory_usage_bytes),
            max(memory_percent)
       FROM hostscope.container_usage WHERE time >= $1 AND time < $2
      GROUP BY 1, instance, container_id
     ON CONFLICT (instance, container_id, time) DO UPDATE SET job = EXCLUDED.job, host = EXCLUDED.host,
       container = EXCLUDED.container, image = EXCLUDED.image, samples = EXCLUDED.samples,
       cpu_percent_avg = EXCLUDED.cpu_percent_avg, cpu_percent_max = EXCLUDED.cpu_percent_max,
       memory_usage_bytes_avg = EXCLUDED.memory_usage_bytes_avg,
       memory_usage_bytes_max = EXCLUDED.memory_usage_bytes_max,
       memory_percent_max = EXCLUDED.memory_percent_max`,
    range,
  );
}

/** Rolls up one hour (idempotent: recomputes and replaces the hour's rows). Returns the rows written. */
export async function rollupHour(
  db: Database,
  partitions: PartitionManager,
  hourMs: number,
): Promise<number> {
  await partitions.ensureMonth(db, 'samples_hourly_raw', hourMs);
  const rows = await db.session(async (s) => {
    await s.exec('BEGIN');
    try {
      await s.exec(`SET LOCAL work_mem = '${db.bulkWorkMem}'`);
      const r = await s.query<{ n: string | number }>(
        `WITH ins AS (${ROLLUP_SQL} RETURNING 1) SELECT count(*) AS n FROM ins`,
        [new Date(hourMs).toISOString()],
      );
      await s.exec('COMMIT');
      return Number(r[0]?.n ?? 0);
    } catch (err) {
      await s.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
  return rows;
}

/** True when some partition of `list` overlaps the hour starting at `h`. */
function covers(list: readonly PartitionInfo[], h: number): boolean {
  return list.some((p) => p.lower < h + HOUR_MS && p.upper > h);
}

/**
 * Rolls up every closed hour not rolled up yet (from the watermark, or from the oldest stored data on the
 * first run), re-rolls hours that received late samples (and the hour after each, whose increase starts
 * from it), compacts the closed hours of the head into chunks, then applies retention (whole partitions
 * where it can) and soft-deletes stale hosts.
 */
export async function maintain(
  db: Database,
  logger: Logger,
  options: MaintainOptions,
): Promise<MaintainResult> {
  const now = options.nowMs ?? Date.now();
  const closedUntil = Math.floor((now - (options.closeDelayMs ?? 300_000)) / HOUR_MS) * HOUR_MS;
  const partitions = new PartitionManager();
  const state = await db.query<{ rolled_until: Date | null }>(
    'SELECT rolled_until FROM hostscope.rollup_state WHERE id',
  );
  let from = state[0]?.rolled_until?.getTime();
  const pending = await db.query<{ hour: Date }>(
    'SELECT hour FROM hostscope.rollup_pending WHERE hour < $1 ORDER BY hour',
    [new Date(closedUntil).toISOString()],
  );
  let parts = await listPartitions(db);
  // Hours with late samples are compacted before they are rolled up again: late samples may repeat
  // instants their chunks hold already (a replayed scrape, a remote write retried, a clock set back), and
  // compaction keeps the stored sample of such an instant, as the head does on a write; a rollup of the
  // head and the chunks side by side would count both.
  const late = parts.filter(
    (p) =>
      (p.parent === 'samples_raw' || p.parent === 'samples_blocks') &&
      p.upper <= closedUntil &&
      pending.some((r) => covers([p], r.hour.getTime())),
  );
  const lateCompaction =
    late.length === 0
      ? undefined
      : await compactHead(db, late, closedUntil, (partition, r) =>
          logger.debug({ partition, samples: r.samples, chunks: r.chunks }, 'compacted (late samples)'),
        );
  if (lateCompaction !== undefined) parts = await listPartitions(db);
  const heads = parts.filter((p) => p.parent === 'samples_raw' || p.parent === 'samples_blocks');
  const chunkParts = parts.filter((p) => p.parent === 'chunks');
  const stored = [...heads, ...chunkParts];
  const oldest = stored.length === 0 ? undefined : Math.min(...stored.map((p) => p.lower));
  const rawCutoff = now - options.retentionRawMs;
  if (from === undefined) from = oldest ?? closedUntil;
  // Nothing older than the oldest stored data exists to roll up.
  if (oldest !== undefined && from < oldest) from = oldest;
  if (oldest === undefined) from = closedUntil;

  const hours = new Set<number>();
  for (let h = from; h < closedUntil; h += HOUR_MS) hours.add(h);
  for (const p of pending) {
    const h = p.hour.getTime();
    if (oldest !== undefined && h < oldest) continue;
    hours.add(h);
    if (h + HOUR_MS < from) hours.add(h + HOUR_MS);
  }
  let rollupRows = 0;
  const ordered = [...hours].sort((a, b) => a - b);
  for (const h of ordered) {
    // An hour that no head or chunk partition covers has no samples: nothing to roll up.
    if (covers(stored, h)) rollupRows += await rollupHour(db, partitions, h);
    await rollupUsage(db, partitions, h, h + HOUR_MS);
    if (h >= from) {
      await db.query(
        'UPDATE hostscope.rollup_state SET rolled_until = GREATEST(COALESCE(rolled_until, $1), $1) WHERE id',
        [new Date(h + HOUR_MS).toISOString()],
      );
    }
  }
  if (pending.length > 0)
    await db.query('DELETE FROM hostscope.rollup_pending WHERE hour = ANY($1::timestamptz[])', [
      pending.map((p) => p.hour.toISOString()),
    ]);
  if (ordered.length > 0) logger.info({ hours: ordered.length, rows: rollupRows }, 'hourly rollups done');

  // Compaction of closed head hours (rolled up above, so their rollups read the cheaper head).
  const regular = await compactHead(db, heads, closedUntil, (partition, r) =>
    logger.debug({ partition, samples: r.samples, chunks: r.chunks }, 'compacted'),
  );
  const compaction = {
    partitions: regular.partitions + (lateCompaction?.partitions ?? 0),
    samples: regular.samples + (lateCompaction?.samples ?? 0),
    chunks: regular.chunks + (lateCompaction?.chunks ?? 0),
  };
  if (compaction.samples > 0)
    logger.info(
      { partitions: compaction.partitions, samples: compaction.samples, chunks: compaction.chunks },
      'compacted closed hours of the head',
    );

  // Retention: whole partitions where possible; never raw data that has not been rolled up yet.
  const rolled = await db.query<{ rolled_until: Date | null }>(
    'SELECT rolled_until FROM hostscope.rollup_state WHERE id',
  );
  const rolledUntil = rolled[0]?.rolled_until?.getTime() ?? 0;
  const rawLimit = Math.min(rawCutoff, rolledUntil);
  const hourlyCutoff = now - options.retentionHourlyMs;
  parts = await listPartitions(db);
  const dropped: string[] = [];
  for (const p of parts) {
    const limit = ROLLUP_TABLES.includes(p.parent)
      ? hourlyCutoff
      : USAGE_TABLES.includes(p.parent)
        ? Math.min(now - (options.retentionUsageMs ?? options.retentionRawMs), rolledUntil)
        : rawLimit;
    if (p.upper > limit) continue;
    await db.exec(`DROP TABLE IF EXISTS hostscope."${p.name.replace(/"/g, '""')}"`);
    dropped.push(p.name);
  }
  // Chunks of the partially expired month: row deletes (a few rows per series and day).
  if (parts.some((p) => p.parent === 'chunks' && p.lower < rawLimit && p.upper > rawLimit)) {
    await db.query('DELETE FROM hostscope.chunks WHERE start < $1 AND stop <= $1', [
      new Date(rawLimit).toISOString(),
    ]);
    await db.query(
      `DELETE FROM hostscope.chunk_times ct WHERE ct.start < $1
          AND NOT EXISTS (SELECT 1 FROM hostscope.chunks c WHERE c.start = ct.start AND c.times_id = ct.id)`,
      [new Date(rawLimit).toISOString()],
    );
  }
  if (dropped.length > 0) logger.info({ partitions: dropped }, 'dropped partitions past retention');
  await db.query('DELETE FROM hostscope.rollup_pending WHERE hour < $1', [
    new Date(rawCutoff - HOUR_MS).toISOString(),
  ]);
  const hostsDeleted = await softDeleteStaleHosts(db, now, options.hostStaleMs ?? 86_400_000);
  const alerts = await expireAlertHistory(
    db,
    now,
    options.retentionAlertNotificationsMs ?? 90 * 86_400_000,
    options.retentionHourlyMs,
  );
  if (alerts.notifications + alerts.occurrences > 0)
    logger.info(alerts, 'deleted alert history past retention');
  return {
    hoursRolledUp: ordered.length,
    rollupRows,
    compactedSamples: compaction.samples,
    chunksWritten: compaction.chunks,
    droppedPartitions: dropped,
    hostsDeleted,
    alertNotificationsDeleted: alerts.notifications,
    alertOccurrencesDeleted: alerts.occurrences,
  };
}
