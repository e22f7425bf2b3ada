import { isNotFound, type HostFs } from '../host/host-fs';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import { parseCpuInfo, type CpuInfo } from './cpuinfo.parse';
import { parseCpuList } from './cpulist.parse';
import { CPU_TIME_FIELDS, parseProcStat, type CpuTimes } from './stat.parse';
import type { Collector, CollectorDefinition, CollectorDeps } from './types';

/** An idle counter that goes back by this many seconds or more means the CPU was hot-plugged: start over. */
export const JUMP_BACK_SECONDS = 3;

const ZERO_TIMES: CpuTimes = {
  user: 0,
  nice: 0,
  system: 0,
  idle: 0,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal: 0,
  guest: 0,
  guestNice: 0,
};

export interface CounterJump {
  readonly cpu: string;
  readonly field: keyof CpuTimes;
  readonly previous: number;
  readonly current: number;
  /** True when the whole CPU was reset (idle went back by JUMP_BACK_SECONDS or more). */
  readonly reset: boolean;
}

function sameKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const key of a.keys()) if (!b.has(key)) return false;
  return true;
}

/**
 * Keeps CPU counters monotonic across scrapes, as node_exporter 1.5 does: the kernel's per-CPU counters
 * (iowait above all) can go back slightly, so a value lower than the one exported before is replaced by
 * the previous one. When the set of CPUs changes, or a CPU's idle time goes back by JUMP_BACK_SECONDS or
 * more (a hot-plugged CPU starts from zero), the fresh values are taken as they are.
 */
export function mergeCpuTimes(
  previous: ReadonlyMap<string, CpuTimes>,
  current: ReadonlyMap<string, CpuTimes>,
  onJump?: (jump: CounterJump) => void,
): Map<string, CpuTimes> {
  if (!sameKeys(previous, current)) return new Map(current);
  const merged = new Map<string, CpuTimes>();
  for (const [cpu, now] of current) {
    let before = previous.get(cpu) ?? ZERO_TIMES;
    if (before.idle - now.idle >= JUMP_BACK_SECONDS) {
      onJump?.({ cpu, field: 'idle', previous: before.idle, current: now.idle, reset: true });
      before = ZERO_TIMES;
    }
    const out: { -readonly [K in keyof CpuTimes]: number } = { ...now };
    for (const field of CPU_TIME_FIELDS) {
      if (now[field] < before[field]) {
        onJump?.({ cpu, field, previous: before[field], current: now[field], reset: false });
        out[field] = before[field];
      }
    }
    merged.set(cpu, out);
  }
  return merged;
}

interface ThermalThrottles {
  /** package id -> package_throttle_count */
  readonly packages: ReadonlyMap<string, number>;
  /** "package/core" -> { package, core, count } */
  readonly cores: ReadonlyMap<
    string,
    { readonly pkg: string; readonly core: string; readonly count: number }
  >;
}

function uintAttr(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Reads the first of the files that holds an unsigned integer, in order; undefined when none does. */
async function firstUint(fs: HostFs, files: readonly string[]): Promise<number | undefined> {
  for (const file of files) {
    const value = uintAttr(await fs.readAttr(file));
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * Thermal throttle counters from /sys/devices/system/cpu/cpu<N>/thermal_throttle (Intel only). Like
 * node_exporter, CPUs without topology are skipped, each (package, core) and each package is counted
 * once, from the first CPU (in name order) that has the counter.
 */
async function readThermalThrottles(fs: HostFs): Promise<ThermalThrottles> {
  const cpuRoot = fs.sys('devices', 'system', 'cpu');
  const dirs = (await fs.readDirOptional(cpuRoot)).filter((d) => /^cpu\d/.test(d)).sort();
  const topologies = await Promise.all(
    dirs.map(async (dir) => {
      // Most CPUs (AMD, VMs) have no thermal_throttle directory: skip their topology, they count nothing.
      if (!(await fs.exists(fs.sys('devices', 'system', 'cpu', dir, 'thermal_throttle')))) {
        return { dir, pkg: undefined, core: undefined };
      }
      const [pkg, core] = await Promise.all([
        fs.readAttr(fs.sys('devices', 'system', 'cpu', dir, 'topology', 'physical_package_id')),
        fs.readAttr(fs.sys('devices', 'system', 'cpu', dir, 'topology', 'core_id')),
      ]);
      return { dir, pkg: uintAttr(pkg), core: uintAttr(core) };
    }),
  );

  const coreFiles = new Map<string, { pkg: string; core: string; files: string[] }>();
  const packageFiles = new Map<string, string[]>();
  for (const { dir, pkg, core } of topologies) {
    if (pkg === undefined || core === undefined) continue;
    const throttleDir = (file: string): string =>
      fs.sys('devices', 'system', 'cpu', dir, 'thermal_throttle', file);
    const coreKey = `${pkg}/${core}`;
    const coreEntry = coreFiles.get(coreKey) ?? { pkg: String(pkg), core: String(core), files: [] };
    coreEntry.files.push(throttleDir('core_throttle_count'));
    coreFiles.set(coreKey, coreEntry);
    const pkgEntry = packageFiles.get(String(pkg)) ?? [];
    pkgEntry.push(throttleDir('package_throttle_count'));
    packageFiles.set(String(pkg), pkgEntry);
  }

  const [coreCounts, packageCounts] = await Promise.all([
    Promise.all(
      [...coreFiles.entries()].map(async ([key, e]) => [key, e, await firstUint(fs, e.files)] as const),
    ),
    Promise.all(
      [...packageFiles.entries()].map(async ([pkg, files]) => [pkg, await firstUint(fs, files)] as const),
    ),
  ]);
  const cores = new Map<string, { pkg: string; core: string; count: number }>();
  for (const [key, e, count] of coreCounts) if (count !== undefined) cores.set(key, { ...e, count });
  const packages = new Map<string, number>();
  for (const [pkg, count] of packageCounts) if (count !== undefined) packages.set(pkg, count);
  return { packages, cores };
}

class CpuCollector implements Collector {
  private readonly fs: HostFs;
  private readonly logger: Logger;
  private readonly guest: boolean;
  private readonly info: boolean;
  private readonly flagsInclude: RegExp | undefined;
  private readonly bugsInclude: RegExp | undefined;
  /** Last exported CPU times, to keep the counters monotonic. */
  private times: ReadonlyMap<string, CpuTimes> = new Map();
  /** Isolated CPUs, read once (they are fixed at boot); null when the kernel has no `isolated` file. */
  private isolated: readonly number[] | null | undefined;

  constructor({ fs, logger, options }: CollectorDeps) {
    this.fs = fs;
    this.logger = logger;
    this.guest = options.boolean('guest');
    this.flagsInclude = options.regex('info.flags-include');
    this.bugsInclude = options.regex('info.bugs-include');
    // As in node_exporter, asking for flags or bugs turns the info metric on.
    this.info = options.boolean('info') || this.flagsInclude !== undefined || this.bugsInclude !== undefined;
  }

  async update() {
    const [statText, cpuinfoText, throttles, isolated] = await Promise.all([
      this.fs.readText(this.fs.proc('stat')),
      this.info ? this.fs.readText(this.fs.proc('cpuinfo')) : undefined,
      readThermalThrottles(this.fs),
      this.readIsolated(),
    ]);
    const metrics = new MetricSet();
    if (cpuinfoText !== undefined) this.addInfo(metrics, parseCpuInfo(cpuinfoText));

    this.times = mergeCpuTimes(this.times, parseProcStat(statText).cpus, (jump) =>
      this.logger.debug(
        {
          collector: 'cpu',
          cpu: jump.cpu,
          mode: jump.field,
          old_value: jump.previous,
          new_value: jump.current,
        },
        jump.reset
          ? `CPU Idle counter jumped backwards more than ${JUMP_BACK_SECONDS} seconds, possible hotplug event, resetting CPU stats`
          : 'CPU counter jumped backwards',
      ),
    );
    for (const [cpu, t] of this.times) {
      const seconds = (mode: string, value: number): void => {
        metrics.counter('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.', value, {
          cpu,
          mode,
        });
      };
      seconds('user', t.user);
      seconds('nice', t.nice);
      seconds('system', t.system);
      seconds('idle', t.idle);
      seconds('iowait', t.iowait);
      seconds('irq', t.irq);
      seconds('softirq', t.softirq);
      seconds('steal', t.steal);
      if (this.guest) {
        // Guest time is also counted in user and nice; exposed separately as node_exporter does.
        const help = 'Seconds the CPUs spent in guests (VMs) for each mode.';
        metrics.counter('node_cpu_guest_seconds_total', help, t.guest, { cpu, mode: 'user' });
        metrics.counter('node_cpu_guest_seconds_total', help, t.guestNice, { cpu, mode: 'nice' });
      }
    }

    for (const cpu of isolated ?? []) {
      metrics.gauge(
        'node_cpu_isolated',
        'Whether each core is isolated, information from /sys/devices/system/cpu/isolated.',
        1,
        { cpu: String(cpu) },
      );
    }
    for (const [pkg, count] of throttles.packages) {
      metrics.counter(
        'node_cpu_package_throttles_total',
        'Number of times this CPU package has been throttled.',
        count,
        { package: pkg },
      );
    }
    for (const { pkg, core, count } of throttles.cores.values()) {
      metrics.counter(
        'node_cpu_core_throttles_total',
        'Number of times this CPU core has been throttled.',
        count,
        {
          package: pkg,
          core,
        },
      );
    }
    return metrics.families();
  }

  private addInfo(metrics: MetricSet, cpus: readonly CpuInfo[]): void {
    for (const c of cpus) {
      metrics.gauge('node_cpu_info', 'CPU information from /proc/cpuinfo.', 1, {
        package: c.physicalId,
        core: c.coreId,
        cpu: c.processor,
        vendor: c.vendorId,
        family: c.cpuFamily,
        model: c.model,
        model_name: c.modelName,
        microcode: c.microcode,
        stepping: c.stepping,
        cachesize: c.cacheSize,
      });
    }
    const first = cpus[0];
    if (first === undefined) return;
    const include = this.flagsInclude;
    if (include !== undefined) {
      for (const flag of first.flags) {
        if (!include.test(flag)) continue;
        metrics.gauge(
          'node_cpu_flag_info',
          'The `flags` field of CPU information from /proc/cpuinfo taken from the first core.',
          1,
          { flag },
        );
      }
    }
    const bugsInclude = this.bugsInclude;
    if (bugsInclude !== undefined) {
      for (const bug of first.bugs) {
        if (!bugsInclude.test(bug)) continue;
        metrics.gauge(
          'node_cpu_bug_info',
          'The `bugs` field of CPU information from /proc/cpuinfo taken from the first core.',
          1,
          { bug },
        );
      }
    }
  }

  private async readIsolated(): Promise<readonly number[] | null> {
    if (this.isolated !== undefined) return this.isolated;
    try {
      this.isolated = parseCpuList(
        await this.fs.readText(this.fs.sys('devices', 'system', 'cpu', 'isolated')),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.isolated = null;
    }
    return this.isolated;
  }
}

export const cpuCollector: CollectorDefinition = {
  name: 'cpu',
  defaultEnabled: true,
  help: 'Exposes CPU statistics.',
  options: [
    { name: 'guest', kind: 'boolean', default: true, help: 'Enables metric node_cpu_guest_seconds_total' },
    { name: 'info', kind: 'boolean', default: false, help: 'Enables metric cpu_info' },
    {
      name: 'info.flags-include',
      kind: 'regex',
      default: '',
      help: 'Filter the `flags` field in cpuInfo with a value that must be a regular expression',
    },
    {
      name: 'info.bugs-include',
      kind: 'regex',
      default: '',
      help: 'Filter the `bugs` field in cpuInfo with a value that must be a regular expression',
    },
  ],
  create: (deps) => new CpuCollector(deps),
};
