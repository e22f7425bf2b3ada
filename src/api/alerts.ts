import type { Queryable } from '../db/database';
import { MAX_TEXT_LENGTH, parseTime, type Parsed, type ParamError } from './params';

/**
 * `GET /api/v1/alerts`: the alert occurrences the Alertmanager webhook stored (hostscope.alerts_history,
 * migration 0003): those firing now, and those resolved since a time. Read-only, parameterised, bounded.
 */

export const DEFAULT_ALERTS_SINCE_SECONDS = 7 * 86_400;
export const MAX_ALERTS_SINCE_SECONDS = 400 * 86_400;
export const DEFAULT_ALERTS_LIMIT = 100;
export const MAX_ALERTS_LIMIT = 500;

export interface AlertsQuery {
  /** Only this instance's alerts; undefined: every instance. */
  readonly instance?: string;
  /** Unix seconds: resolved occurrences that ended at or after it. */
  readonly since: number;
  /** Most rows in each list. */
  readonly limit: number;
}

const KNOWN = new Set(['instance', 'since', 'limit']);
const fail = (parameter: string, message: string): { ok: false; error: ParamError } => ({
  ok: false,
  error: { parameter, message },
});

/** Checks the query string of `GET /api/v1/alerts`; every parameter at most once, unknown ones refused. */
export function parseAlertsParams(params: URLSearchParams, nowSeconds: number): Parsed<AlertsQuery> {
  const seen = new Set<string>();
  for (const [key] of params) {
    if (!KNOWN.has(key)) return fail(key, 'unknown parameter (expected instance, since, limit)');
    if (seen.has(key)) return fail(key, 'given more than once');
    seen.add(key);
  }
  const instance = params.get('instance') ?? undefined;
  if (instance !== undefined) {
    if (instance === '') return fail('instance', 'must not be empty');
    if (instance.length > MAX_TEXT_LENGTH)
      return fail('instance', `longer than ${MAX_TEXT_LENGTH} characters`);
  }
  const sinceText = params.get('since');
  const since = sinceText === null ? nowSeconds - DEFAULT_ALERTS_SINCE_SECONDS : parseTime(sinceText);
  if (since === undefined) return fail('since', 'must be an RFC 3339 time or unix seconds');
  if (since < nowSeconds - MAX_ALERTS_SINCE_SECONDS)
    return fail('since', `must be within the last ${MAX_ALERTS_SINCE_SECONDS / 86_400} days`);
  if (since > nowSeconds) return fail('since', 'must not be in the future');
  const limitText = params.get('limit');
  let limit = DEFAULT_ALERTS_LIMIT;
  if (limitText !== null) {
    if (!/^\d{1,9}$/.test(limitText)) return fail('limit', 'must be a whole number');
    limit = Number(limitText);
    if (limit < 1 || limit > MAX_ALERTS_LIMIT)
      return fail('limit', `must be between 1 and ${MAX_ALERTS_LIMIT}`);
  }
  return { ok: true, value: { ...(instance === undefined ? {} : { instance }), since, limit } };
}

const COLUMNS = `alertname, severity, instance, job, status,
       extract(epoch FROM starts_at)::float8 AS starts_at, extract(epoch FROM ends_at)::float8 AS ends_at,
       duration_seconds, firing_seconds, labels, annotations, notifications`;

/** The statements: `$1` instance or NULL, `$2` limit, `$3` since (unix seconds). */
export const ALERTS_SQL = {
  firing: `SELECT ${COLUMNS} FROM hostscope.alerts_history
            WHERE ends_at IS NULL AND ($1::text IS NULL OR instance = $1::text)
            ORDER BY starts_at DESC, fingerprint LIMIT $2`,
  firingCount: `SELECT count(*)::int AS n FROM hostscope.alerts_history
                 WHERE ends_at IS NULL AND ($1::text IS NULL OR instance = $1::text)`,
  resolved: `SELECT ${COLUMNS} FROM hostscope.alerts_history
              WHERE ends_at >= to_timestamp($3::float8) AND ($1::text IS NULL OR instance = $1::text)
              ORDER BY ends_at DESC, fingerprint LIMIT $2`,
  /** `$1` instance or NULL, `$2` since. */
  resolvedCount: `SELECT count(*)::int AS n FROM hostscope.alerts_history
                   WHERE ends_at >= to_timestamp($2::float8) AND ($1::text IS NULL OR instance = $1::text)`,
} as const;

export interface AlertOccurrence {
  alertname: string;
  severity: string | null;
  instance: string | null;
  job: string | null;
  status: 'firing' | 'resolved';
  starts_at: number;
  ends_at: number | null;
  duration_seconds: number | null;
  firing_seconds: number | null;
  summary: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  notifications: number;
}

export interface AlertsAnswer {
  time: number;
  since: number;
  firing: AlertOccurrence[];
  firing_total: number;
  resolved: AlertOccurrence[];
  resolved_total: number;
}

type R = Record<string, unknown>;
const num = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, string> => {
  const o = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  return typeof o === 'object' && o !== null ? (o as Record<string, string>) : {};
};

function occurrence(r: R): AlertOccurrence {
  const annotations = obj(r.annotations);
  return {
    alertname: str(r.alertname) ?? '',
    severity: str(r.severity),
    instance: str(r.instance),
    job: str(r.job),
    status: r.status === 'firing' ? 'firing' : 'resolved',
    starts_at: num(r.starts_at) ?? 0,
    ends_at: num(r.ends_at),
    duration_seconds: num(r.duration_seconds),
    firing_seconds: num(r.firing_seconds),
    summary: typeof annotations.summary === 'string' ? annotations.summary : null,
    labels: obj(r.labels),
    annotations,
    notifications: num(r.notifications) ?? 0,
  };
}

export async function queryAlerts(db: Queryable, q: AlertsQuery, nowSeconds: number): Promise<AlertsAnswer> {
  const p = [q.instance ?? null, q.limit, q.since];
  const firing = await db.query<R>(ALERTS_SQL.firing, p.slice(0, 2));
  const firingCount = await db.query<R>(ALERTS_SQL.firingCount, p.slice(0, 1));
  const resolved = await db.query<R>(ALERTS_SQL.resolved, p);
  const resolvedCount = await db.query<R>(ALERTS_SQL.resolvedCount, [p[0], p[2]]);
  return {
    time: nowSeconds,
    since: q.since,
    firing: firing.map(occurrence),
    firing_total: num(firingCount[0]?.n) ?? 0,
    resolved: resolved.map(occurrence),
    resolved_total: num(resolvedCount[0]?.n) ?? 0,
  };
}
