/**
 * node_exporter's device filter (collector/device_filter.go): a device is ignored when it matches the
 * exclude pattern or, with an include pattern set, does not match it (exclude wins). Patterns are NOT
 * anchored, like Go's regexp.MatchString: `lo` also matches `vlo1`; write `^lo$` for an exact name.
 * An empty pattern means "not set". Compiled once, when the collector is created.
 */
export class DeviceFilter {
  private readonly exclude: RegExp | undefined;
  private readonly include: RegExp | undefined;

  constructor(excludePattern: string, includePattern: string) {
    this.exclude = excludePattern === '' ? undefined : new RegExp(excludePattern);
    this.include = includePattern === '' ? undefined : new RegExp(includePattern);
  }

  ignored(device: string): boolean {
    return (
      (this.exclude !== undefined && this.exclude.test(device)) ||
      (this.include !== undefined && !this.include.test(device))
    );
  }
}
