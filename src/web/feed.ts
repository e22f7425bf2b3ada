import { FILESYSTEM_TREND_SQL } from '../api/overview';
import type { Queryable } from '../db/database';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';
import type { ScrapeRecord } from '../sink/buffer/record';
import type { ScrapeObserver } from '../sink/sink';
import type { LiveHub } from './hub';
import { LiveTracker, trendKey } from './live';

/** The filesystem trends come from hourly rollups: re-read at most this often, and only while watched. */
export const TREND_REFRESH_MS = 10 * 60_000;

/**
 * The live page's feed inside the sink: every accepted scrape goes through the LiveTracker (in memory,
 * no database read), and at the end of each scrape round the figures of every target are handed to the
 * hub once, whatever the number of viewers. The only database read is the filesystems' fill trend (one
 * query over the hourly rollups, at most every TREND_REFRESH_MS, and only while someone watches).
 */
export class LiveFeed implements ScrapeObserver {
  readonly tracker = new LiveTracker();
  private computeSeconds = 0;
  private trendsAtMs = -Infinity;
  private trending: Promise<void> | undefined;
  private failures = 0;

  constructor(
    readonly hub: LiveHub,
    private readonly db: Queryable | undefined,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  scraped(record: ScrapeRecord): void {
    const started = performance.now();
    try {
      this.tracker.observe(record);
    } catch (err) {
      this.failures++;
      this.logger.error({ err, instance: record.target.instance }, 'live page: computing the figures failed');
    }
    this.computeSeconds += (performance.now() - started) / 1000;
  }

  roundDone(): void {
    this.hub.publish(this.tracker.hosts());
    if (this.hub.clientCount > 0 && this.now() - this.trendsAtMs >= TREND_REFRESH_MS)
      void this.refreshTrends();
  }

  /** Reads the fill trends (single-flight); a failure keeps the previous ones and is retried next time. */
  refreshTrends(): Promise<void> {
    if (this.db === undefined) return Promise.resolve();
    const db = this.db;
    this.trending ??= (async () => {
      try {
        const rows = await db.query<{
          instance: string;
          mountpoint: string;
          device: string | null;
          slope: unknown;
        }>(FILESYSTEM_TREND_SQL, [Math.floor(this.now() / 1000)]);
        const trends = new Map<string, number>();
        for (const r of rows) {
          const slope = Number(r.slope);
          if (r.slope !== null && Number.isFinite(slope))
            trends.set(trendKey(r.instance, r.mountpoint, r.device ?? ''), slope);
        }
        this.tracker.setTrends(trends);
        this.trendsAtMs = this.now();
      } catch (err) {
        this.logger.warn({ err }, 'live page: reading the filesystem trends failed; retried next round');
      } finally {
        this.trending = undefined;
      }
    })();
    return this.trending;
  }

  families(): MetricFamily[] {
    const set = new MetricSet();
    set.gauge(
      'hostscope_sink_live_clients',
      'Clients connected to the live page stream (/api/v1/live).',
      this.hub.clientCount,
    );
    set.counter(
      'hostscope_sink_live_messages_total',
      'Messages written to live page clients (updates, heartbeats and first messages).',
      this.hub.messages,
    );
    set.counter(
      'hostscope_sink_live_rejected_total',
      'Live page connections refused because --web.live.max-clients were connected.',
      this.hub.rejected,
    );
    set.counter(
      'hostscope_sink_live_dropped_total',
      'Live page clients disconnected because they stopped reading.',
      this.hub.dropped,
    );
    set.counter(
      'hostscope_sink_live_compute_seconds_total',
      'Time spent computing the live page figures from scrapes and serialising them once per round.',
      this.computeSeconds + this.hub.publishSeconds,
    );
    set.counter(
      'hostscope_sink_live_failures_total',
      'Scrapes whose live figures could not be computed (logged).',
      this.failures,
    );
    return set.families();
  }
}
