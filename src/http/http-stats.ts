import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

export type ErrorCause = 'encoding' | 'gathering';

/** Counts metric-handler requests like client_golang's promhttp instrumentation (same metric names). */
export class HttpStats {
  private inFlight = 0;
  private readonly byCode = new Map<string, number>();
  private readonly errors = new Map<ErrorCause, number>();

  begin(): void {
    this.inFlight++;
  }

  end(code: number): void {
    this.inFlight--;
    const key = String(code);
    this.byCode.set(key, (this.byCode.get(key) ?? 0) + 1);
  }

  /** A request answered without serving (503 beyond --web.max-requests). */
  rejected(code: number): void {
    const key = String(code);
    this.byCode.set(key, (this.byCode.get(key) ?? 0) + 1);
  }

  /** An internal error of the metric handler, by client_golang's causes. */
  error(cause: ErrorCause): void {
    this.errors.set(cause, (this.errors.get(cause) ?? 0) + 1);
  }

  get current(): number {
    return this.inFlight;
  }

  async collect(): Promise<MetricFamily[]> {
    const set = new MetricSet().gauge(
      'promhttp_metric_handler_requests_in_flight',
      'Current number of scrapes being served.',
      this.inFlight,
    );
    // Pre-populate the usual codes so rate() works from the first error on.
    for (const code of ['200', '500', '503']) {
      set.counter(
        'promhttp_metric_handler_requests_total',
        'Total number of scrapes by HTTP status code.',
        this.byCode.get(code) ?? 0,
        { code },
      );
    }
    for (const cause of ['encoding', 'gathering'] as const) {
      set.counter(
        'promhttp_metric_handler_errors_total',
        'Total number of internal errors encountered by the promhttp metric handler.',
        this.errors.get(cause) ?? 0,
        { cause },
      );
    }
    return set.families();
  }
}
