import { zeroPad } from '../zero-pad';
import type { Queryable } from './database';

/**
 * Tables partitioned by UTC day (usage rows), by UTC month (hourly rollups, compacted chunks), and the
 * head of raw samples (`samples_raw`): by UTC hour, plus the day partitions made before migration 2; the
 * block head (`samples_blocks`): by UTC hour.
 */
export const DAILY_TABLES = ['host_usage', 'container_usage'] as const;
export const MONTHLY_TABLES = [
  'samples_hourly_raw',
  'host_usage_hourly',
  'container_usage_hourly',
  'chunks',
  'chunk_times',
] as const;
/** Per-scrape usage tables: kept --retention.usage. */
export const USAGE_TABLES: readonly string[] = DAILY_TABLES;
/** Rollup tables: kept --retention.hourly; raw samples (head and chunks) --retention.raw. */
export const ROLLUP_TABLES: readonly string[] = [
  'samples_hourly_raw',
  'host_usage_hourly',
  'container_usage_hourly',
];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Partition name suffix: `p20240131` for a day, `p202401` for a month. */
export function daySuffix(dayMs: number): string {
  const d = new Date(dayMs);
  return `p${zeroPad(d.getUTCFullYear(), 4)}${zeroPad(d.getUTCMonth() + 1)}${zeroPad(d.getUTCDate())}`;
}

export function monthSuffix(monthMs: number): string {
  const d = new Date(monthMs);
  return `p${zeroPad(d.getUTCFullYear(), 4)}${zeroPad(d.getUTCMonth() + 1)}`;
}

/** Parses a partition suffix back into its [lower, upper) range in ms, or undefined. */
export function suffixRange(suffix: string): { lower: number; upper: number } | undefined {
  const hour = /^p(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(suffix);
  if (hour !== null) {
    const lower = Date.UTC(Number(hour[1]), Number(hour[2]) - 1, Number(hour[3]), Number(hour[4]));
    return { lower, upper: lower + HOUR_MS };
  }
  const day = /^p(\d{4})(\d{2})(\d{2})$/.exec(suffix);
  if (day !== null) {
    const lower = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    return { lower, upper: lower + DAY_MS };
  }
  const month = /^p(\d{4})(\d{2})$/.exec(suffix);
  if (month !== null) {
    const lower = Date.UTC(Number(month[1]), Number(month[2]) - 1, 1);
    return { lower, upper: nextMonth(lower) };
  }
  return undefined;
}

/**
 * Remembers which partitions exist so the write path asks the database only for new days. One instance
 * per database handle.
 */
export class PartitionManager {
  private readonly known = new Set<string>();
  private readonly heads = new Map<string, string>();

  /** Day partitions of `table` for every day in `days` (ms in the day), in one round trip. */
  async ensureDays(
    db: Queryable,
    table: (typeof DAILY_TABLES)[number],
    days: Iterable<number>,
  ): Promise<void> {
    const missing = new Map<string, number>();
    for (const ms of days) {
      const day = dayStart(ms);
      const suffix = daySuffix(day);
      if (!this.known.has(`${table}_${suffix}`)) missing.set(suffix, day);
    }
    if (missing.size === 0) return;
    const lower = [...missing.values()];
    await db.query(
      `SELECT hostscope.ensure_partition($1, x.suffix, x.lower, x.upper)
         FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS x(suffix, lower, upper)`,
      [
        table,
        [...missing.keys()],
        lower.map((d) => new Date(d).toISOString()),
        lower.map((d) => new Date(d + DAY_MS).toISOString()),
      ],
    );
    for (const suffix of missing.keys()) this.known.add(`${table}_${suffix}`);
  }

  /** The head partition for one hour's rows (its own, or an older day partition); returns its name. */
  ensureHeadHour(db: Queryable, hourMs: number): Promise<string> {
    return this.ensureHour(db, 'ensure_head_partition', hourMs);
  }

  /** The block partition (samples_blocks) for one hour's scraped samples; returns its name. */
  ensureBlockHour(db: Queryable, hourMs: number): Promise<string> {
    return this.ensureHour(db, 'ensure_block_partition', hourMs);
  }

  /** Calls one of the schema's partition functions for an hour (once per hour), returning the name. */
  private async ensureHour(
    db: Queryable,
    fn: 'ensure_head_partition' | 'ensure_block_partition',
    hourMs: number,
  ): Promise<string> {
    const key = `${fn}@${hourMs}`;
    const known = this.heads.get(key);
    if (known !== undefined) return known;
    const rows = await db.query<{ name: string }>(`SELECT hostscope.${fn}($1) AS name`, [
      new Date(hourMs).toISOString(),
    ]);
    const name = rows[0]?.name;
    if (name === undefined) throw new Error(`${fn} returned nothing`);
    this.heads.set(key, name);
    return name;
  }

  async ensureMonth(db: Queryable, table: (typeof MONTHLY_TABLES)[number], ms: number): Promise<void> {
    const lower = monthStart(ms);
    const suffix = monthSuffix(lower);
    const key = `${table}_${suffix}`;
    if (this.known.has(key)) return;
    await db.query('SELECT hostscope.ensure_partition($1, $2, $3, $4)', [
      table,
      suffix,
      new Date(lower).toISOString(),
      new Date(nextMonth(lower)).toISOString(),
    ]);
    this.known.add(key);
  }

  /** Forget everything (after retention dropped partitions, or when a write says one is missing). */
  reset(): void {
    this.known.clear();
    this.heads.clear();
  }
}

export interface PartitionInfo {
  readonly parent: string;
  readonly name: string;
  readonly lower: number;
  readonly upper: number;
}

/** Lists the partitions of hostscope's partitioned tables with their ranges (from their names). */
export async function listPartitions(db: Queryable): Promise<PartitionInfo[]> {
  const rows = await db.query<{ parent: string; name: string }>(
    `SELECT p.relname AS parent, c.relname AS name
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = 'hostscope' AND p.relkind = 'p'
      ORDER BY c.relname`,
  );
  const out: PartitionInfo[] = [];
  for (const r of rows) {
    const suffix = r.name.startsWith(`${r.parent}_`) ? r.name.slice(r.parent.length + 1) : '';
    const range = suffixRange(suffix);
    if (range !== undefined) out.push({ parent: r.parent, name: r.name, ...range });
  }
  return out;
}

export { DAY_MS, HOUR_MS };
