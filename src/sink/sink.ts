import cron, { type ScheduledTask } from 'node-cron';
import { describe } from '../errors';
import { isConnectionError, type Database } from '../db/database';
import { countSamples, ParseCache } from '../expfmt/parse';
import type { Logger } from '../log/logger';
import { ScrapeBuffer } from './buffer';
import { extractInventory, InventoryTracker } from './inventory';
import { maintain, type MaintainOptions } from './maintain';
import { scrapeTarget, syntheticFamilies, type ScrapeOutcome } from './scrape';
import { SinkMetrics } from './sink-metrics';
import type { PendingScrape, Target } from './types';
import { UsageTracker } from './usage';
import { SampleWriter } from './writer';

export interface SinkOptions {
  readonly targets: readonly Target[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly bufferMaxSamples: number;
  readonly batchSamples: number;
  readonly maintain: MaintainOptions;
  /** node-cron expression for maintenance inside the sink; '' disables it. */
  readonly maintainSchedule: string;
}

/** Turns a scrape interval into a node-cron expression aligned to the clock, or undefined if impossible. */
export function intervalToCron(ms: number): string | undefined {
  if (ms <= 0 || ms % 1000 !== 0) return undefined;
  const s = ms / 1000;
  if (s < 60) return 60 % s === 0 ? `*/${s} * * * * *` : undefined;
  if (s % 60 !== 0) return undefined;
  const m = s / 60;
  if (m < 60) return 60 % m === 0 ? `0 */${m} * * * *` : undefined;
  if (m % 60 !== 0) return undefined;
  const h = m / 60;
  return h <= 24 && 24 % h === 0 ? `0 0 */${h} * * *` : undefined;
}

/**
 * The sink: scrapes its targets on a node-cron schedule (never overlapping), turns each scrape into a
 * pending batch (samples, usage rows, inventory) in a bounded buffer, and writes the buffer to the database
 * in the background, so slow writes or an outage never delay scraping. Everything it keeps lives here.
 */
export class Sink {
  readonly buffer: ScrapeBuffer;
  readonly metrics: SinkMetrics;
  readonly writer: SampleWriter;
  private readonly usage = new UsageTracker();
  private readonly inventory = new InventoryTracker();
  /** Per target URL: what its last scrape parsed to (see ParseCache). */
  private readonly parseCaches = new Map<string, ParseCache>();
  private skipped = 0;
  private flushing: Promise<boolean> | undefined;
  private round: Promise<void> | undefined;
  private maintaining: Promise<void> | undefined;
  private tasks: ScheduledTask[] = [];
  private headFailures = 0;
  private dbUp = true;
  private prepared: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: SinkOptions,
    private readonly logger: Logger,
    /** Runs once before the first write (migrations); retried on the next flush when it fails. */
    private readonly prepare: () => Promise<void> = async () => undefined,
  ) {
    this.buffer = new ScrapeBuffer(options.bufferMaxSamples);
    this.writer = new SampleWriter(db, logger, {
      past: Math.max(options.maintain.retentionRawMs, 3_600_000),
      future: 600_000,
    });
    this.metrics = new SinkMetrics(() => ({
      samples: this.buffer.size,
      max: this.buffer.maxSamples,
      droppedSamples: this.buffer.droppedSamples,
      skipped: this.skipped,
    }));
  }

  /** Turns one scrape outcome into a pending batch; records failures as `up 0`. */
  accept(outcome: ScrapeOutcome): PendingScrape {
    const { target, timeMs } = outcome;
    this.metrics.scrape(target.instance, outcome.families !== undefined);
    if (outcome.error !== undefined)
      this.logger.warn(
        { target: target.url, instance: target.instance, err: { message: outcome.error } },
        'scrape failed',
      );
    const families = [...(outcome.families ?? []), ...syntheticFamilies(outcome)];
    const sampleCount = countSamples(families);
    const pending: PendingScrape = { target, timeMs, families, sampleCount, containerUsage: [] };
    if (outcome.families === undefined) return pending;
    const usage = this.usage.compute(target, timeMs, outcome.families);
    const snapshot = extractInventory(target, timeMs, outcome.families);
    return {
      ...pending,
      ...(usage.host === undefined ? {} : { hostUsage: usage.host }),
      containerUsage: usage.containers,
      ...(this.inventory.due(snapshot) ? { inventory: snapshot } : {}),
    };
  }

  /**
   * One scrape round: every target concurrently, each under its own time limit. Each scrape is buffered
   * as soon as it is parsed and the background flush is nudged, so writing overlaps with slower targets.
   */
  async scrapeRound(nowMs = Date.now()): Promise<void> {
    await Promise.all(
      this.options.targets.map(async (t) => {
        let cache = this.parseCaches.get(t.url);
        if (cache === undefined) {
          cache = new ParseCache();
          this.parseCaches.set(t.url, cache);
        }
        const outcome = await scrapeTarget(t, {
          timeoutMs: this.options.timeoutMs,
          bodyLimitBytes: this.options.bodyLimitBytes,
          nowMs,
          cache,
        });
        this.buffer.push(this.accept(outcome));
        void this.flush();
      }),
    );
  }

  /** Writes everything buffered, batch by batch. Single-flight. Resolves true when the buffer is empty. */
  flush(): Promise<boolean> {
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushLoop(): Promise<boolean> {
    while (this.buffer.scrapes > 0) {
      const batch = this.buffer.peek(this.options.batchSamples);
      const started = performance.now();
      try {
        this.prepared ??= this.prepare().catch((err: unknown) => {
          this.prepared = undefined;
          throw err;
        });
        await this.prepared;
        const result = await this.writer.write(batch);
        this.buffer.remove(batch);
        this.skipped += result.skipped;
        this.headFailures = 0;
        this.metrics.observeWrite((performance.now() - started) / 1000, result.written, Date.now());
        if (!this.dbUp) {
          this.dbUp = true;
          this.logger.info({ buffered: this.buffer.size }, 'database reachable again; writing the buffer');
        }
      } catch (err) {
        this.metrics.writeFailures++;
        if (isConnectionError(err)) {
          if (this.dbUp)
            this.logger.error({ err, buffered: this.buffer.size }, 'database unreachable; buffering');
          this.dbUp = false;
          return false;
        }
        this.headFailures++;
        this.logger.error({ err, attempt: this.headFailures }, 'writing a batch failed');
        if (this.headFailures >= 3) {
          // A batch the database keeps rejecting must not block everything behind it.
          let n = 0;
          for (const s of batch) n += s.sampleCount;
          this.buffer.remove(batch);
          this.buffer.droppedSamples += n;
          this.headFailures = 0;
          this.logger.error({ samples: n }, 'dropped a batch the database rejected three times');
        }
        return false;
      }
    }
    return true;
  }

  /** Flushes, retrying until the buffer is empty or the deadline passes. */
  async drain(deadlineMs: number, retryMs = 1000): Promise<boolean> {
    for (;;) {
      if (await this.flush()) return true;
      if (Date.now() + retryMs > deadlineMs) return false;
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }

  async runMaintenance(): Promise<void> {
    this.maintaining ??= (async () => {
      try {
        this.prepared ??= this.prepare().catch((err: unknown) => {
          this.prepared = undefined;
          throw err;
        });
        await this.prepared;
        await maintain(this.db, this.logger, this.options.maintain);
        this.metrics.maintenanceRuns++;
      } catch (err) {
        this.metrics.maintenanceFailures++;
        this.logger.error({ err: { message: describe(err) } }, 'maintenance failed');
      }
    })().finally(() => {
      this.maintaining = undefined;
    });
    return this.maintaining;
  }

  /** Starts the scrape schedule (and maintenance schedule). */
  start(scrapeCron: string): void {
    const scrape = cron.schedule(
      scrapeCron,
      async (ctx) => {
        this.round = this.scrapeRound(ctx.triggeredAt.getTime());
        await this.round;
      },
      { noOverlap: true, name: 'hostscope-sink-scrape' },
    );
    this.tasks.push(scrape);
    if (this.options.maintainSchedule !== '') {
      this.tasks.push(
        cron.schedule(this.options.maintainSchedule, () => this.runMaintenance(), {
          noOverlap: true,
          name: 'hostscope-sink-maintain',
        }),
      );
    }
  }

  /** Stops scheduling, waits for the running round, and writes what is buffered (until the deadline). */
  async stop(deadlineMs: number): Promise<boolean> {
    for (const t of this.tasks) await t.destroy();
    this.tasks = [];
    await this.round?.catch(() => undefined);
    await this.maintaining;
    await this.flushing;
    return this.drain(deadlineMs);
  }

  health(): Record<string, unknown> {
    return {
      database: this.dbUp ? 'up' : 'unreachable',
      buffer_samples: this.buffer.size,
      last_successful_write:
        this.metrics.lastWriteSeconds === 0
          ? null
          : new Date(this.metrics.lastWriteSeconds * 1000).toISOString(),
    };
  }
}
