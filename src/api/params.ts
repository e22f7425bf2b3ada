/**
 * The parameters of `GET /api/v1/series`, checked without I/O: a query string in, either a typed query or
 * the first bad parameter with the reason (the route answers 400 with it).
 */

/** Longest time range one request may cover (the hourly rollups are kept 400 d by default). */
export const MAX_RANGE_SECONDS = 400 * 86_400;
/** Most points per series one request may ask for. */
export const MAX_POINTS = 5000;
/** Default points per series. */
export const DEFAULT_POINTS = 500;
/** Default range when `from` is absent: the hour before `to`. */
export const DEFAULT_RANGE_SECONDS = 3600;
/** Most label matchers in one request. */
export const MAX_MATCHERS = 20;
/** Longest metric name or label value accepted. */
export const MAX_TEXT_LENGTH = 4096;
/**
 * Latest time accepted, 9999-12-31T23:59:59Z (the latest RFC 3339 can write): PostgreSQL's timestamps
 * end in year 294276, and a later `to` failed the query with "timestamp out of range" (a 500).
 */
export const MAX_TIME_SECONDS = 253_402_300_799;
/**
 * Ranges up to this long with buckets shorter than an hour read raw samples; longer ones (or buckets of an
 * hour or more) read the hourly rollups.
 */
export const RAW_MAX_RANGE_SECONDS = 7 * 86_400;

export type SeriesSource = 'raw' | 'hourly';

/** A time range cut into buckets: what every time-range query of the API has (`from`, `to`, `points`, `source`). */
export interface RangeQuery {
  /** Unix seconds, inclusive. */
  readonly from: number;
  /** Unix seconds, exclusive. */
  readonly to: number;
  readonly points: number;
  /** Where the points come from (`auto` resolved). */
  readonly source: SeriesSource;
  /** Bucket width in seconds: every point summarises one bucket `[from + k*step, from + (k+1)*step)`. */
  readonly step: number;
}

export interface SeriesQuery extends RangeQuery {
  readonly metric: string;
  /** Label equality filters: every returned series has all of them. */
  readonly match: Readonly<Record<string, string>>;
}

export interface ParamError {
  readonly parameter: string;
  readonly message: string;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ParamError };

export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCH_KEY = /^match\[(.*)\]$/s;
const UNIX_SECONDS = /^-?\d+(\.\d+)?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const KNOWN = new Set(['metric', 'from', 'to', 'points', 'source']);

export const fail = (parameter: string, message: string): { ok: false; error: ParamError } => ({
  ok: false,
  error: { parameter, message },
});

/** A time as RFC 3339 (`2024-05-01T12:00:00Z`, an offset, optional fraction) or unix seconds. */
export function parseTime(text: string): number | undefined {
  if (UNIX_SECONDS.test(text)) {
    const v = Number(text);
    return Number.isFinite(v) ? v : undefined;
  }
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2024-02-30 over to March; a day the month does not have is refused instead.
  const [y, mo, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return undefined;
  return ms / 1000;
}

/** A label matcher parameter (`match[<label>]=<value>` and the like): the first problem, if any. */
export function checkMatcher(key: string, label: string, value: string): ParamError | undefined {
  if (!LABEL_NAME.test(label) || label.length > MAX_TEXT_LENGTH)
    return { parameter: key, message: 'the label name must match [a-zA-Z_][a-zA-Z0-9_]*' };
  if (value === '')
    return {
      parameter: key,
      message: 'an empty value matches nothing (a label with an empty value is no label)',
    };
  if (value.length > MAX_TEXT_LENGTH)
    return { parameter: key, message: `longer than ${MAX_TEXT_LENGTH} characters` };
  // PostgreSQL's text and jsonb cannot hold NUL: no stored label has one (and the query would fail).
  if (value.includes('\u0000')) return { parameter: key, message: 'must not contain a NUL character' };
  return undefined;
}

/**
 * Checks the query string of `GET /api/v1/series` (`nowSeconds` is the default `to`). Every parameter
 * may appear once; unknown parameters are refused rather than ignored, so a typo does not silently widen
 * the answer.
 */
export function parseSeriesParams(params: URLSearchParams, nowSeconds: number): Parsed<SeriesQuery> {
  const seen = new Set<string>();
  const match: Record<string, string> = {};
  for (const [key, value] of params) {
    if (seen.has(key)) return fail(key, 'given more than once');
    seen.add(key);
    const m = MATCH_KEY.exec(key);
    if (m !== null) {
      const label = m[1] ?? '';
      const bad = checkMatcher(key, label, value);
      if (bad !== undefined) return { ok: false, error: bad };
      if (Object.keys(match).length >= MAX_MATCHERS)
        return fail(key, `at most ${MAX_MATCHERS} label matchers`);
      match[label] = value;
    } else if (!KNOWN.has(key))
      return fail(key, 'unknown parameter (expected metric, match[<label>], from, to, points, source)');
  }

  const metric = params.get('metric');
  if (metric === null || metric === '') return fail('metric', 'required');
  if (metric.length > MAX_TEXT_LENGTH || !METRIC_NAME.test(metric))
    return fail('metric', 'must be a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*');

  const range = parseRange(params, nowSeconds);
  if (!range.ok) return range;
  return { ok: true, value: { metric, match, ...range.value } };
}

/**
 * `from`, `to`, `points` and `source` of a time-range query (absent ones defaulted): the range, its bucket
 * width and whether raw samples or the hourly rollups answer. `nowSeconds` is the default `to`.
 */
export function parseRange(params: URLSearchParams, nowSeconds: number): Parsed<RangeQuery> {
  const toText = params.get('to');
  const to = toText === null ? nowSeconds : parseTime(toText);
  if (to === undefined) return fail('to', 'must be an RFC 3339 time or unix seconds');
  const fromText = params.get('from');
  const from = fromText === null ? to - DEFAULT_RANGE_SECONDS : parseTime(fromText);
  if (from === undefined) return fail('from', 'must be an RFC 3339 time or unix seconds');
  if (to > MAX_TIME_SECONDS) return fail('to', 'must not be after 9999-12-31T23:59:59Z');
  if (from < 0) return fail('from', 'must not be before 1970');
  if (from >= to) return fail('from', 'must be before to');
  if (to - from > MAX_RANGE_SECONDS)
    return fail('from', `the range from..to must be at most ${MAX_RANGE_SECONDS / 86_400} days`);

  const pointsText = params.get('points');
  let points = DEFAULT_POINTS;
  if (pointsText !== null) {
    if (!/^\d{1,9}$/.test(pointsText)) return fail('points', 'must be a whole number');
    points = Number(pointsText);
    if (points < 1 || points > MAX_POINTS) return fail('points', `must be between 1 and ${MAX_POINTS}`);
  }

  const sourceText = params.get('source') ?? 'auto';
  if (sourceText !== 'auto' && sourceText !== 'raw' && sourceText !== 'hourly')
    return fail('source', 'must be auto, raw or hourly');

  const range = to - from;
  const rawStep = Math.max(1, Math.ceil(range / points));
  const source: SeriesSource =
    sourceText !== 'auto' ? sourceText : range > RAW_MAX_RANGE_SECONDS || rawStep >= 3600 ? 'hourly' : 'raw';
  // Hourly buckets are whole hours, so each rollup row falls in exactly one of them.
  const step = source === 'hourly' ? Math.max(3600, Math.ceil(rawStep / 3600) * 3600) : rawStep;
  return { ok: true, value: { from, to, points, source, step } };
}
