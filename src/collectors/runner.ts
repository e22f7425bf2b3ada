import {
  CollectorError,
  CollectorTimeoutError,
  describe,
  NoDataError,
  PartialCollectionError,
  SourceUnavailableError,
  type SourceNotice,
} from '../errors';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import type { Labels, MetricFamily } from '../metrics/types';
import type { Collector, ScrapeContext } from './types';

export interface NamedCollector {
  readonly name: string;
  readonly collector: Collector;
}

const TIMED_OUT = Symbol('timed out');

/** The scrape's context, shared by every collector, and the promise of its end. */
interface Limits extends ScrapeContext {
  /** Resolves to TIMED_OUT when the time limit is reached. */
  readonly deadline: Promise<typeof TIMED_OUT>;
}

interface Outcome {
  readonly name: string;
  readonly families: MetricFamily[];
  readonly seconds: number;
  readonly ok: boolean;
}

/**
 * Runs every enabled collector concurrently, each under its own timeout, and reports
 * node_scrape_collector_duration_seconds / node_scrape_collector_success. One failing collector never
 * fails the scrape; its error is logged when it first appears or changes, then at debug level, so a
 * permanently absent subsystem does not flood the log every 15 s. A source that is absent by nature
 * (SourceUnavailableError: no Docker Engine) is one warning when it goes and one info line when it comes
 * back, without a stack trace.
 */
export class CollectorRunner {
  private readonly lastError = new Map<string, string>();
  private readonly unavailable = new Map<string, SourceNotice>();
  /** Each collector's `{collector="..."}`, one object kept across scrapes so its text is formatted once. */
  private readonly labels: ReadonlyMap<string, Labels>;

  constructor(
    private readonly collectors: readonly NamedCollector[],
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.labels = new Map(collectors.map((c) => [c.name, Object.freeze({ collector: c.name })]));
  }

  get names(): string[] {
    return this.collectors.map((c) => c.name);
  }

  async collect(): Promise<MetricFamily[]> {
    // One timer and one abort signal per scrape, not per collector: they all start now, with the same
    // time limit.
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.timeoutMs);
    });
    const limits: Limits = { signal: controller.signal, deadlineMs: Date.now() + this.timeoutMs, deadline };
    let outcomes: Outcome[];
    try {
      const running = this.collectors.map((c) => this.runOne(c, limits));
      // Subscribed after every collector's race, so those see the deadline first: a collector that
      // resolves on abort still counts as timed out.
      void deadline.then(() => controller.abort());
      outcomes = await Promise.all(running);
    } finally {
      clearTimeout(timer);
    }
    const scrape = new MetricSet();
    const families: MetricFamily[] = [];
    for (const o of outcomes) {
      scrape.gauge(
        'node_scrape_collector_duration_seconds',
        'node_exporter: Duration of a collector scrape.',
        o.seconds,
        this.labels.get(o.name),
      );
      scrape.gauge(
        'node_scrape_collector_success',
        'node_exporter: Whether a collector succeeded.',
        o.ok ? 1 : 0,
        this.labels.get(o.name),
      );
      families.push(...o.families);
    }
    families.push(...scrape.families());
    return families;
  }

  async close(): Promise<void> {
    await Promise.all(this.collectors.map((c) => c.collector.close?.()));
  }

  private async runOne({ name, collector }: NamedCollector, limits: Limits): Promise<Outcome> {
    const started = performance.now();
    try {
      const result = await Promise.race([collector.update(limits), limits.deadline]);
      if (result === TIMED_OUT) throw new CollectorTimeoutError(name, this.timeoutMs);
      const notice = this.unavailable.get(name);
      if (notice !== undefined) {
        this.unavailable.delete(name);
        this.logger.info({ collector: name, ...notice.fields }, notice.on);
      }
      if (this.lastError.delete(name)) this.logger.info({ collector: name }, 'collector recovered');
      return { name, families: result, seconds: elapsed(started), ok: true };
    } catch (err) {
      this.report(name, err);
      const partial = err instanceof PartialCollectionError ? [...err.families] : [];
      return { name, families: partial, seconds: elapsed(started), ok: false };
    }
  }

  private report(name: string, err: unknown): void {
    if (err instanceof SourceUnavailableError) {
      const before = this.unavailable.get(name);
      this.unavailable.set(name, err.notice);
      this.lastError.delete(name);
      const { fields, reason } = err.notice;
      if (before === undefined) this.logger.warn({ collector: name, ...fields, reason }, err.notice.off);
      else if (before.reason !== reason)
        this.logger.debug({ collector: name, ...fields, reason }, 'collector source still unavailable');
      return;
    }
    const message = describe(err);
    const repeated = this.lastError.get(name) === message;
    this.lastError.set(name, message);
    const wrapped =
      err instanceof NoDataError || err instanceof CollectorTimeoutError
        ? err
        : new CollectorError(name, { cause: err });
    if (repeated || err instanceof NoDataError) {
      this.logger.debug({ collector: name, err: wrapped }, 'collector failed');
    } else {
      this.logger.error({ collector: name, err: wrapped }, 'collector failed');
    }
  }
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1e3;
}
