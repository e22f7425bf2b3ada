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
