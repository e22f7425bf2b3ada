import { z } from 'zod';

/**
 * Alertmanager's webhook payload, version 4 (Alertmanager 0.x; see its docs, "webhook_config"). Parsed
 * strictly enough that a malformed notification is refused as a whole (400) rather than half stored.
 */

/** Go's zero time, what Alertmanager sends as endsAt of an alert that still fires. */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

const timestamp = z
  .string()
  .datetime({ offset: true })
  .refine((s) => GO_ZERO_TIME.test(s) || !Number.isNaN(Date.parse(s)), 'not a valid time')
  // RFC 3339 allows it, PostgreSQL (which has no year 0) refuses it: a 400, not a failed insert.
  .refine((s) => !s.startsWith('0000-'), 'year 0000 cannot be stored');

const labelSet = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(64),
});

export const webhookPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet.optional(),
  commonLabels: labelSet.optional(),
  commonAnnotations: labelSet.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema),
});

export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** One alert occurrence as stored: identified by (fingerprint, startsAt). */
export interface Occurrence {
  readonly fingerprint: string;
  readonly starts_at: string;
  /** Null while the alert fires. */
  readonly ends_at: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly generator_url: string | null;
}

export type ParseResult = { ok: true; payload: WebhookPayload } | { ok: false; problems: string[] };

/** Parses and validates a request body; every problem is listed (path: message). */
export function parseWebhookBody(body: Buffer): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { ok: false, problems: [`body is not JSON: ${(err as Error).message}`] };
  }
  const r = webhookPayloadSchema.safeParse(json);
  if (!r.success)
    return {
      ok: false,
      problems: r.error.issues.map(
        (i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`,
      ),
    };
  const problems = unstorableStrings(json);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, payload: r.data };
}

/** A surrogate without its pair (only an escape such as `\ud800` in the JSON makes one). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const unstorable = (s: string): boolean => s.includes('\u0000') || LONE_SURROGATE.test(s);

/**
 * Strings PostgreSQL's jsonb refuses ("unsupported Unicode escape sequence"), anywhere in the body (keys
 * and the members the schema ignores included, since the body is stored as it came): the notification is
 * refused (400), rather than failing the insert with a 500 that Alertmanager would retry until the
 * notification expires. Iterative: JSON nests deeper than the call stack goes.
 */
function unstorableStrings(json: unknown): string[] {
  const out: string[] = [];
  const todo: { v: unknown; at: string }[] = [{ v: json, at: '' }];
  for (let item = todo.pop(); item !== undefined && out.length < 10; item = todo.pop()) {
    const { v, at } = item;
    if (typeof v === 'string') {
      if (unstorable(v))
        out.push(`${at === '' ? '(root)' : at}: contains a NUL character or an unpaired surrogate`);
    } else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) {
        const path = at === '' ? k : `${at}.${k}`;
        if (unstorable(k)) out.push(`${path}: the key contains a NUL character or an unpaired surrogate`);
        todo.push({ v: x, at: path });
      }
  }
  return out;
}

/**
 * The occurrences a notification reports, one per (fingerprint, startsAt) (the last one wins when a
 * payload repeats an alert). A firing alert has no end, whatever endsAt says (Alertmanager sends Go's zero
 * time, or the time Prometheus's resend would expire); a resolved one ends at its endsAt.
 */
export function occurrencesOf(payload: WebhookPayload): Occurrence[] {
  const byKey = new Map<string, Occurrence>();
  for (const a of payload.alerts) {
    const ends =
      a.status === 'resolved' && a.endsAt !== undefined && !GO_ZERO_TIME.test(a.endsAt) ? a.endsAt : null;
    byKey.set(`${a.fingerprint}\u0000${new Date(a.startsAt).toISOString()}`, {
      fingerprint: a.fingerprint,
      starts_at: a.startsAt,
      ends_at: ends,
      labels: a.labels,
      annotations: a.annotations,
      generator_url: a.generatorURL ?? null,
    });
  }
  return [...byKey.values()];
}
