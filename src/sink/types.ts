import type { ParsedFamily } from '../expfmt/types';
import type { InventorySnapshot } from './inventory';
import type { ContainerUsageRow, HostUsageRow } from './usage';

/** One scrape target: its URL and the labels Prometheus would give it. */
export interface Target {
  readonly url: string;
  readonly instance: string;
  readonly job: string;
  /**
   * Further target labels (from a file_sd file), stored on every series of the target like instance and
   * job; names sorted, no empty values, never instance, job or a `__` name. Absent when there are none.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Identity of a target: two targets with the same key are the same target (scraped once). */
export function targetKey(target: Target): string {
  return JSON.stringify([target.url, target.instance, target.job, target.labels ?? {}]);
}

/** What one scrape produced, waiting in the buffer to be written. */
export interface PendingScrape {
  readonly target: Target;
  /** Scrape start time, ms since the epoch: the timestamp of every sample without its own. */
  readonly timeMs: number;
  /** Parsed families including the synthetic `up`, `scrape_duration_seconds`, `scrape_samples_scraped`. */
  readonly families: readonly ParsedFamily[];
  readonly sampleCount: number;
  readonly hostUsage?: HostUsageRow;
  readonly containerUsage: readonly ContainerUsageRow[];
  /** Present when the target's inventory changed (or is due for a refresh). */
  readonly inventory?: InventorySnapshot;
}

export function instanceOf(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
    return `${u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname}:${port}`;
  } catch {
    return url;
  }
}
