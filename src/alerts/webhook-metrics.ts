import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

/** What became of one request to the webhook, and the status code it was answered with. */
export const WEBHOOK_OUTCOMES = {
  stored: 200,
  malformed: 400,
  unreadable: 400,
  unauthorized: 401,
  too_large: 413,
  failed: 500,
  database_unavailable: 503,
} as const;

export type WebhookOutcome = keyof typeof WEBHOOK_OUTCOMES;

/** Outcomes that refuse the notification for what it is (Alertmanager does not retry them). */
const REJECTIONS = ['malformed', 'too_large', 'unauthorized', 'unreadable'] as const;

const REQUESTS_HELP =
  'Requests to the Alertmanager webhook (POST /api/v1/alertmanager), by outcome and HTTP status code answered: stored 200; malformed 400 (not a version 4 payload, logged); unreadable 400 (the body could not be read); unauthorized 401 (--web.config.file basic auth); too_large 413; failed 500; database_unavailable 503 (Alertmanager retries).';

/**
 * The Alertmanager webhook's counters, served on the sink's /metrics, even with the webhook off (zeros, so
 * that dashboards show 0 rather than nothing). Every outcome's series exists from the start.
 */
export class AlertWebhookMetrics {
  private readonly requests = new Map<WebhookOutcome, number>(
    Object.keys(WEBHOOK_OUTCOMES).map((o) => [o as WebhookOutcome, 0]),
  );
  notificationsStored = 0;
  notificationsRepeated = 0;
  alertsStored = 0;
  lastSuccessSeconds = 0;

  request(outcome: WebhookOutcome): void {
    this.requests.set(outcome, (this.requests.get(outcome) ?? 0) + 1);
  }

  /** A notification stored, with the alerts it reported; `repeated` when that exact payload came before. */
  stored(alerts: number, repeated: boolean, nowMs: number): void {
    this.request('stored');
    this.notificationsStored++;
    if (repeated) this.notificationsRepeated++;
    this.alertsStored += alerts;
    this.lastSuccessSeconds = nowMs / 1000;
  }

  families(): MetricFamily[] {
    const set = new MetricSet();
    for (const [outcome, n] of [...this.requests].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      set.counter('hostscope_sink_alertmanager_requests_total', REQUESTS_HELP, n, {
        code: String(WEBHOOK_OUTCOMES[outcome]),
        outcome,
      });
    set.counter(
      'hostscope_sink_alertmanager_notifications_stored_total',
      'Alertmanager notifications stored (the raw payload kept, its alerts upserted), re-sends included.',
      this.notificationsStored,
    );
    set.counter(
      'hostscope_sink_alertmanager_notifications_repeated_total',
      'Stored notifications that were re-sends of a payload received before (repeat_interval, retries, restarts); they change no occurrence.',
      this.notificationsRepeated,
    );
    set.counter(
      'hostscope_sink_alertmanager_alerts_stored_total',
      'Alerts in the stored notifications (each upserts one occurrence in hostscope.alerts_history).',
      this.alertsStored,
    );
    for (const reason of [...REJECTIONS].sort())
      set.counter(
        'hostscope_sink_alertmanager_notifications_rejected_total',
        'Notifications refused and not stored, by reason: malformed (400, logged), too_large (413), unauthorized (401), unreadable (400). Alertmanager does not retry them.',
        this.requests.get(reason) ?? 0,
        { reason },
      );
    set.gauge(
      'hostscope_sink_alertmanager_last_success_timestamp_seconds',
      'Unix time of the last notification stored; 0 before the first.',
      this.lastSuccessSeconds,
    );
    return set.families();
  }
}
