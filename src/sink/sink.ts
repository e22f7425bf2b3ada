import cron, { type ScheduledTask } from 'node-cron';
import { systemClock, type Clock } from '../config/clock';
import { describe } from '../errors';
import { isConnectionError, redactUrl, type Database } from '../db/database';
import { ParseCache } from '../expfmt/parse';
import type { Logger } from '../log/logger';
import { BodyPool } from './body-pool';
import { DiskBuffer } from './buffer/disk-buffer';
import type { ScrapeRecord } from './buffer/record';
import { ScrapeQueue, type Batch, type QueuedScrape } from './buffer/scrape-queue';
import { cronLogger } from './cron-logger';
import { extractInventory, InventoryTracker } from './inventory';
import { maintain, type MaintainOptions } from './maintain';
import { pendingScrape, replayScrape } from './pending';
import { ScrapeSchedule, type ClockJump } from './schedule';
import { scrapeTarget, type ScrapeOutcome } from './scrape';
import { SinkMetrics } from './sink-metrics';
import { targetKey, type Target } from './types';
import type { TargetHealth } from './targets/target-set';
import { UsageTracker } from './usage';
import { SampleWriter } from './writer';

export interface SinkOptions {
  /** The targets to scrape at first; setTargets() changes them. */
  readonly targets: readonly Target[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly bodyLimitBytes: number;
  /** Directory of the outage buffer's segment files. */
  readonly bufferDir: string;
  /** Bound of the segment files' total size. */
  readonly bufferMaxBytes: number;
  /** Largest backlog kept in memory (parsed) while the database keeps up. */
  readonly bufferMaxSamples: number;
  readonly batchSamples: number;
  readonly maintain: MaintainOptions;
  /** node-cron expression for maintenance inside the sink; '' disables it. */
  readonly maintainSchedule: string;
  /**
   * The wall clock of scrape times, write-time decisions (late hours) and maintenance; the system clock
   * unless a test moves it (--testing.clock-offset-file).
   */
  readonly clock?: Clock;
}

/**
 * Told of every scrape the sink accepts (parsed, with its usage rows, before it is queued for writing)
 * and of the end of every scrape round: the live page's feed (src/web/feed.ts). It must be quick and must
 * not throw; it sees the scrapes of this process only, not replays from the disk buffer.
 */
export interface ScrapeObserver {
  scraped(record: ScrapeRecord): void;
  roundDone(): void;
}

/**
 * A target's first successful scrape is followed by this many more, FOLLOW_UP_GAP_MS apart (see
 * Sink.followUp): rates need two scrapes and a chart two rates, so without them the live page's CPU and
 * throughput charts would stay empty for two more intervals after the sink starts.
 */
export const FOLLOW_UP_SCRAPES = 2;
/** One second: the live stream's shortest message interval, so no follow-up's figures are coalesced away. */
export const FOLLOW_UP_GAP_MS = 1000;

/**
 * The node-cron expression of a scrape interval, or undefined when none ticks at a steady interval aligned
 * to the clock: the intervals the scrape schedule accepts (whole seconds dividing a minute, minutes
 * dividing an hour, hours dividing a day), so that ticks fall on the same instants as a cron schedule's.
 */
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
 * The sink: scrapes its targets on a schedule aligned to its clock (ScrapeSchedule; a tick that finds the
 * previous round still running is skipped, logged and counted), turns each scrape into a pending batch (samples, usage rows,
 * inventory), and writes them to the database in the background, so slow writes or an outage never delay
 * scraping. Scrapes wait in memory while the database keeps up and in segment files under
 * --buffer.dir while it does not (see ScrapeQueue). Everything it keeps lives here.
 */
export class Sink {
  readonly buffer: ScrapeQueue;
  readonly metrics: SinkMetrics;
  readonly writer: SampleWriter;
  private readonly usage = new UsageTracker();
  private readonly inventory = new InventoryTracker();
  /** The targets scraped from the next round on, by targetKey. */
  private targets = new Map<string, Target>();
  /** Per current target (by targetKey): what its last scrape parsed to (see ParseCache). */
  private readonly parseCaches = new Map<string, ParseCache>();
  /** Per current target (by targetKey): its last scrape, for /api/v1/targets. */
  private readonly lastScrapes = new Map<string, TargetHealth>();
  /** Scrape bodies are read into reused buffers; one spare. */
  private readonly bodies = new BodyPool(1);
  private skipped = 0;
  /** Set while rounds are skipped for a backlog. */
  private behind = false;
  private behindWarnedMs = -Infinity;
  private rejected = 0;
  private flushing: Promise<boolean> | undefined;
  private round:
    | { readonly promise: Promise<void>; readonly startedMs: number; readonly pending: Set<Target> }
    | undefined;
  private maintaining: Promise<void> | undefined;
  private tasks: ScheduledTask[] = [];
  private schedule: ScrapeSchedule | undefined;
  readonly clock: Clock;
  private headFailures = 0;
  /** Targets (by targetKey) scraped successfully by this process: the others get follow-up scrapes. */
  private readonly scrapedOk = new Set<string>();
  private stopping = false;
  /** Ends the pause between follow-up scrapes early (the sink is stopping). */
  private wake: (() => void) | undefined;
  private dbUp = true;
  private prepared: Promise<void> | undefined;
  /** See ScrapeObserver; set once by the composition root. */
  observer: ScrapeObserver | undefined;

  private constructor(
    private readonly db: Database,
    private readonly options: SinkOptions,
    private readonly logger: Logger,
    /** Runs once before the first write (migrations); retried on the next flush when it fails. */
    private readonly prepare: () => Promise<void>,
    disk: DiskBuffer,
  ) {
    this.clock = options.clock ?? systemClock;
    this.buffer = new ScrapeQueue(
      disk,
      options.bufferMaxSamples,
      logger,
      (record) => replayScrape(record, this.parseCacheFor(record.target)),
      (body) => {
        if (Buffer.isBuffer(body)) this.bodies.release(body);
      },
    );
    this.writer = new SampleWriter(db, logger, {
      past: Math.max(options.maintain.retentionRawMs, 3_600_000),
      future: 600_000,
    });
    this.metrics = new SinkMetrics(() => ({
      samples: this.buffer.samples,
      bytes: disk.bytes,
      maxBytes: disk.options.maxBytes,
      segments: disk.segmentCount,
      droppedSamples: disk.droppedSamples,
      corruptSamples: disk.corruptSamples,
      failedSamples: disk.failedSamples,
      rejectedSamples: this.rejected,
      skipped: this.skipped,
    }));
    this.setTargets(options.targets);
  }

  /**
   * Opens the disk buffer (scrapes a previous run left there are written before any new one) and makes
   * the sink.
   */
  static async open(
    db: Database,
    options: SinkOptions,
    logger: Logger,
    prepare: () => Promise<void> = async () => undefined,
  ): Promise<Sink> {
    const disk = await DiskBuffer.open(
      {
        dir: options.bufferDir,
        maxBytes: options.bufferMaxBytes,
        segmentBytes: segmentBytesFor(options.bufferMaxBytes),
      },
      logger.child({ component: 'buffer' }),
    );
    return new Sink(db, options, logger, prepare, disk);
  }

  /**
   * Turns one scrape outcome into a pending batch (failures become `up 0`), with the record the disk
   * buffer would keep of it. Usage and inventory are computed here, in scrape order.
   */
  accept(outcome: ScrapeOutcome): QueuedScrape {
    const { target, timeMs } = outcome;
    const key = targetKey(target);
    // A scrape of a target removed while its round ran is stored, but leaves no per-target state behind.
    if (this.targets.has(key)) {
      this.metrics.scrape(target.instance, outcome.families !== undefined);
      this.lastScrapes.set(key, {
        timeMs,
        durationSeconds: outcome.durationSeconds,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      });
    }
    if (outcome.error !== undefined)
      this.logger.warn(
        { target: redactUrl(target.url), instance: target.instance, err: { message: outcome.error } },
        'scrape failed',
      );
    let record: ScrapeRecord = {
      target,
      timeMs,
      durationSeconds: outcome.durationSeconds,
      sampleCount: 0,
      containerUsage: [],
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
    if (outcome.families !== undefined) {
      const usage = this.usage.compute(target, timeMs, outcome.families);
      const snapshot = extractInventory(target, timeMs, outcome.families);
      record = {
        ...record,
        ...(outcome.body === undefined ? {} : { body: outcome.body }),
        families: outcome.families,
        ...(outcome.format === undefined ? {} : { format: outcome.format }),
        ...(usage.host === undefined ? {} : { hostUsage: usage.host }),
        containerUsage: usage.containers,
        ...(this.inventory.due(snapshot) ? { inventory: snapshot } : {}),
      };
    }
    const pending = pendingScrape(record, outcome.families);
    this.observer?.scraped(record);
    return { pending, record: { ...record, sampleCount: pending.sampleCount } };
  }

  /**
   * Accepts a scrape outcome, queues it and nudges the background flush. Resolves once it is queued
   * (synced, when it goes to disk).
   */
  async enqueue(outcome: ScrapeOutcome): Promise<void> {
    const queued = this.buffer.push(this.accept(outcome));
    void this.flush();
    await queued;
    void this.flush();
  }

  /**
   * A current target's parse cache, shared by its scrapes and by replays of its scrapes from the disk
   * buffer; none for a target no longer scraped (its replays parse without one).
   */
  private parseCacheFor(target: Target): ParseCache | undefined {
    const key = targetKey(target);
    if (!this.targets.has(key)) return undefined;
    let cache = this.parseCaches.get(key);
    if (cache === undefined) {
      cache = new ParseCache();
      this.parseCaches.set(key, cache);
    }
    return cache;
  }

  /** The targets scraped now. */
  get currentTargets(): readonly Target[] {
    return [...this.targets.values()];
  }

  /**
   * Replaces the targets (file_sd reloads): new ones are scraped from the next round on, removed ones no
   * more (a round under way finishes with the targets it started with). What the sink kept per removed
   * target (parse cache, last scrape, scrape counters, the writer's per-target layouts) goes with it.
   */
  setTargets(targets: readonly Target[]): void {
    const next = new Map(targets.map((t) => [targetKey(t), t]));
    for (const key of this.targets.keys())
      if (!next.has(key)) {
        this.parseCaches.delete(key);
        this.lastScrapes.delete(key);
        this.scrapedOk.delete(key);
        this.writer.forgetTarget(this.targets.get(key) as Target);
      }
    this.targets = next;
    const instances = new Set(targets.map((t) => t.instance));
    for (const instance of [...this.metrics.scrapes.keys()])
      if (!instances.has(instance)) this.metrics.scrapes.delete(instance);
  }

  /** A current target's last scrape, if it was scraped yet. */
  lastScrape(target: Target): TargetHealth | undefined {
    return this.lastScrapes.get(targetKey(target));
  }

  /**
   * One scrape round: every target concurrently, each under its own time limit. Each scrape is buffered
   * as soon as it is parsed and the background flush is nudged, so writing overlaps with slower targets.
   * With `followUps` (the schedule's rounds), targets scraped successfully for the first time are
   * scraped again shortly after, within the round (see followUp).
   */
  async scrapeRound(nowMs = this.clock.now(), options: { readonly followUps?: boolean } = {}): Promise<void> {
    const targets = [...this.targets.values()];
    const pending = new Set(targets);
    this.metrics.rounds++;
    const promise = (async () => {
      let fresh: Target[] = [];
      try {
        fresh = await this.scrapeAll(targets, nowMs, pending);
      } finally {
        this.observer?.roundDone();
      }
      if (options.followUps === true && fresh.length > 0)
        await this.followUp(fresh, nowMs + this.options.intervalMs, pending);
    })();
    this.round = { promise, startedMs: performance.now(), pending };
    try {
      await promise;
    } finally {
      if (this.round?.promise === promise) this.round = undefined;
    }
  }

  /**
   * Scrapes `targets` concurrently, at `timeMs`, and queues each outcome. Resolves with the targets whose
   * first successful scrape by this process this was.
   */
  private async scrapeAll(
    targets: readonly Target[],
    timeMs: number,
    pending: Set<Target>,
  ): Promise<Target[]> {
    const fresh: Target[] = [];
    await Promise.all(
      targets.map(async (t) => {
        const outcome = await this.scrapeOne(t, timeMs);
        pending.delete(t);
        const key = targetKey(t);
        if (outcome.families !== undefined && this.targets.has(key) && !this.scrapedOk.has(key)) {
          this.scrapedOk.add(key);
          fresh.push(t);
        }
        await this.enqueue(outcome);
      }),
    );
    return fresh;
  }

  /**
   * Follow-up scrapes of targets just scraped for the first time: FOLLOW_UP_SCRAPES more, FOLLOW_UP_GAP_MS
   * apart, so that rates (CPU by mode, throughput, container CPU) exist at once and the live page's charts
   * have two of them within one interval of the sink's first scrape. They are real scrapes, stored and
   * counted like any other (`hostscope_sink_follow_up_scrapes_total` too). Each is taken only when it
   * would end, at its time limit, before `nextTickMs`, so the next round is never delayed or skipped for
   * one; and not while the database is behind (they would add to the backlog) or the sink is stopping.
   * A target whose follow-up fails gets no more.
   */
  private async followUp(
    targets: readonly Target[],
    nextTickMs: number,
    pending: Set<Target>,
  ): Promise<void> {
    let list = targets;
    for (let i = 0; i < FOLLOW_UP_SCRAPES && list.length > 0; i++) {
      // Decided before the pause too: a round that waited for a follow-up it then skips would still hold
      // the next tick (an overrun).
      if (this.clock.now() + FOLLOW_UP_GAP_MS + this.options.timeoutMs > nextTickMs) return;
      await this.pause(FOLLOW_UP_GAP_MS);
      const timeMs = this.clock.now();
      if (this.stopping || timeMs + this.options.timeoutMs > nextTickMs || this.buffer.backlogged) return;
      list = list.filter((t) => this.targets.has(targetKey(t)));
      for (const t of list) pending.add(t);
      this.metrics.followUpScrapes += list.length;
      const ok = new Set<Target>();
      try {
        await Promise.all(
          list.map(async (t) => {
            const outcome = await this.scrapeOne(t, timeMs);
            pending.delete(t);
            if (outcome.families !== undefined) ok.add(t);
            await this.enqueue(outcome);
          }),
        );
      } finally {
        this.observer?.roundDone();
      }
      list = list.filter((t) => ok.has(t));
    }
  }

  private scrapeOne(t: Target, timeMs: number): Promise<ScrapeOutcome> {
    const cache = this.parseCacheFor(t);
    return scrapeTarget(t, {
      timeoutMs: this.options.timeoutMs,
      bodyLimitBytes: this.options.bodyLimitBytes,
      nowMs: timeMs,
      ...(cache === undefined ? {} : { cache }),
      pool: this.bodies,
    });
  }

  /** Waits `ms`, or less when the sink stops. */
  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.wake = undefined;
    });
  }

  /**
   * A tick of the scrape schedule. A round still running (a target slower than the interval, with
   * --scrape.timeout capped at the interval this takes a slow event loop or a huge body) skips this tick:
   * rounds never overlap, and each skip is logged and counted here. So does a
   * database that is reachable but more than --buffer.max-samples behind: memory stays bounded, and the
   * sink scrapes what it can write, as Prometheus does when its appends fall behind.
   */
  tick(nowMs: number): void {
    // Behind: skip until half the bound is written (hysteresis), so a sink at its limit alternates in
    // long stretches, and the warning repeats at most once a minute.
    const behind = this.behind
      ? !this.buffer.spilling && this.buffer.samples > this.options.bufferMaxSamples / 2
      : this.buffer.backlogged;
    if (behind) {
      this.metrics.roundsSkippedBacklog++;
      // Rate-limited on the monotonic clock: a clock jump neither silences nor repeats the warning.
      const mono = performance.now();
      if (!this.behind && mono - this.behindWarnedMs >= 60_000) {
        this.behindWarnedMs = mono;
        this.logger.warn(
          {
            buffered: this.buffer.samples,
            limit: this.options.bufferMaxSamples,
            skippedSoFar: this.metrics.roundsSkippedBacklog,
          },
          'the database is behind by more than --buffer.max-samples; skipping scrape rounds until it catches up',
        );
      }
      this.behind = true;
      return;
    }
    this.behind = false;
    const running = this.round;
    if (running !== undefined) {
      this.metrics.roundsSkipped++;
      this.logger.warn(
        {
          tick: new Date(nowMs).toISOString(),
          runningMs: Math.round(performance.now() - running.startedMs),
          targets: [...running.pending].map((t) => redactUrl(t.url)),
        },
        'scrape round still running at the next tick; skipped this tick',
      );
      return;
    }
    this.scrapeRound(nowMs, { followUps: true }).catch((err: unknown) => {
      this.logger.error({ err: { message: describe(err) } }, 'scrape round failed');
    });
  }

  /** Writes everything buffered, batch by batch. Single-flight. Resolves true when the buffer is empty. */
  flush(): Promise<boolean> {
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushLoop(): Promise<boolean> {
    for (;;) {
      // While the database is away, a cheap probe first: reading a batch back from disk only to fail
      // would cost a decompression and a parse per attempt.
      if (!this.dbUp && !(await this.probe())) return false;
      const batch = await this.buffer.next(this.options.batchSamples);
      if (batch === undefined) return true;
      const started = performance.now();
      try {
        await this.prepareOnce();
        const result = await this.writer.write(batch.scrapes, this.clock.now());
        await this.buffer.commit(batch);
        this.skipped += result.skipped;
        this.headFailures = 0;
        this.metrics.observeWrite((performance.now() - started) / 1000, result.written, this.clock.now());
        this.reachable();
      } catch (err) {
        this.metrics.writeFailures++;
        if (isConnectionError(err)) {
          await this.unreachable(err);
          return false;
        }
        this.headFailures++;
        this.logger.error({ err, attempt: this.headFailures }, 'writing a batch failed');
        if (this.headFailures >= 3) await this.reject(batch);
        return false;
      }
    }
  }

  /** Runs the database preparation (migrations) once; retried on the next call after a failure. */
  prepareOnce(): Promise<void> {
    this.prepared ??= this.prepare().catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    return this.prepared;
  }

  /** True when the database answers again (after migrations, if they had not run yet). */
  private async probe(): Promise<boolean> {
    try {
      await this.prepareOnce();
      await this.db.query('SELECT 1');
      return true;
    } catch (err) {
      if (!isConnectionError(err)) this.logger.error({ err }, 'database check failed');
      await this.unreachable(err);
      return false;
    }
  }

  private reachable(): void {
    if (this.dbUp) return;
    this.dbUp = true;
    this.logger.info(
      { buffered: this.buffer.samples, bufferBytes: this.buffer.disk.bytes },
      'database reachable again; writing the buffer',
    );
  }

  /** Whatever waits in memory goes to disk, and so does every new scrape until the disk is written. */
  private async unreachable(err: unknown): Promise<void> {
    if (this.dbUp)
      this.logger.error(
        { err, buffered: this.buffer.samples, dir: this.options.bufferDir },
        'database unreachable; buffering scrapes on disk',
      );
    this.dbUp = false;
    await this.buffer.spill();
  }

  /** A batch the database keeps rejecting must not block everything behind it. */
  private async reject(batch: Batch): Promise<void> {
    await this.buffer.commit(batch);
    this.rejected += batch.samples;
    this.headFailures = 0;
    this.logger.error({ samples: batch.samples }, 'dropped a batch the database rejected three times');
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
        await this.prepareOnce();
        await maintain(this.db, this.logger, { ...this.options.maintain, nowMs: this.clock.now() });
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

  /**
   * A jump of the sink's wall clock between two ticks (see ScrapeSchedule): logged once and counted. The
   * rounds go on one interval apart; their scrape times follow the clock, so samples after a jump back are
   * stored earlier than samples before it, and the hours they land in are rolled up again (see
   * SampleWriter.write).
   */
  private clockJumped(jump: ClockJump): void {
    this.metrics.clockJumps++;
    this.logger.warn(
      {
        jumpSeconds: Math.round(jump.jumpMs) / 1000,
        expected: new Date(jump.expectedMs).toISOString(),
        tick: new Date(jump.tickMs).toISOString(),
      },
      jump.jumpMs > 0
        ? 'the clock jumped forward between two scrape ticks; no round is skipped, scrape times follow the new time'
        : 'the clock jumped back between two scrape ticks; rounds go on, stamped with the new (earlier) time',
    );
  }

  /**
   * Starts the scrape schedule (ScrapeSchedule, on the sink's clock and monotonic timers) and the
   * maintenance schedule (node-cron). The callbacks return at once: overlap is handled by tick(), and
   * runMaintenance() is single-flight. node-cron's own messages (missed executions) go through pino.
   */
  start(): void {
    const logger = cronLogger(this.logger);
    this.schedule = new ScrapeSchedule(this.options.intervalMs, this.clock, {
      tick: (tickMs) => this.tick(tickMs),
      clockJumped: (jump) => this.clockJumped(jump),
      late: (missed, lateMs) => {
        this.metrics.roundsSkippedLate += missed;
        this.logger.warn(
          { missed, lateMs: Math.round(lateMs) },
          'the scrape schedule fired late (a blocked event loop); ran the latest tick only',
        );
      },
    });
    this.schedule.start();
    if (this.options.maintainSchedule !== '') {
      this.tasks.push(
        cron.schedule(this.options.maintainSchedule, () => void this.runMaintenance(), {
          name: 'hostscope-sink-maintain',
          logger,
        }),
      );
    }
  }

  /**
   * Stops scheduling, waits for the running round, and writes what is buffered (until the deadline).
   * What could not be written stays on disk for the next start.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.schedule?.stop();
    this.schedule = undefined;
    for (const t of this.tasks) await t.destroy();
    this.tasks = [];
    this.stopping = true;
    this.wake?.();
    await this.round?.promise.catch(() => undefined);
    await this.maintaining;
    await this.flushing;
    const flushed = await this.drain(deadlineMs);
    await this.buffer.close();
    return flushed;
  }

  health(): Record<string, unknown> {
    return {
      database: this.dbUp ? 'up' : 'unreachable',
      buffer_samples: this.buffer.samples,
      buffer_bytes: this.buffer.disk.bytes,
      last_successful_write:
        this.metrics.lastWriteSeconds === 0
          ? null
          : new Date(this.metrics.lastWriteSeconds * 1000).toISOString(),
    };
  }
}

/**
 * Segment size for a --buffer.max-bytes: 64 MiB, or a sixteenth of a small bound, so that dropping the
 * oldest segment when the buffer is full drops at most a sixteenth of it.
 */
export function segmentBytesFor(maxBytes: number): number {
  return Math.max(1024, Math.min(64 * 1024 * 1024, Math.floor(maxBytes / 16)));
}
