import type { Database } from '../db/database';
import { rng } from '../sink/seed';

export interface AlertSeedOptions {
  readonly hosts: number;
  readonly days: number;
  readonly nowMs: number;
  readonly seed: number;
}

const KINDS = [
  { alertname: 'HostHighCpuLoad', severity: 'warning', minutes: [10, 90], perDay: 0.6 },
  { alertname: 'HostMemoryUnderPressure', severity: 'warning', minutes: [5, 45], perDay: 0.3 },
  { alertname: 'HostFilesystemAlmostFull', severity: 'warning', minutes: [60, 600], perDay: 0.15 },
  { alertname: 'ContainerOomKilled', severity: 'warning', minutes: [1, 10], perDay: 0.2 },
  { alertname: 'HostExporterDown', severity: 'critical', minutes: [2, 30], perDay: 0.05 },
] as const;

/**
 * Synthetic alert history for `hostscope seed`, next to the synthetic metrics: occurrences of the
 * bundle's alerts on the seeded hosts (seed-host-NN:9100), as the Alertmanager webhook would have stored
 * them, the last one of the first host still firing. Rows already stored are kept (ON CONFLICT DO NOTHING).
 */
export async function seedAlertHistory(db: Database, options: AlertSeedOptions): Promise<number> {
  const random = rng(options.seed + 7919);
  const from = options.nowMs - options.days * 86_400_000;
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < options.hosts; i++) {
    const instance = `seed-host-${String(i + 1).padStart(2, '0')}:9100`;
    // Some hosts alert much more than others, as in real fleets.
    const weight = i === 0 ? 3 : 0.3 + random() * 1.5;
    for (const kind of KINDS) {
      const expected = kind.perDay * options.days * weight;
      const count = Math.floor(expected + random());
      for (let n = 0; n < count; n++) {
        const start = Math.floor(from + random() * (options.nowMs - from - 3_600_000));
        const [lo, hi] = kind.minutes;
        const end = start + Math.round((lo + random() * (hi - lo)) * 60_000);
        const labels = { alertname: kind.alertname, severity: kind.severity, instance, job: 'hostscope' };
        rows.push({
          fingerprint: fingerprint(labels),
          starts_at: new Date(start).toISOString(),
          ends_at: end < options.nowMs ? new Date(end).toISOString() : null,
          labels,
          annotations: { summary: `${kind.alertname} on ${instance}` },
        });
      }
    }
  }
  if (options.hosts > 0) {
    const labels = {
      alertname: 'HostHighCpuLoad',
      severity: 'warning',
      instance: 'seed-host-01:9100',
      job: 'hostscope',
    };
    rows.push({
      fingerprint: fingerprint(labels),
      starts_at: new Date(options.nowMs - 25 * 60_000).toISOString(),
      ends_at: null,
      labels,
      annotations: { summary: 'HostHighCpuLoad on seed-host-01:9100' },
    });
  }
  if (rows.length === 0) return 0;
  await db.query(
    `INSERT INTO hostscope.alert_occurrences AS o
       (fingerprint, starts_at, ends_at, alertname, severity, instance, job, labels, annotations, receiver,
        group_key, first_received_at, last_received_at)
     SELECT a.fingerprint, a.starts_at, a.ends_at, a.labels->>'alertname', a.labels->>'severity',
            a.labels->>'instance', a.labels->>'job', a.labels, a.annotations, 'hostscope-history', 'seed',
            a.starts_at, coalesce(a.ends_at, a.starts_at)
       FROM jsonb_to_recordset($1::jsonb) AS a(fingerprint text, starts_at timestamptz, ends_at timestamptz,
                                               labels jsonb, annotations jsonb)
     ON CONFLICT (fingerprint, starts_at) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return rows.length;
}

/** A stable 16-hex-digit id of a label set (Alertmanager's is FNV-64a of the sorted labels; any hash will do). */
function fingerprint(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u00ff${labels[k] ?? ''}\u00ff`)
    .join('');
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
