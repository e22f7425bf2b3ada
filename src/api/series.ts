import type { Queryable } from '../db/database';
import type { RangeQuery, SeriesQuery, SeriesSource } from './params';

/** Most series one `GET /api/v1/series` answer may hold; more is a 400 asking for narrower matchers. */
export const MAX_SERIES = 200;

export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The series of the metric that carry every matcher (at most `limit`), by id. */
export function seriesLookupSql(q: SeriesQuery, limit: number): Statement {
  return {
    sql: `SELECT s.id::text AS id, s.labels
            FROM hostscope.series s JOIN hostscope.metrics m ON m.id = s.metric_id
           WHERE m.name = $1 AND s.labels @> $2::jsonb
           ORDER BY s.labels::text
           LIMIT $3`,
    params: [q.metric, JSON.stringify(q.match), limit],
  };
}

/**
 * Per series and bucket `floor((t - from) / step)`: the bucket's average, minimum, maximum and sample
 * count, and the average time of its samples (`id, bucket, avg, min, max, count, t`; for rollups, each
 * hour's middle, weighted like the average), with `$1` the series ids (bigint[]), `$2` from, `$3` to (unix
 * seconds) and `$4` the step. Raw samples come from `samples_range` (NaN and infinities left out: JSON
 * cannot carry them and they would poison the average); hourly rows from `samples_hourly`, whose hour
 * starts in the range, averaged weighted by their sample counts. Shared by /api/v1/series and the
 * aggregating queries (history.ts).
 */
export function bucketAveragesSql(source: SeriesSource): string {
  const bucket = (t: string): string =>
    `floor((extract(epoch FROM ${t})::float8 - $2::float8) / $4::float8)::bigint`;
  const sql: Record<SeriesSource, string> = {
    raw: `SELECT r.series_id AS id, ${bucket('r.time')} AS bucket,
                 avg(r.value) AS avg, min(r.value) AS min, max(r.value) AS max, count(*)::int AS count,
                 avg(extract(epoch FROM r.time)::float8) AS t
            FROM hostscope.samples_range(to_timestamp($2::float8), to_timestamp($3::float8)) r
           WHERE r.series_id = ANY($1::bigint[])
             AND r.value NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
           GROUP BY 1, 2`,
    hourly: `SELECT h.series_id AS id, ${bucket('h.time')} AS bucket,
                    sum(h.avg * h.count) / sum(h.count) AS avg, min(h.min) AS min, max(h.max) AS max,
                    sum(h.count)::int AS count,
                    sum((extract(epoch FROM h.time)::float8 + 1800) * h.count) / sum(h.count) AS t
               FROM hostscope.samples_hourly h
              WHERE h.series_id = ANY($1::bigint[]) AND h.time >= to_timestamp($2::float8) AND h.time < to_timestamp($3::float8)
                AND h.count > 0
              GROUP BY 1, 2`,
  };
  return sql[source];
}

/** The points of the given series: one row per series and bucket (see bucketAveragesSql), in order. */
export function seriesPointsSql(q: RangeQuery, ids: readonly string[]): Statement {
  return {
    sql: `SELECT b.id::text AS id, b.bucket, b.avg, b.min, b.max, b.count
            FROM (${bucketAveragesSql(q.source)}) b ORDER BY 1, 2`,
    params: [ids, q.from, q.to, q.step],
  };
}

/** One point: bucket start (unix seconds), average, minimum, maximum, samples in the bucket. */
export type Point = [number, number | null, number | null, number | null, number];

export interface SeriesAnswer {
  readonly metric: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly source: SeriesSource;
  readonly series: { labels: Record<string, string>; points: Point[] }[];
}

export class TooManySeries extends Error {
  readonly code = 'too_many_series';
}

const finite = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** Runs the two statements and shapes the answer. Throws TooManySeries past MAX_SERIES. */
export async function querySeries(db: Queryable, q: SeriesQuery): Promise<SeriesAnswer> {
  const lookup = seriesLookupSql(q, MAX_SERIES + 1);
  const found = await db.query<{ id: string; labels: Record<string, string> }>(lookup.sql, lookup.params);
  if (found.length > MAX_SERIES)
    throw new TooManySeries(`more than ${MAX_SERIES} series match; add match[<label>] filters`);
  const byId = new Map(found.map((s) => [s.id, { labels: s.labels, points: [] as Point[] }]));
  if (found.length > 0) {
    const points = seriesPointsSql(q, [...byId.keys()]);
    const rows = await db.query<{
      id: string;
      bucket: string;
      avg: unknown;
      min: unknown;
      max: unknown;
      count: number;
    }>(points.sql, points.params);
    for (const r of rows)
      byId
        .get(r.id)
        ?.points.push([
          q.from + Number(r.bucket) * q.step,
          finite(r.avg),
          finite(r.min),
          finite(r.max),
          Number(r.count),
        ]);
  }
  return {
    metric: q.metric,
    from: q.from,
    to: q.to,
    step: q.step,
    source: q.source,
    series: [...byId.values()],
  };
}
