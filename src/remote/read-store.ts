import type { Database } from '../db/database';
import { compileMatchers, MatchBudget, matchesAll, type CompiledMatcher } from './matchers';
import type { Label, LabelMatcher } from './prompb';

/**
 * Remote read's access to the storage: the series whose labels the matchers accept, and their raw
 * samples in a time range, from the head (samples_raw) and the compacted chunks alike
 * (hostscope.samples_range), never from the hourly rollups.
 */

export interface StoredSeries {
  readonly id: number;
  /** Sorted by name, `__name__` included, as Prometheus expects. */
  readonly labels: readonly Label[];
}

export class ReadLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadLimitError';
  }
}

/**
 * The series the matchers select. The metric name is matched in JavaScript against the (small) metric
 * dictionary first, equality matchers on other labels narrow the series in SQL (jsonb containment, GIN
 * index), and every matcher is then checked on each candidate, so the SQL side never decides a match.
 */
export async function selectSeries(
  db: Database,
  matchers: readonly LabelMatcher[],
  /** The request's matching time (shared by all its queries). */
  budget = new MatchBudget(),
): Promise<StoredSeries[]> {
  const compiled = compileMatchers(matchers);
  const byName = compiled.filter((m) => m.name === '__name__');
  const metrics = await db.query<{ id: number; name: string }>('SELECT id, name FROM hostscope.metrics');
  // Regexes run under the time budget (MATCH_BUDGET_MS): MatchTimeoutError past it.
  const metricNames = new Map<number, string>();
  budget.run(() => {
    for (const m of metrics)
      if (byName.every((x) => x.matches(m.name))) metricNames.set(Number(m.id), m.name);
  });
  if (metricNames.size === 0) return [];
  const contains: Record<string, string> = {};
  // (No stored label holds a NUL, which jsonb cannot: such a matcher is left to the check below.)
  for (const m of matchers)
    if (
      m.type === '=' &&
      m.name !== '__name__' &&
      m.value !== '' &&
      !`${m.name}${m.value}`.includes('\u0000')
    )
      contains[m.name] = m.value;
  const rows = await db.query<{ id: string | number; metric_id: number; labels: Record<string, string> }>(
    `SELECT id, metric_id, labels FROM hostscope.series
      WHERE metric_id = ANY($1::int[]) AND labels @> $2::jsonb`,
    [[...metricNames.keys()], JSON.stringify(contains)],
  );
  const out: StoredSeries[] = [];
  const rest: CompiledMatcher[] = compiled.filter((m) => m.name !== '__name__');
  budget.run(() => {
    for (const r of rows) {
      const all: Record<string, string> = {
        ...r.labels,
        __name__: metricNames.get(Number(r.metric_id)) ?? '',
      };
      if (!matchesAll(rest, all)) continue;
      const labels = Object.entries(all)
        .filter(([, v]) => v !== '')
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      out.push({ id: Number(r.id), labels });
    }
  });
  out.sort((a, b) => compareLabels(a.labels, b.labels));
  return out;
}

function compareLabels(a: readonly Label[], b: readonly Label[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const [an, av] = a[i] as Label;
    const [bn, bv] = b[i] as Label;
    if (an !== bn) return an < bn ? -1 : 1;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return a.length - b.length;
}

export interface SeriesData {
  readonly timestamps: number[];
  readonly values: number[];
  /** Per sample: Prometheus' staleness marker (its NaN bits do not survive the text protocol). */
  readonly stale: boolean[];
}

/**
 * A remote-written staleness marker as stored: its exact bits, or with the quiet bit set (V8 may quiet
 * a signalling NaN on the way to PostgreSQL).
 */
const STALE_SQL = "float8send(value) IN ('\\x7ff0000000000002'::bytea, '\\x7ff8000000000002'::bytea)";

/**
 * The range a query's bounds are clamped to: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.998Z (the query
 * ends a millisecond after its last one, still in year 9999).
 */
const FIRST_MS = -62_135_596_800_000;
const LAST_MS = 253_402_300_799_998;

/**
 * Samples of the given series with startMs <= t <= endMs (remote read's bounds are inclusive), per
 * series in time order. A sample present both in the head and in a chunk (a retried write into an
 * already compacted hour, until the next compaction merges it) is returned once. Fails with
 * ReadLimitError past `maxSamples`.
 */
export async function readSamples(
  db: Database,
  ids: readonly number[],
  startMs: number,
  endMs: number,
  maxSamples: number,
): Promise<Map<number, SeriesData>> {
  const out = new Map<number, SeriesData>();
  // Remote read's bounds are any int64; what PostgreSQL and Date can hold is years 1 to 9999.
  startMs = Math.max(startMs, FIRST_MS);
  endMs = Math.min(endMs, LAST_MS);
  if (ids.length === 0 || endMs < startMs) return out;
  const rows = await db.query<{ s: string | number; t: number; v: number; st: boolean }>(
    `SELECT series_id AS s, (extract(epoch FROM time) * 1000)::float8 AS t, value AS v, ${STALE_SQL} AS st
       FROM hostscope.samples_range($1::timestamptz, $2::timestamptz)
      WHERE series_id = ANY($3::bigint[])
      ORDER BY series_id, time
      LIMIT $4`,
    [new Date(startMs).toISOString(), new Date(endMs + 1).toISOString(), ids, maxSamples + 1],
  );
  if (rows.length > maxSamples)
    throw new ReadLimitError(
      `the query selects more than ${maxSamples} samples (--remote-read.max-samples); narrow the time range or the matchers`,
    );
  for (const r of rows) {
    const id = Number(r.s);
    let d = out.get(id);
    if (d === undefined) {
      d = { timestamps: [], values: [], stale: [] };
      out.set(id, d);
    }
    const t = Math.round(r.t);
    if (d.timestamps[d.timestamps.length - 1] === t) continue;
    d.timestamps.push(t);
    d.values.push(r.v);
    d.stale.push(r.st);
  }
  return out;
}
