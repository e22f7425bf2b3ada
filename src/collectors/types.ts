import type { HostFs } from '../host/host-fs';
import type { Logger } from '../log/logger';
import type { MetricFamily } from '../metrics/types';

export type OptionKind = 'string' | 'regex' | 'boolean' | 'number' | 'duration' | 'list';

/** A collector option, exposed as `--collector.<collector>.<name>` and `HOSTSCOPE_COLLECTOR_<C>_<NAME>`. */
export interface CollectorOptionSpec {
  readonly name: string;
  readonly kind: OptionKind;
  readonly help: string;
  /** Default as the user would type it (durations like `5m`, lists as string[]). */
  readonly default: string | number | boolean | readonly string[];
}

/** Option values, already validated by the config layer, so the accessors never fail on good specs. */
export interface CollectorOptions {
  string(name: string): string;
  regex(name: string): RegExp | undefined;
  number(name: string): number;
  boolean(name: string): boolean;
  /** Duration in milliseconds. */
  duration(name: string): number;
  list(name: string): readonly string[];
}

export interface CollectorDeps {
  readonly fs: HostFs;
  readonly logger: Logger;
  readonly options: CollectorOptions;
}

export interface ScrapeContext {
  /** Aborted when the collector's timeout passes; long-running work should stop early. */
  readonly signal: AbortSignal;
  /** When the runner gives up on this collector (ms since the epoch); inner waits should end before it. */
  readonly deadlineMs: number;
}

export interface Collector {
  update(ctx: ScrapeContext): Promise<MetricFamily[]>;
  /** Releases timers, sockets and streams (e.g. Docker's event stream) at shutdown. */
  close?(): Promise<void>;
}

export interface CollectorDefinition {
  readonly name: string;
  readonly defaultEnabled: boolean;
  readonly help: string;
  readonly options?: readonly CollectorOptionSpec[];
  create(deps: CollectorDeps): Collector;
}
