import type { Queryable } from '../db/database';
import {
  checkMatcher,
  fail,
  LABEL_NAME,
  MAX_MATCHERS,
  MAX_TEXT_LENGTH,
  METRIC_NAME,
  parseRange,
  type Parsed,
  type RangeQuery,
} from './params';
import { bucketAveragesSql, TooManySeries, type Statement } from './series';

/**
 * The aggregating history queries of the API, for hosts with more series than `/api/v1/series` may return
 * (it refuses more than 200) and for what it does not cover:
 *  - `GET /api/v1/rates`: counters turned into rates per bucket and summed by a label on the server, the
 *    `top` groups with the most volume apart and the rest as one `other` sum (CPU by mode, network and
 *    disk throughput of hosts with any number of CPUs and devices);
 *  - `GET /api/v1/filesystems`: used % of a host's fullest filesystems (at the end of the range);
 *  - `GET /api/v1/containers`: CPU and memory of a host's busiest containers, and the rest as `other`,
 *    from `container_usage` and its hourly rollup.
 * Every value is a bound parameter; each answer holds at most `top` (+1) series of at most `points`
 * points, and reads at most MAX_AGGREGATE_SERIES series.
 */

/** Most series one aggregating request reads (a host with 10,000 network devices is past it). */
export const MAX_AGGREGATE_SERIES = 10_000;
/** Most groups, filesystems or containers one answer lists apart. */
export const MAX_TOP = 50;
export const DEFAULT_RATES_TOP = 10;
export const DEFAULT_TOP = 5;

const RANGE_KEYS = ['from', 'to', 'points', 'source'];
const MATCHER_KEY = /^(match|exclude)\[(.*)\]$/s;

/** Checks that every parameter is known and given once. */
function checkKeys(params: URLSearchParams, known: readonly string[], matchers: boolean): Parsed<true> {
  const seen = new Set<string>();
  for (const [key] of params) {
    if (seen.has(key)) return fail(key, 'given more than once');
    seen.add(key);
    if (known.includes(key) || (matchers && MATCHER_KEY.test(key))) continue;
    return fail(
      key,
      `unknown parameter (expected ${known.join(', ')}${matchers ? ', match[<label>], exclude[<label>]' : ''})`,
    );
  }
  return { ok: true, value: true };
}

function parseTop(params: URLSearchParams, fallback: number): Parsed<number> {
  const text = params.get('top');
  if (text === null) return { ok: true, value: fallback };
  if (!/^\d{1,9}$/.test(text)) return fail('top', 'must be a whole number');
  const top = Number(text);
  if (top < 1 || top > MAX_TOP) return fail('top', `must be between 1 and ${MAX_TOP}`);
  return { ok: true, value: top };
}

function parseInstance(params: URLSearchParams): Parsed<string> {
  const instance = params.get('instance');
  if (instance === null || instance === '') return fail('instance', 'required');
  if (instance.length > MAX_TEXT_LENGTH) return fail('instance', `longer than ${MAX_TEXT_LENGTH} characters`);
  if (instance.includes('\u0000')) return fail('instance', 'must not contain a NUL character');
  return { ok: true, value: instance };
}

// ---- GET /api/v1/rates -----------------------------------------------------------------------------

export interface RatesQuery extends RangeQuery {
  readonly metric: string;
  readonly match: Readonly<Record<string, string>>;
  /** Series with any of these label values are left out (`exclude[device]=lo`). */
  readonly exclude: readonly Readonly<Record<string, string>>[];
  /** The label the rates are summed by; undefined sums every series into one group. */
  readonly by?: string;
  readonly top: number;
}

/** Checks the query string of `GET /api/v1/rates`. */
export function parseRatesParams(params: URLSearchParams, nowSeconds: number): Parsed<RatesQuery> {
  const keys = checkKeys(params, ['metric', 'by', 'top', ...RANGE_KEYS], true);
  if (!keys.ok) return keys;
  const match: Record<string, string> = {};
  const exclude: Record<string, string>[] = [];
  let matchers = 0;
  for (const [key, value] of params) {
    const m = MATCHER_KEY.exec(key);
    if (m === null) continue;
    const label = m[2] ?? '';
    const bad = checkMatcher(key, label, value);
    if (bad !== undefined) return { ok: false, error: bad };
    if (++matchers > MAX_MATCHERS) return fail(key, `at most ${MAX_MATCHERS} label matchers`);
    if (m[1] === 'match') match[label] = value;
    else exclude.push({ [label]: value });
  }
  const metric = params.get('metric');
  if (metric === null || metric === '') return fail('metric', 'required');
  if (metric.length > MAX_TEXT_LENGTH || !METRIC_NAME.test(metric))
    return fail('metric', 'must be a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*');
  const by = params.get('by') ?? undefined;
  if (by !== undefined && (!LABEL_NAME.test(by) || by.length > MAX_TEXT_LENGTH))
    return fail('by', 'must be a label name matching [a-zA-Z_][a-zA-Z0-9_]*');
  const top = parseTop(params, DEFAULT_RATES_TOP);
  if (!top.ok) return top;
  const range = parseRange(params, nowSeconds);
  if (!range.ok) return range;
  return {
    ok: true,
    value: { metric, match, exclude, ...(by === undefined ? {} : { by }), top: top.value, ...range.value },
  };
}

/** A rate point: bucket start (unix seconds), the summed rate per second, and how many series are in it. */
export type RatePoint = [number, number, number];

export interface RateGroup {
  /** The `by` label's value ('' for series without it, and for the one group without `by`). */
  readonly value: string;
  /** Series in the group. */
  readonly series: number;
  readonly points: RatePoint[];
}

export interface RatesAnswer {
  readonly metric: string;
  readonly by: string | null;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly source: RangeQuery['source'];
  /** Series that matched, and groups they form. */
  readonly series_count: number;
  readonly group_count: number;
  /** The `top` groups with the largest volume over the range, largest first. */
  readonly groups: RateGroup[];
  /** The other groups summed, or null when there are none with data. */
  readonly other: { readonly groups: number; readonly series: number; readonly points: RatePoint[] } | null;
}

/** The series of the metric that carry every matcher and none of the exclusions, with their group. */
export function ratesLookupSql(q: RatesQuery, limit: number): Statement {
  return {
    sql: `SELECT s.id::text AS id, coalesce(s.labels->>$3::text, '') AS grp
            FROM hostscope.series s JOIN hostscope.metrics m ON m.id = s.metric_id
           WHERE m.name = $1 AND s.labels @> $2::jsonb AND NOT (s.labels @> ANY($4::jsonb[]))
           ORDER BY s.id
           LIMIT $5`,
    params: [q.metric, JSON.stringify(q.match), q.by ?? null, q.exclude.map((e) => JSON.stringify(e)), limit],
  };
}

/**
 * Per group (ranked) and bucket: the sum of its series' rates. A series' rate at a bucket is the rise of
 * its bucket average since its previous bucket with samples, over the time between the two buckets'
 * average sample times (exact for a steady counter, whatever the samples' phase in their buckets); a fall
 * (a counter reset) leaves that series out of the bucket. Groups are ranked by
 * the sum of their rates over the range (their volume); those past `top` come back as one row per
 * bucket with `other` set.
 */
export function ratesPointsSql(q: RatesQuery, ids: readonly string[], groups: readonly string[]): Statement {
  return {
    sql: `WITH ids AS (SELECT * FROM unnest($1::bigint[], $5::text[]) AS u(id, grp)),
               b AS (${bucketAveragesSql(q.source)}),
               d AS (SELECT id, bucket, (avg - lag(avg) OVER w) / nullif(t - lag(t) OVER w, 0) AS rate
                       FROM b WINDOW w AS (PARTITION BY id ORDER BY bucket)),
               g AS (SELECT ids.grp, d.bucket, sum(d.rate) AS rate, count(*)::int AS n
                       FROM d JOIN ids ON ids.id = d.id
                      WHERE d.rate >= 0
                      GROUP BY 1, 2),
               rk AS (SELECT grp, row_number() OVER (ORDER BY sum(rate) DESC, grp) AS rank FROM g GROUP BY grp)
          SELECT rk.rank > $6 AS other, CASE WHEN rk.rank <= $6 THEN g.grp END AS grp,
                 min(rk.rank) AS rank, g.bucket, sum(g.rate) AS rate, sum(g.n)::int AS n
            FROM g JOIN rk ON rk.grp = g.grp
           GROUP BY 1, 2, 4
           ORDER BY 1, 3, 4`,
    params: [ids, q.from, q.to, q.step, groups, q.top],
  };
}

export async function queryRates(db: Queryable, q: RatesQuery): Promise<RatesAnswer> {
  const lookup = ratesLookupSql(q, MAX_AGGREGATE_SERIES + 1);
  const found = await db.query<{ id: string; grp: string }>(lookup.sql, lookup.params);
  if (found.length > MAX_AGGREGATE_SERIES)
    throw new TooManySeries(
      `more than ${MAX_AGGREGATE_SERIES} series match; add match[<label>] or exclude[<label>] filters`,
    );
  const seriesPerGroup = new Map<string, number>();
  for (const f of found) seriesPerGroup.set(f.grp, (seriesPerGroup.get(f.grp) ?? 0) + 1);
  const groups: RateGroup[] = [];
  let other: { groups: number; series: number; points: RatePoint[] } | null = null;
  if (found.length > 0) {
    const points = ratesPointsSql(
      q,
      found.map((f) => f.id),
      found.map((f) => f.grp),
    );
    const rows = await db.query<{
      other: boolean;
      grp: string | null;
      bucket: string;
      rate: unknown;
      n: number;
    }>(points.sql, points.params);
    const byGroup = new Map<string, RateGroup>();
    for (const r of rows) {
      const rate = Number(r.rate);
      if (!Number.isFinite(rate)) continue;
      const point: RatePoint = [q.from + Number(r.bucket) * q.step, rate, Number(r.n)];
      if (r.other) {
        other ??= { groups: 0, series: 0, points: [] };
        other.points.push(point);
      } else {
        const key = r.grp ?? '';
        let g = byGroup.get(key);
        if (g === undefined) {
          g = { value: key, series: seriesPerGroup.get(key) ?? 0, points: [] };
          byGroup.set(key, g);
          groups.push(g);
        }
        g.points.push(point);
      }
    }
    if (other !== null) {
      const listed = new Set(groups.map((g) => g.value));
      for (const [k, n] of seriesPerGroup)
        if (!listed.has(k)) {
          other.groups++;
          other.series += n;
        }
    }
  }
  return {
    metric: q.metric,
    by: q.by ?? null,
    from: q.from,
    to: q.to,
    step: q.step,
    source: q.source,
    series_count: found.length,
    group_count: seriesPerGroup.size,
    groups,
    other,
  };
}

// ---- GET /api/v1/filesystems -----------------------------------------------------------------------

export interface HostRangeQuery extends RangeQuery {
  readonly instance: string;
  readonly top: number;
}

function parseHostRange(params: URLSearchParams, nowSeconds: number): Parsed<HostRangeQuery> {
  const keys = checkKeys(params, ['instance', 'top', ...RANGE_KEYS], false);
  if (!keys.ok) return keys;
  const instance = parseInstance(params);
  if (!instance.ok) return instance;
  const top = parseTop(params, DEFAULT_TOP);
  if (!top.ok) return top;
  const range = parseRange(params, nowSeconds);
  if (!range.ok) return range;
  return { ok: true, value: { instance: instance.value, top: top.value, ...range.value } };
}

/** Checks the query string of `GET /api/v1/filesystems`. */
export const parseFilesystemsParams = parseHostRange;
/** Checks the query string of `GET /api/v1/containers`. */
export const parseContainersParams = parseHostRange;

/** A point of a gauge-like history: bucket start (unix seconds) and the value. */
export type ValuePoint = [number, number];

export interface FilesystemHistory {
  readonly mountpoint: string;
  readonly device: string;
  readonly fstype: string;
  /** Used %, 100 × (size − available) / size of the bucket averages. */
  readonly points: ValuePoint[];
}

export interface FilesystemsAnswer {
  readonly instance: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly source: RangeQuery['source'];
  /** Mountpoints with data in the range. */
  readonly filesystem_count: number;
  /** The `top` fullest at the end of the range (their last point), fullest first; one per mountpoint. */
  readonly filesystems: FilesystemHistory[];
}

const FS_METRICS = ['node_filesystem_size_bytes', 'node_filesystem_avail_bytes'];

export function filesystemsLookupSql(q: HostRangeQuery, limit: number): Statement {
  return {
    sql: `SELECT s.id::text AS id, m.name AS metric, coalesce(s.labels->>'mountpoint', '') AS mountpoint,
                 coalesce(s.labels->>'device', '') AS device, coalesce(s.labels->>'fstype', '') AS fstype
            FROM hostscope.series s JOIN hostscope.metrics m ON m.id = s.metric_id
           WHERE m.name = ANY($1::text[]) AND s.labels @> jsonb_build_object('instance', $2::text)
           ORDER BY s.id
           LIMIT $3`,
    params: [FS_METRICS, q.instance, limit],
  };
}

/**
 * Used % per filesystem (mountpoint and device) and bucket, of the `top` fullest at their last bucket,
 * one per mountpoint (a mountpoint seen with several devices keeps the fullest).
 */
export function filesystemsPointsSql(
  q: HostRangeQuery,
  ids: readonly string[],
  sizes: readonly boolean[],
  mountpoints: readonly string[],
  devices: readonly string[],
): Statement {
  return {
    sql: `WITH ids AS (SELECT * FROM unnest($1::bigint[], $5::boolean[], $6::text[], $7::text[])
                         AS u(id, size, mountpoint, device)),
               b AS (${bucketAveragesSql(q.source)}),
               v AS (SELECT ids.mountpoint, ids.device, b.bucket,
                            max(b.avg) FILTER (WHERE ids.size) AS size,
                            max(b.avg) FILTER (WHERE NOT ids.size) AS avail
                       FROM b JOIN ids ON ids.id = b.id GROUP BY 1, 2, 3),
               u AS (SELECT mountpoint, device, bucket, 100 * (size - avail) / size AS used
                       FROM v WHERE size > 0 AND avail IS NOT NULL),
               last AS (SELECT DISTINCT ON (mountpoint, device) mountpoint, device, used
                          FROM u ORDER BY mountpoint, device, bucket DESC),
               pick AS (SELECT DISTINCT ON (mountpoint) mountpoint, device, used
                          FROM last ORDER BY mountpoint, used DESC, device),
               top AS (SELECT mountpoint, device, row_number() OVER (ORDER BY used DESC, mountpoint) AS rank
                         FROM pick ORDER BY used DESC, mountpoint LIMIT $8)
          SELECT u.mountpoint, u.device, top.rank, u.bucket, u.used, (SELECT count(*) FROM pick)::int AS total
            FROM u JOIN top ON top.mountpoint = u.mountpoint AND top.device = u.device
           ORDER BY 3, 4`,
    params: [ids, q.from, q.to, q.step, sizes, mountpoints, devices, q.top],
  };
}

export async function queryFilesystems(db: Queryable, q: HostRangeQuery): Promise<FilesystemsAnswer> {
  const lookup = filesystemsLookupSql(q, MAX_AGGREGATE_SERIES + 1);
  const found = await db.query<{
    id: string;
    metric: string;
    mountpoint: string;
    device: string;
    fstype: string;
  }>(lookup.sql, lookup.params);
  if (found.length > MAX_AGGREGATE_SERIES)
    throw new TooManySeries(`more than ${MAX_AGGREGATE_SERIES} filesystem series for this instance`);
  const key = (f: { mountpoint: string; device: string }): string => `${f.mountpoint}\u0000${f.device}`;
  const labels = new Map(found.map((f) => [key(f), f]));
  const filesystems: FilesystemHistory[] = [];
  let total = 0;
  if (found.length > 0) {
    const points = filesystemsPointsSql(
      q,
      found.map((f) => f.id),
      found.map((f) => f.metric === 'node_filesystem_size_bytes'),
      found.map((f) => f.mountpoint),
      found.map((f) => f.device),
    );
    const rows = await db.query<{
      mountpoint: string;
      device: string;
      bucket: string;
      used: unknown;
      total: number;
    }>(points.sql, points.params);
    const byFs = new Map<string, FilesystemHistory>();
    for (const r of rows) {
      total = Number(r.total);
      const used = Number(r.used);
      if (!Number.isFinite(used)) continue;
      const k = key(r);
      let f = byFs.get(k);
      if (f === undefined) {
        const l = labels.get(k);
        f = { mountpoint: l?.mountpoint ?? '', device: l?.device ?? '', fstype: l?.fstype ?? '', points: [] };
        byFs.set(k, f);
        filesystems.push(f);
      }
      f.points.push([q.from + Number(r.bucket) * q.step, used]);
    }
  }
  return {
    instance: q.instance,
    from: q.from,
    to: q.to,
    step: q.step,
    source: q.source,
    filesystem_count: total,
    filesystems,
  };
}

// ---- GET /api/v1/containers ------------------------------------------------------------------------

export interface ContainerHistory {
  /** The container's name (`container_usage.container`): a container re-created under its name continues. */
  readonly name: string;
  /** The image of its latest row in the range. */
  readonly image: string;
  readonly points: ValuePoint[];
}

export interface ContainerChart {
  /** The `top` containers by their average over the range, largest first. */
  readonly containers: ContainerHistory[];
  /** The other containers summed per bucket, or null when there are none. */
  readonly other: { readonly containers: number; readonly points: ValuePoint[] } | null;
}

export interface ContainersAnswer {
  readonly instance: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly source: RangeQuery['source'];
  /** Containers with rows in the range. */
  readonly container_count: number;
  /** `cpu_percent`: a share of the whole host, 0–100. */
  readonly cpu: ContainerChart;
  /** `memory_usage_bytes` (working set). */
  readonly memory: ContainerChart;
}

/**
 * Per container name and bucket: average CPU % and memory bytes, from `container_usage` (raw) or
 * `container_usage_hourly` (weighted by each hour's scrapes). `$1` instance, `$2` from, `$3` to, `$4` step.
 */
function containerBucketsSql(source: RangeQuery['source']): string {
  const bucket = `floor((extract(epoch FROM time)::float8 - $2::float8) / $4::float8)::bigint`;
  return source === 'raw'
    ? `SELECT container, ${bucket} AS bucket, avg(cpu_percent) AS cpu,
              avg(memory_usage_bytes)::float8 AS mem, (array_agg(image ORDER BY time DESC))[1] AS image,
              max(time) AS latest
         FROM hostscope.container_usage
        WHERE instance = $1 AND time >= to_timestamp($2::float8) AND time < to_timestamp($3::float8)
        GROUP BY 1, 2`
    : `SELECT container, ${bucket} AS bucket,
              sum(cpu_percent_avg * samples) FILTER (WHERE cpu_percent_avg IS NOT NULL)
                / nullif(sum(samples) FILTER (WHERE cpu_percent_avg IS NOT NULL), 0) AS cpu,
              sum(memory_usage_bytes_avg * samples) FILTER (WHERE memory_usage_bytes_avg IS NOT NULL)
                / nullif(sum(samples) FILTER (WHERE memory_usage_bytes_avg IS NOT NULL), 0) AS mem,
              (array_agg(image ORDER BY time DESC))[1] AS image, max(time) AS latest
         FROM hostscope.container_usage_hourly
        WHERE instance = $1 AND time >= to_timestamp($2::float8) AND time < to_timestamp($3::float8)
        GROUP BY 1, 2`;
}

/**
 * Both charts in one statement: per chart (`cpu`, `memory`), the `top` containers by their average
 * bucket value over the range and the rest summed (`container` NULL).
 */
export function containersSql(q: HostRangeQuery): Statement {
  return {
    sql: `WITH b AS (${containerBucketsSql(q.source)}),
               rk AS (SELECT container, (array_agg(image ORDER BY latest DESC))[1] AS image,
                             row_number() OVER (ORDER BY avg(cpu) DESC NULLS LAST, container) AS cpu_rank,
                             row_number() OVER (ORDER BY avg(mem) DESC NULLS LAST, container) AS mem_rank
                        FROM b GROUP BY container)
          SELECT 'cpu' AS chart, CASE WHEN rk.cpu_rank <= $5 THEN rk.container END AS container,
                 min(rk.cpu_rank) AS rank, min(rk.image) AS image, b.bucket, sum(b.cpu) AS value,
                 count(*)::int AS n, (SELECT count(*) FROM rk)::int AS total
            FROM b JOIN rk ON rk.container = b.container WHERE b.cpu IS NOT NULL
           GROUP BY 1, 2, 5
          UNION ALL
          SELECT 'memory', CASE WHEN rk.mem_rank <= $5 THEN rk.container END,
                 min(rk.mem_rank), min(rk.image), b.bucket, sum(b.mem), count(*)::int,
                 (SELECT count(*) FROM rk)::int
            FROM b JOIN rk ON rk.container = b.container WHERE b.mem IS NOT NULL
           GROUP BY 1, 2, 5
          ORDER BY 1, 3, 5`,
    params: [q.instance, q.from, q.to, q.step, q.top],
  };
}

export async function queryContainers(db: Queryable, q: HostRangeQuery): Promise<ContainersAnswer> {
  const s = containersSql(q);
  const rows = await db.query<{
    chart: 'cpu' | 'memory';
    container: string | null;
    image: string | null;
    bucket: string;
    value: unknown;
    total: number;
  }>(s.sql, s.params);
  let total = 0;
  const charts = {
    cpu: { containers: [] as ContainerHistory[], other: null as ContainerChart['other'] },
    memory: { containers: [] as ContainerHistory[], other: null as ContainerChart['other'] },
  };
  const current: Record<'cpu' | 'memory', ContainerHistory | undefined> = {
    cpu: undefined,
    memory: undefined,
  };
  for (const r of rows) {
    total = Number(r.total);
    const value = Number(r.value);
    if (!Number.isFinite(value)) continue;
    const point: ValuePoint = [q.from + Number(r.bucket) * q.step, value];
    const chart = charts[r.chart];
    if (r.container === null) {
      chart.other ??= { containers: Math.max(0, total - q.top), points: [] };
      chart.other.points.push(point);
      continue;
    }
    let c = current[r.chart];
    if (c === undefined || c.name !== r.container) {
      c = { name: r.container, image: r.image ?? '', points: [] };
      current[r.chart] = c;
      chart.containers.push(c);
    }
    c.points.push(point);
  }
  return {
    instance: q.instance,
    from: q.from,
    to: q.to,
    step: q.step,
    source: q.source,
    container_count: total,
    cpu: charts.cpu,
    memory: charts.memory,
  };
}
