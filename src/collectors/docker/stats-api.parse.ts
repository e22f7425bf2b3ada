/**
 * Pure conversion of the Engine API's container stats document (GET /containers/{id}/stats, one-shot) and
 * of HostConfig into the same stats model the cgroup reader produces, for hosts where the cgroup files are
 * not readable (remote or rootless engines). The engine fills these from the same cgroup files through
 * runc, so the values match; what the API does not carry (processes, task states, v2 peak usage) is left
 * out rather than invented.
 */
import {
  cpuWeightToShares,
  isIgnoredInterface,
  specMemoryValue,
  type BlkioDeviceStats,
  type ContainerSpec,
  type ContainerStats,
  type InterfaceStats,
} from './cgroup.parse';
import type { HostResources } from './engine.parse';

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function n(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function entries(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

function blkio(stats: Json): BlkioDeviceStats[] {
  const byDev = new Map<
    string,
    { major: number; minor: number; rb: number; wb: number; r: number; w: number }
  >();
  const add = (list: unknown, bytes: boolean): void => {
    for (const e of entries(list)) {
      const key = `${n(e.major)}:${n(e.minor)}`;
      let d = byDev.get(key);
      if (d === undefined) {
        d = { major: n(e.major), minor: n(e.minor), rb: 0, wb: 0, r: 0, w: 0 };
        byDev.set(key, d);
      }
      const op = typeof e.op === 'string' ? e.op.toLowerCase() : '';
      if (op === 'read') {
        if (bytes) d.rb = n(e.value);
        else d.r = n(e.value);
      } else if (op === 'write') {
        if (bytes) d.wb = n(e.value);
        else d.w = n(e.value);
      }
    }
  };
  add(stats.io_service_bytes_recursive, true);
  add(stats.io_serviced_recursive, false);
  return [...byDev.values()]
    .sort((a, b) => a.major - b.major || a.minor - b.minor)
    .map((d) => ({
      major: d.major,
      minor: d.minor,
      readBytes: d.rb,
      writeBytes: d.wb,
      reads: d.r,
      writes: d.w,
    }));
}

function networks(v: unknown): InterfaceStats[] | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const out: InterfaceStats[] = [];
  for (const [name, raw] of Object.entries(obj(v)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isIgnoredInterface(name)) continue;
    const i = obj(raw);
    out.push({
      name,
      rxBytes: n(i.rx_bytes),
      rxPackets: n(i.rx_packets),
      rxErrors: n(i.rx_errors),
      rxDropped: n(i.rx_dropped),
      txBytes: n(i.tx_bytes),
      txPackets: n(i.tx_packets),
      txErrors: n(i.tx_errors),
      txDropped: n(i.tx_dropped),
    });
  }
  return out;
}

/**
 * Stats API document -> ContainerStats, for cgroup v1 or v2 (`version` from the engine's /info), or
 * undefined when the document has no CPU section (container not running).
 */
export function statsFromApi(json: unknown, version: 1 | 2): ContainerStats | undefined {
  const doc = obj(json);
  const cpuStats = obj(doc.cpu_stats);
  const usage = obj(cpuStats.cpu_usage);
  if (Object.keys(usage).length === 0 || n(usage.total_usage) === 0) return undefined;
  const mem = obj(doc.memory_stats);
  const ms = obj(mem.stats);
  const key = (k: string): number => n(version === 2 ? ms[k] : (ms[`total_${k}`] ?? ms[k]));
  const memUsage = n(mem.usage);
  const inactive = version === 2 ? ms.inactive_file : ms.total_inactive_file;
  const throttling = obj(cpuStats.throttling_data);
  const perCpu = Array.isArray(usage.percpu_usage) ? usage.percpu_usage.map(n) : undefined;
  const pids = obj(doc.pids_stats);
  const net = networks(doc.networks);
  const out: ContainerStats = {
    cpu: {
      totalNs: n(usage.total_usage),
      userNs: n(usage.usage_in_usermode),
      systemNs: n(usage.usage_in_kernelmode),
      ...(perCpu === undefined ? {} : { perCpuNs: perCpu }),
      periods: n(throttling.periods),
      throttledPeriods: n(throttling.throttled_periods),
      throttledNs: n(throttling.throttled_time),
    },
    memory: {
      usage: memUsage,
      maxUsage: n(mem.max_usage),
      failcnt: n(mem.failcnt),
      cache: version === 2 ? n(ms.file) : key('cache'),
      rss: version === 2 ? n(ms.anon) : key('rss'),
      swap: version === 2 ? 0 : key('swap'),
      mappedFile: version === 2 ? n(ms.file_mapped) : key('mapped_file'),
      workingSet: typeof inactive === 'number' ? Math.max(0, memUsage - inactive) : memUsage,
      pgfault: n(ms.pgfault),
      pgmajfault: n(ms.pgmajfault),
      oomKills: version === 2 ? n(ms.oom_kill) : 0,
    },
    blkio: blkio(obj(doc.blkio_stats)),
    ...(typeof pids.current === 'number' ? { threads: pids.current } : {}),
    // The engine reports an unlimited pids.max as 2^64-1; runc (and so cAdvisor) as 0.
    ...(typeof pids.limit === 'number' ? { threadsMax: pids.limit > 2 ** 62 ? 0 : pids.limit } : {}),
    ...(net === undefined ? {} : { network: net }),
  };
  return out;
}

/** The cgroup settings Docker derives from HostConfig (its defaults included), for container_spec_*. */
export function specFromHostConfig(r: HostResources, version: 1 | 2): ContainerSpec {
  const period = r.cpuPeriod > 0 ? r.cpuPeriod : 100_000;
  const quota = r.cpuQuota > 0 ? r.cpuQuota : r.nanoCpus > 0 ? Math.round((r.nanoCpus * period) / 1e9) : 0;
  // Unset shares leave the kernel default: 1024 on v1, cpu.weight 100 on v2.
  const v2Shares =
    r.cpuShares > 0
      ? cpuWeightToShares(1 + Math.floor(((r.cpuShares - 2) * 9999) / 262142))
      : cpuWeightToShares(100);
  let swap = 0;
  if (r.memory > 0 && r.memorySwap >= 0) {
    // Docker: MemorySwap 0 means "twice the memory limit"; it is memory + swap on v1, swap alone on v2.
    const total = r.memorySwap === 0 ? 2 * r.memory : r.memorySwap;
    swap = version === 2 ? total - r.memory : total;
  }
  return {
    // On v2 runc writes cpu.weight = 1 + (shares - 2) * 9999 / 262142, which cAdvisor converts back.
    cpuShares: version === 2 ? v2Shares : r.cpuShares > 0 ? r.cpuShares : 1024,
    cpuPeriod: period,
    cpuQuota: quota,
    memoryLimit: specMemoryValue(r.memory),
    memorySwapLimit: specMemoryValue(swap),
    memoryReservation: version === 2 ? 0 : specMemoryValue(r.memoryReservation),
  };
}
