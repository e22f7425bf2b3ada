import { createHash } from 'node:crypto';
import { transaction, type Database } from '../db/database';
import { occurrencesOf, type WebhookPayload } from './payload';

export interface StoreResult {
  /** True when this exact notification had been received before (a re-send). */
  readonly repeated: boolean;
  readonly occurrences: number;
}

const UPSERT_OCCURRENCES = `
INSERT INTO hostscope.alert_occurrences AS o
  (fingerprint, starts_at, ends_at, alertname, severity, instance, job, labels, annotations, generator_url,
   receiver, group_key, first_received_at, last_received_at)
SELECT a.fingerprint, a.starts_at, a.ends_at, coalesce(a.labels->>'alertname', ''), a.labels->>'severity',
       a.labels->>'instance', a.labels->>'job', a.labels, a.annotations, a.generator_url, $2, $3, $4, $4
  FROM jsonb_to_recordset($1::jsonb) AS a(fingerprint text, starts_at timestamptz, ends_at timestamptz,
                                          labels jsonb, annotations jsonb, generator_url text)
ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
  ends_at = coalesce(EXCLUDED.ends_at, o.ends_at),
  labels = EXCLUDED.labels,
  annotations = EXCLUDED.annotations,
  generator_url = EXCLUDED.generator_url,
  receiver = EXCLUDED.receiver,
  group_key = EXCLUDED.group_key,
  last_received_at = greatest(o.last_received_at, EXCLUDED.last_received_at),
  notifications = o.notifications + 1`;

/**
 * Stores one webhook notification in one transaction: the raw payload (deduplicated by its SHA-256, a
 * re-send only counts), and an upsert of every occurrence it reports. Storing the same notification again,
 * or an older one after a newer (Alertmanager retries), changes no occurrence's times: an end, once known,
 * stays (a late "firing" re-send cannot reopen a resolved occurrence).
 */
export async function storeNotification(
  db: Database,
  payload: WebhookPayload,
  body: Buffer,
  receivedAt: Date = new Date(),
): Promise<StoreResult> {
  const sha = createHash('sha256').update(body).digest();
  const occurrences = occurrencesOf(payload);
  const at = receivedAt.toISOString();
  return transaction(db, async (s) => {
    const raw = await s.query<{ times_received: number }>(
      `INSERT INTO hostscope.alert_notifications AS n
         (payload_sha256, receiver, group_key, status, alerts, payload, first_received_at, last_received_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $7)
       ON CONFLICT (payload_sha256) DO UPDATE SET
         last_received_at = greatest(n.last_received_at, EXCLUDED.last_received_at),
         times_received = n.times_received + 1
       RETURNING times_received`,
      [
        sha,
        payload.receiver,
        payload.groupKey,
        payload.status,
        payload.alerts.length,
        body.toString('utf8'),
        at,
      ],
    );
    if (occurrences.length > 0)
      await s.query(UPSERT_OCCURRENCES, [
        JSON.stringify(occurrences),
        payload.receiver,
        payload.groupKey,
        at,
      ]);
    return { repeated: Number(raw[0]?.times_received ?? 1) > 1, occurrences: occurrences.length };
  });
}

/** Retention of the raw notifications (the occurrences are kept like the hourly rollups). */
export async function expireAlertHistory(
  db: Database,
  nowMs: number,
  notificationsMs: number,
  occurrencesMs: number,
): Promise<{ notifications: number; occurrences: number }> {
  const n = await db.query<{ n: string | number }>(
    `WITH d AS (DELETE FROM hostscope.alert_notifications WHERE last_received_at < $1 RETURNING 1)
     SELECT count(*) AS n FROM d`,
    [new Date(nowMs - notificationsMs).toISOString()],
  );
  const o = await db.query<{ n: string | number }>(
    `WITH d AS (DELETE FROM hostscope.alert_occurrences WHERE ends_at < $1 RETURNING 1)
     SELECT count(*) AS n FROM d`,
    [new Date(nowMs - occurrencesMs).toISOString()],
  );
  return { notifications: Number(n[0]?.n ?? 0), occurrences: Number(o[0]?.n ?? 0) };
}
