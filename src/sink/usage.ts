import type { ParsedFamily } from '../expfmt/types';
import { firstValue, pickSamples } from './families';
import { pgSafe } from './series-key';
import type { Target } from './types';

/** One row of `hostscope.host_usage`: per host and scrape, computed from consecutive counter values. */
export interface HostUsageRow {
  readonly time: string;
  readonly instance: string;
  readonly job: string;
  readonly host: string;
  readonly cpu_count: number | null;
  readonly cpu_percent: number | null;
  readonly cpu_iowait_percent: number | null;
  readonly memory_total_bytes: number | null;
  readonly memory_available_bytes: number | null;
  readonly memory_used_bytes: number | null;
  readonly memory_percent: number | null;
  readonly load1: number | null;
  readonly load5: number | null;
  readonly load15: number | null;
}

/** One row of `hostscope.container_usage`. */
export interface ContainerUsageRow {
  readonly time: string;
  readonly instance: string;
  readonly job: string;
  readonly host: string;
  readonly container: string;
  readonly container_id: string;
  readonly image: string;
  readonly status: string;
  readonly cpu_cores: number | null;
  readonly cpu_percent: number | null;
  readonly memory_usage_bytes: number | null;
  readonly memory_limit_bytes: number | null;
  readonly memory_percent: number | null;
}

const HOST_NAMES = new Set([
  'node_cpu_seconds_total',
  'node_memory_MemTotal_bytes',
  'node_memory_MemAvailable_bytes',
  'node_load1',
  'node_load5',
  'node_load15',
  'node_uname_info',
  'hostscope_system_info',
  'machine_cpu_cores',
  'machine_memory_bytes',
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'container_spec_memory_limit_bytes',
]);
const CONTAINER_STATE_PREFIX = 'hostscope_container_';

interface CpuTotals {
  readonly timeMs: number;
  readonly total: number;
  readonly idle: number;
  readonly iowait: number;
}

/** `/docker/<id>`, `/system.slice/docker-<id>.scope` -> `<id>`; other cgroup paths are kept whole. */
export function containerIdFromCgroup(id: string): string {
  const last = id.slice(id.lastIndexOf('/') + 1);
  const m = /^(?:docker-|cri-containerd-|crio-|libpod-)?([0-9a-f]{12,64})(?:\.scope)?$/.exec(last);
  return m?.[1] ?? id;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function pct(part: number, whole: number): number | null {
  return whole > 0 && Number.isFinite(part) ? round((100 * part) / whole) : null;
}

function bytes(v: number | undefined): number | null {
  return v === undefined ? null : Math.round(v);
}

/** The host name for usage rows: node_uname_info's nodename, the inventory's hostname, else the instance. */
export function hostNameOf(picked: ReturnType<typeof pickSamples>, target: Target): string {
  const uname = picked.get('node_uname_info')?.[0]?.labels.nodename;
  if (uname !== undefined && uname !== '') return pgSafe(uname);
  const sys = picked.get('hostscope_system_info')?.[0]?.labels.hostname;
  if (sys !== undefined && sys !== '') return pgSafe(sys);
  return target.instance;
}

/**
 * Computes host and container usage for each scrape from counters. Keeps the previous counter values per
 * target (and container) in the instance, so percentages cover the interval since the previous successful
 * scrape. A counter that went backwards (reboot, container restart) gives NULL for that one row.
 *
 * CPU %: 100 * (delta of all modes except idle and iowait) / (delta of all modes), summed over CPUs, from
 * node_cpu_seconds_total. iowait is reported on its own (cpu_iowait_percent): it is idle time.
 * Container CPU %: 100 * delta(container_cpu_usage_seconds_total) / delta(t) / machine_cpu_cores, i.e. a
 * share of the whole machine; cpu_cores is the same in cores. Memory %: working set over the container's
 * limit, or over machine_memory_bytes when it has none.
 */
export class UsageTracker {
  private readonly cpu = new Map<string, CpuTotals>();
  /** Per target (instance), per container id: the last CPU counter seen. */
  private readonly containerCpu = new Map<string, Map<string, { timeMs: number; seconds: number }>>();

  compute(
    target: Target,
    timeMs: number,
    families: readonly ParsedFamily[],
  ): { host?: HostUsageRow; containers: ContainerUsageRow[] } {
    const picked = pickSamples(families, HOST_NAMES, [CONTAINER_STATE_PREFIX]);
    const host = hostNameOf(picked, target);
    const time = new Date(timeMs).toISOString();
    const result: { host?: HostUsageRow; containers: ContainerUsageRow[] } = { containers: [] };

    const cpuSamples = picked.get('node_cpu_seconds_total');
    const memTotal = firstValue(picked, 'node_memory_MemTotal_bytes');
    const memAvail = firstValue(picked, 'node_memory_MemAvailable_bytes');
    if (cpuSamples !== undefined || memTotal !== undefined) {
      let cpuPercent: number | null = null;
      let iowaitPercent: number | null = null;
      let cpuCount: number | null = null;
      if (cpuSamples !== undefined) {
        let total = 0;
        let idle = 0;
        let iowait = 0;
        const cpus = new Set<string>();
        for (const s of cpuSamples) {
          if (!Number.isFinite(s.value)) continue;
          total += s.value;
          if (s.labels.mode === 'idle') idle += s.value;
          else if (s.labels.mode === 'iowait') iowait += s.value;
          cpus.add(s.labels.cpu ?? '');
        }
        cpuCount = cpus.size;
        const prev = this.cpu.get(target.instance);
        if (prev !== undefined && timeMs > prev.timeMs) {
          const dTotal = total - prev.total;
          const dIdle = idle - prev.idle;
          const dIowait = iowait - prev.iowait;
          if (dTotal > 0 && dIdle >= 0 && dIowait >= 0 && dIdle + dIowait <= dTotal) {
            cpuPercent = pct(dTotal - dIdle - dIowait, dTotal);
            iowaitPercent = pct(dIowait, dTotal);
          }
        }
        this.cpu.set(target.instance, { timeMs, total, idle, iowait });
      }
      const used = memTotal !== undefined && memAvail !== undefined ? memTotal - memAvail : undefined;
      result.host = {
        time,
        instance: target.instance,
        job: target.job,
        host,
        cpu_count: cpuCount,
        cpu_percent: cpuPercent,
        cpu_iowait_percent: iowaitPercent,
        memory_total_bytes: bytes(memTotal),
        memory_available_bytes: bytes(memAvail),
        memory_used_bytes: bytes(used),
        memory_percent: used !== undefined && memTotal !== undefined ? pct(used, memTotal) : null,
        load1: firstValue(picked, 'node_load1') ?? null,
        load5: firstValue(picked, 'node_load5') ?? null,
        load15: firstValue(picked, 'node_load15') ?? null,
      };
    }

    result.containers = this.containers(target, timeMs, time, host, picked);
    return result;
  }

  private containers(
    target: Target,
    timeMs: number,
    time: string,
    host: string,
    picked: ReturnType<typeof pickSamples>,
  ): ContainerUsageRow[] {
    const cores = firstValue(picked, 'machine_cpu_cores');
    const machineMemory = firstValue(picked, 'machine_memory_bytes');
    interface Acc {
      name: string;
      image: string;
      cpu?: number;
      cpuTimeMs?: number;
      mem?: number;
      limit?: number;
    }
    const byId = new Map<string, Acc>();
    const acc = (labels: Readonly<Record<string, string>>): Acc | undefined => {
      const name = labels.name ?? '';
      const cgroup = labels.id ?? '';
      if (name === '' || cgroup === '') return undefined;
      const id = pgSafe(containerIdFromCgroup(cgroup));
      let a = byId.get(id);
      if (a === undefined) {
        a = { name: pgSafe(name), image: pgSafe(labels.image ?? '') };
        byId.set(id, a);
      }
      return a;
    };
    for (const s of picked.get('container_cpu_usage_seconds_total') ?? []) {
      const a = acc(s.labels);
      if (a === undefined || !Number.isFinite(s.value)) continue;
      a.cpu = (a.cpu ?? 0) + s.value;
      a.cpuTimeMs = s.timestampMs ?? timeMs;
    }
    for (const s of picked.get('container_memory_working_set_bytes') ?? []) {
      const a = acc(s.labels);
      if (a !== undefined && Number.isFinite(s.value)) a.mem = s.value;
    }
    for (const s of picked.get('container_spec_memory_limit_bytes') ?? []) {
      const a = acc(s.labels);
      if (a !== undefined && Number.isFinite(s.value)) a.limit = s.value;
    }
    const status = containerStates(picked);
    const rows: ContainerUsageRow[] = [];
    // Only the containers of this scrape are kept, so the map does not grow with containers that are gone.
    const before = this.containerCpu.get(target.instance);
    const after = new Map<string, { timeMs: number; seconds: number }>();
    for (const [id, a] of byId) {
      const prev = before?.get(id);
      let cpuCores: number | null = null;
      if (a.cpu !== undefined && a.cpuTimeMs !== undefined) {
        if (prev !== undefined && a.cpuTimeMs > prev.timeMs && a.cpu >= prev.seconds)
          cpuCores = round((a.cpu - prev.seconds) / ((a.cpuTimeMs - prev.timeMs) / 1000));
        after.set(id, { timeMs: a.cpuTimeMs, seconds: a.cpu });
      } else if (prev !== undefined) after.set(id, prev);
      const limit = a.limit !== undefined && a.limit > 0 ? a.limit : machineMemory;
      rows.push({
        time,
        instance: target.instance,
        job: target.job,
        host,
        container: a.name,
        container_id: id,
        image: a.image,
        status: status.get(id) ?? 'running',
        cpu_cores: cpuCores,
        cpu_percent: cpuCores !== null && cores !== undefined ? pct(cpuCores, cores) : null,
        memory_usage_bytes: bytes(a.mem),
        memory_limit_bytes: bytes(limit),
        memory_percent: a.mem !== undefined && limit !== undefined ? pct(a.mem, limit) : null,
      });
    }
    this.containerCpu.set(target.instance, after);
    return rows;
  }
}

/**
 * Container states from the exporter's `hostscope_container_*` metrics: a sample with a `state` (or
 * `status`) label and value 1 names the container's current state (one-hot, like kube-state-metrics).
 */
export function containerStates(picked: ReturnType<typeof pickSamples>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, samples] of picked) {
    if (!name.startsWith(CONTAINER_STATE_PREFIX)) continue;
    for (const s of samples) {
      const state = s.labels.state ?? s.labels.status;
      if (state === undefined || s.value !== 1) continue;
      const cgroup = s.labels.id ?? s.labels.container_id ?? '';
      if (cgroup === '') continue;
      out.set(pgSafe(containerIdFromCgroup(cgroup)), pgSafe(state));
    }
  }
  return out;
}
