import type { MetricFamily } from './metrics/types';

/** Error classes with stable codes; `cause` carries the underlying error. */

export class HostscopeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid flags, environment or config: the CLI exits with status 2 and prints every problem. */
export class ConfigError extends HostscopeError {
  constructor(readonly problems: readonly string[]) {
    super('E_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A collector found nothing to report on this host (e.g. no hwmon chips); logged at debug, success 0. */
export class NoDataError extends HostscopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_NO_DATA', message, options);
  }
}

/**
 * A collector failed but has series that must still be served with success 0, like node_exporter which
 * keeps what a collector sent before failing (e.g. `hostscope_docker_up 0` while the engine is down).
 */
export class PartialCollectionError extends HostscopeError {
  constructor(
    code: string,
    message: string,
    readonly families: readonly MetricFamily[],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** How the runner speaks of a source that comes and goes (see SourceUnavailableError). */
export interface SourceNotice {
  /** Logged once at warn when the source goes away, e.g. "container metrics are off until ...". */
  readonly off: string;
  /** Logged once at info when it is back. */
  readonly on: string;
  /** Where the source is expected (socket path, address), on both lines. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Why it is unreachable now (logged with `off`, then at debug when it changes). */
  readonly reason: string;
}

/**
 * What a collector reads is not there, which is normal on many hosts (no Docker Engine): not a fault to
 * locate, so no stack trace. The runner logs `notice.off` once at warn, nothing more while the source stays
 * away (debug only), and `notice.on` once at info when a scrape finds it back.
 */
export class SourceUnavailableError extends PartialCollectionError {
  constructor(
    code: string,
    message: string,
    families: readonly MetricFamily[],
    readonly notice: SourceNotice,
    options?: { cause?: unknown },
  ) {
    super(code, message, families, options);
  }
}

export class CollectorTimeoutError extends HostscopeError {
  constructor(collector: string, timeoutMs: number) {
    super('E_COLLECTOR_TIMEOUT', `collector ${collector} did not finish within ${timeoutMs} ms`);
  }
}

export class CollectorError extends HostscopeError {
  constructor(collector: string, options: { cause: unknown }) {
    super('E_COLLECTOR', `collector ${collector} failed: ${describe(options.cause)}`, options);
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
