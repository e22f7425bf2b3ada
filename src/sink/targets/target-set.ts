import type { Logger } from '../../log/logger';
import { MetricSet } from '../../metrics/metric-set';
import type { MetricFamily } from '../../metrics/types';
import { instanceOf, targetKey, type Target } from '../types';
import { hashmod, type Shard } from './hashmod';

export type TargetSource = 'flag' | 'file_sd';
export const TARGET_SOURCES: readonly TargetSource[] = ['flag', 'file_sd'];

/** A target as discovered: where it came from, and its address (what sharding hashes). */
export interface DiscoveredTarget {
  readonly target: Target;
  /** Prometheus' `__address__`: `host[:port]` as written, before a default port is added. */
  readonly address: string;
  readonly source: TargetSource;
  /** The file_sd file it came from. */
  readonly file?: string;
}

/**
 * A --scrape.target URL as a discovered target. Its address is the URL's `host[:port]` as written, what
 * one would list as the target in a Prometheus static or file_sd config.
 */
export function flagTarget(url: string, job: string): DiscoveredTarget {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? url;
  return {
    target: { url, instance: instanceOf(url), job },
    address: authority.slice(authority.lastIndexOf('@') + 1),
    source: 'flag',
  };
}

/** The scrape state of a target, for /api/v1/targets. */
export interface TargetHealth {
  readonly timeMs: number;
  readonly durationSeconds: number;
  readonly error?: string;
}

/**
 * Every target this sink knows of: the --scrape.target ones and each file_sd file's (its last good
 * version), deduplicated (the same URL with the same labels is one target, scraped once), and this sink's
 * share of them under --scrape.shard. Listeners hear of every change of the share.
 */
export class TargetSet {
  private readonly files = new Map<string, readonly DiscoveredTarget[]>();
  private all: readonly DiscoveredTarget[] = [];
  private active: readonly DiscoveredTarget[] = [];
  private readonly listeners: ((targets: readonly Target[]) => void)[] = [];

  constructor(
    private readonly flagTargets: readonly DiscoveredTarget[],
    readonly shard: Shard | undefined,
    private readonly logger: Logger,
  ) {
    this.recompute();
  }

  /** The shard a target belongs to (0 without sharding). */
  shardOf(d: DiscoveredTarget): number {
    return this.shard === undefined ? 0 : hashmod(d.address, this.shard.count);
  }

  private mine(d: DiscoveredTarget): boolean {
    return this.shard === undefined || this.shardOf(d) === this.shard.index;
  }

  /** The targets this sink scrapes. */
  get targets(): readonly Target[] {
    return this.active.map((d) => d.target);
  }

  /** Every known target, this sink's or not, in order: flags first, then files by name. */
  get discovered(): readonly DiscoveredTarget[] {
    return this.all;
  }

  get fileNames(): readonly string[] {
    return [...this.files.keys()];
  }

  /** Called with the new targets of this sink whenever they change. */
  subscribe(listener: (targets: readonly Target[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Sets a file's targets (undefined: the file is gone, its targets with it). Logs what changed, once,
   * and tells the listeners when this sink's targets changed. Returns the number of the file's targets
   * added and removed.
   */
  setFile(
    file: string,
    targets: readonly DiscoveredTarget[] | undefined,
    options: { readonly quiet?: boolean } = {},
  ): { added: number; removed: number } {
    const before = new Set((this.files.get(file) ?? []).map((d) => targetKey(d.target)));
    const after = new Set((targets ?? []).map((d) => targetKey(d.target)));
    let added = 0;
    for (const k of after) if (!before.has(k)) added++;
    let removed = 0;
    for (const k of before) if (!after.has(k)) removed++;
    if (targets === undefined) this.files.delete(file);
    else this.files.set(file, targets);
    if (added === 0 && removed === 0) return { added, removed };
    const previous = new Set(this.active.map((d) => targetKey(d.target)));
    this.recompute();
    const current = new Set(this.active.map((d) => targetKey(d.target)));
    let scrapedAdded = 0;
    for (const k of current) if (!previous.has(k)) scrapedAdded++;
    let scrapedRemoved = 0;
    for (const k of previous) if (!current.has(k)) scrapedRemoved++;
    if (options.quiet !== true)
      this.logger.info(
        {
          file,
          added,
          removed,
          fileTargets: after.size,
          discovered: this.all.length,
          scraped: this.active.length,
          scrapedAdded,
          scrapedRemoved,
          ...(this.shard === undefined ? {} : { shard: `${this.shard.index}/${this.shard.count}` }),
        },
        targets === undefined ? 'file_sd file gone; its targets removed' : 'file_sd targets changed',
      );
    if (scrapedAdded > 0 || scrapedRemoved > 0) {
      const list = this.targets;
      for (const listener of this.listeners) listener(list);
    }
    return { added, removed };
  }

  private recompute(): void {
    const seen = new Set<string>();
    const all: DiscoveredTarget[] = [];
    const files = [...this.files.keys()].sort();
    for (const d of [...this.flagTargets, ...files.flatMap((f) => this.files.get(f) ?? [])]) {
      const key = targetKey(d.target);
      if (seen.has(key)) continue;
      seen.add(key);
      all.push(d);
    }
    this.all = all;
    this.active = all.filter((d) => this.mine(d));
  }

  /** The sink's gauges of its targets, by source. */
  families(): MetricFamily[] {
    const set = new MetricSet();
    for (const source of TARGET_SOURCES)
      set.gauge(
        'hostscope_sink_targets',
        'Targets this sink scrapes (its shard of them under --scrape.shard), by source: flag (--scrape.target) or file_sd (--scrape.file-sd).',
        this.active.filter((d) => d.source === source).length,
        { source },
      );
    for (const source of TARGET_SOURCES)
      set.gauge(
        'hostscope_sink_targets_discovered',
        'Targets known to this sink before sharding, by source; those of other shards are scraped by other sinks.',
        this.all.filter((d) => d.source === source).length,
        { source },
      );
    const shard = this.shard ?? { index: 0, count: 1 };
    set.gauge(
      'hostscope_sink_shard_info',
      "This sink's shard (--scrape.shard=shard/shards): it scrapes the targets whose address hashes (Prometheus' hashmod) to shard.",
      1,
      { shard: String(shard.index), shards: String(shard.count) },
    );
    return set.families();
  }

  /**
   * /api/v1/targets, in the shape of Prometheus' (activeTargets, droppedTargets) with hostscope's
   * additions: each target's source, file and shard. Targets of other shards are the dropped ones. Times
   * are unix seconds, as everywhere in the sink's API (docs/api.md).
   */
  apiView(health: (target: Target) => TargetHealth | undefined): Record<string, unknown> {
    const describeTarget = (d: DiscoveredTarget): Record<string, unknown> => ({
      scrapeUrl: d.target.url,
      address: d.address,
      labels: { ...(d.target.labels ?? {}), instance: d.target.instance, job: d.target.job },
      source: d.source,
      ...(d.file === undefined ? {} : { file: d.file }),
      shard: this.shardOf(d),
    });
    const active = this.active.map((d) => {
      const h = health(d.target);
      return {
        ...describeTarget(d),
        health: h === undefined ? 'unknown' : h.error === undefined ? 'up' : 'down',
        lastScrape: h === undefined ? null : h.timeMs / 1000,
        lastScrapeDuration: h?.durationSeconds ?? null,
        lastError: h?.error ?? '',
      };
    });
    const dropped = this.all.filter((d) => !this.mine(d)).map(describeTarget);
    return {
      shard: this.shard === undefined ? null : { index: this.shard.index, count: this.shard.count },
      activeTargets: active,
      droppedTargets: dropped,
    };
  }
}
