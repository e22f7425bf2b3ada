/**
 * The docker collector's metric families: cAdvisor's names, types, HELP texts and label sets, plus the
 * hostscope_* families cAdvisor lacks. Building samples from the typed stats is pure; the collector decides
 * which containers are live, frozen (gone, within the grace window) or metadata-only.
 */
import type { Labels, MetricFamily, MetricType, Sample } from '../../metrics/types';
import { TASK_STATES, type ContainerSpec, type ContainerStats } from './cgroup.parse';
import type { ContainerMeta } from './engine.parse';
import type { MachineInfo } from './machine';

interface FamilyDef {
  readonly type: MetricType;
  readonly help: string;
}

const g = (help: string): FamilyDef => ({ type: 'gauge', help });
const c = (help: string): FamilyDef => ({ type: 'counter', help });

/** Every family this collector can emit. HELP texts are cAdvisor's, byte for byte. */
export const FAMILIES = {
  container_last_seen: g('Last time a container was seen by the exporter'),
  container_health_state: g("The result of the container's health check"),
  container_start_time_seconds: g('Start time of the container since unix epoch in seconds.'),
  container_cpu_user_seconds_total: c('Cumulative user cpu time consumed in seconds.'),
  container_cpu_system_seconds_total: c('Cumulative system cpu time consumed in seconds.'),
  container_cpu_usage_seconds_total: c('Cumulative cpu time consumed in seconds.'),
  container_cpu_cfs_periods_total: c('Number of elapsed enforcement period intervals.'),
  container_cpu_cfs_throttled_periods_total: c('Number of throttled period intervals.'),
  container_cpu_cfs_throttled_seconds_total: c('Total time duration the container has been throttled.'),
  container_spec_cpu_period: g('CPU period of the container.'),
  container_spec_cpu_quota: g('CPU quota of the container.'),
  container_spec_cpu_shares: g('CPU share of the container.'),
  container_spec_memory_limit_bytes: g('Memory limit for the container.'),
  container_spec_memory_swap_limit_bytes: g('Memory swap limit for the container.'),
  container_spec_memory_reservation_limit_bytes: g('Memory reservation limit for the container.'),
  container_memory_cache: g('Number of bytes of page cache memory.'),
  container_memory_rss: g('Size of RSS in bytes.'),
  container_memory_mapped_file: g('Size of memory mapped files in bytes.'),
  container_memory_swap: g('Container swap usage in bytes.'),
  container_memory_failcnt: c('Number of memory usage hits limits'),
  container_memory_usage_bytes: g(
    'Current memory usage in bytes, including all memory regardless of when it was accessed',
  ),
  container_memory_max_usage_bytes: g('Maximum memory usage recorded in bytes'),
  container_memory_working_set_bytes: g('Current working set in bytes.'),
  container_memory_failures_total: c('Cumulative count of memory allocation failures.'),
  container_oom_events_total: c('Count of out of memory events observed for the container'),
  container_processes: g('Number of processes running inside the container.'),
  container_threads: g('Number of threads running inside the container'),
  container_threads_max: g(
    'Maximum number of threads allowed inside the container, infinity if value is zero',
  ),
  container_tasks_state: g('Number of tasks in given state'),
  container_fs_reads_bytes_total: c('Cumulative count of bytes read'),
  container_fs_writes_bytes_total: c('Cumulative count of bytes written'),
  container_fs_reads_total: c('Cumulative count of reads completed'),
  container_fs_writes_total: c('Cumulative count of writes completed'),
  container_fs_usage_bytes: g('Number of bytes that are consumed by the container on this filesystem.'),
  container_fs_limit_bytes: g('Number of bytes that can be consumed by the container on this filesystem.'),
  container_fs_inodes_free: g('Number of available Inodes'),
  container_fs_inodes_total: g('Number of Inodes'),
  container_network_receive_bytes_total: c('Cumulative count of bytes received'),
  container_network_receive_packets_total: c('Cumulative count of packets received'),
  container_network_receive_errors_total: c('Cumulative count of errors encountered while receiving'),
  container_network_receive_packets_dropped_total: c('Cumulative count of packets dropped while receiving'),
  container_network_transmit_bytes_total: c('Cumulative count of bytes transmitted'),
  container_network_transmit_packets_total: c('Cumulative count of packets transmitted'),
  container_network_transmit_errors_total: c('Cumulative count of errors encountered while transmitting'),
  container_network_transmit_packets_dropped_total: c(
    'Cumulative count of packets dropped while transmitting',
  ),
  machine_cpu_cores: g('Number of logical CPU cores.'),
  machine_memory_bytes: g('Amount of memory installed on the machine.'),
  hostscope_docker_up: g('Whether the Docker Engine API answered (1) or not (0).'),
  hostscope_docker_stats_api_fallback: g(
    '1 when some container counters come from the Docker Engine stats API because their cgroup files are not readable, else 0.',
  ),
  hostscope_container_state: g('Container state reported by the Docker Engine (1 for the current state).'),
  hostscope_container_restarts_total: c('Number of times the Docker Engine restarted the container.'),
  hostscope_container_exit_code: g('Exit code of the last run of the container (0 while it never exited).'),
  hostscope_container_oom_killed: g('1 when the last run of the container was ended by the OOM killer.'),
  hostscope_container_health_status: g(
    'Health check status reported by the Docker Engine (1 for the current status; none = no health check).',
  ),
} as const satisfies Record<string, FamilyDef>;

export type FamilyName = keyof typeof FAMILIES;

export interface Out {
  readonly name: FamilyName;
  readonly value: number;
  /** Labels beyond the container's base labels (cpu, interface, device, state, ...). */
  readonly extra?: Labels;
}

/** Everything needed to build one container's container_* samples. */
export interface ContainerInput {
  readonly meta: ContainerMeta;
  readonly oomEvents: number;
  readonly stats: ContainerStats;
  readonly spec: ContainerSpec | undefined;
  readonly fs: FsFigures | undefined;
  readonly perCpu: boolean;
  readonly nowSeconds: number;
  /** `/dev/<name>` of a block device, '' when unknown. */
  readonly deviceName: (major: number, minor: number) => string;
}

export interface FsFigures {
  readonly device: string;
  readonly usageBytes: number;
  readonly limitBytes: number;
  readonly inodesTotal: number;
  readonly inodesFree: number;
}

const NS = 1e9;

/** Extra label sets that never change, shared so that each container's merged labels are cached by key. */
const CPU_TOTAL: Labels = Object.freeze({ cpu: 'total' });
const FAILURES: readonly (readonly [Labels, Labels])[] = ['container', 'hierarchy'].map(
  (scope) =>
    [
      Object.freeze({ failure_type: 'pgfault', scope }),
      Object.freeze({ failure_type: 'pgmajfault', scope }),
    ] as const,
);
const TASK_STATE_LABELS = TASK_STATES.map((state) => [state, Object.freeze({ state })] as const);

export function healthStateValue(health: ContainerMeta['health']): number {
  if (health === 'healthy') return 1;
  if (health === 'none') return -1;
  return 0;
}

/** cAdvisor's per-container samples, in cAdvisor's semantics (see cgroup.parse.ts for the sources). */
export function containerSamples(input: ContainerInput): Out[] {
  const { stats, spec, meta } = input;
  const out: Out[] = [];
  const push = (name: FamilyName, value: number, extra?: Labels): void => {
    out.push(extra === undefined ? { name, value } : { name, value, extra });
  };
  push('container_last_seen', input.nowSeconds);
  push('container_health_state', healthStateValue(meta.health));
  push('container_start_time_seconds', meta.createdSeconds);

  const cpu = stats.cpu;
  push('container_cpu_user_seconds_total', cpu.userNs / NS);
  push('container_cpu_system_seconds_total', cpu.systemNs / NS);
  if (input.perCpu && cpu.perCpuNs !== undefined && cpu.perCpuNs.length > 0) {
    cpu.perCpuNs.forEach((v, i) => {
      if (v > 0)
        push('container_cpu_usage_seconds_total', v / NS, { cpu: `cpu${String(i).padStart(2, '0')}` });
    });
  } else if (cpu.totalNs > 0) {
    push('container_cpu_usage_seconds_total', cpu.totalNs / NS, CPU_TOTAL);
  }
  if (spec !== undefined) {
    if (spec.cpuQuota !== 0) {
      push('container_cpu_cfs_periods_total', cpu.periods);
      push('container_cpu_cfs_throttled_periods_total', cpu.throttledPeriods);
      push('container_cpu_cfs_throttled_seconds_total', cpu.throttledNs / NS);
      push('container_spec_cpu_quota', spec.cpuQuota);
    }
    push('container_spec_cpu_period', spec.cpuPeriod);
    push('container_spec_cpu_shares', spec.cpuShares);
    push('container_spec_memory_limit_bytes', spec.memoryLimit);
    push('container_spec_memory_swap_limit_bytes', spec.memorySwapLimit);
    push('container_spec_memory_reservation_limit_bytes', spec.memoryReservation);
  }

  const mem = stats.memory;
  push('container_memory_cache', mem.cache);
  push('container_memory_rss', mem.rss);
  push('container_memory_mapped_file', mem.mappedFile);
  push('container_memory_swap', mem.swap);
  push('container_memory_failcnt', mem.failcnt);
  push('container_memory_usage_bytes', mem.usage);
  push('container_memory_max_usage_bytes', mem.maxUsage);
  push('container_memory_working_set_bytes', mem.workingSet);
  for (const [pgfault, pgmajfault] of FAILURES) {
    push('container_memory_failures_total', mem.pgfault, pgfault);
    push('container_memory_failures_total', mem.pgmajfault, pgmajfault);
  }
  push('container_oom_events_total', Math.max(mem.oomKills, input.oomEvents));

  if (stats.processes !== undefined) push('container_processes', stats.processes);
  if (stats.threads !== undefined) push('container_threads', stats.threads);
  if (stats.threadsMax !== undefined) push('container_threads_max', stats.threadsMax);
  if (stats.tasks !== undefined) {
    for (const [state, labels] of TASK_STATE_LABELS)
      push('container_tasks_state', stats.tasks[state], labels);
  }

  for (const d of stats.blkio) {
    const device = { device: input.deviceName(d.major, d.minor) };
    push('container_fs_reads_bytes_total', d.readBytes, device);
    push('container_fs_writes_bytes_total', d.writeBytes, device);
    push('container_fs_reads_total', d.reads, device);
    push('container_fs_writes_total', d.writes, device);
  }
  if (input.fs !== undefined) {
    const device = { device: input.fs.device };
    push('container_fs_usage_bytes', input.fs.usageBytes, device);
    push('container_fs_limit_bytes', input.fs.limitBytes, device);
    push('container_fs_inodes_total', input.fs.inodesTotal, device);
    push('container_fs_inodes_free', input.fs.inodesFree, device);
  }

  for (const i of stats.network ?? []) {
    const iface = { interface: i.name };
    push('container_network_receive_bytes_total', i.rxBytes, iface);
    push('container_network_receive_packets_total', i.rxPackets, iface);
    push('container_network_receive_errors_total', i.rxErrors, iface);
    push('container_network_receive_packets_dropped_total', i.rxDropped, iface);
    push('container_network_transmit_bytes_total', i.txBytes, iface);
    push('container_network_transmit_packets_total', i.txPackets, iface);
    push('container_network_transmit_errors_total', i.txErrors, iface);
    push('container_network_transmit_packets_dropped_total', i.txDropped, iface);
  }
  return out;
}

/**
 * hostscope_container_* samples from the engine's record of a container (any state). State and health
 * status are exported as the current value only (`{state="running"} 1`), not as one series per possible
 * value: a fifth of the output of a busy host for no information Prometheus cannot derive.
 */
export function hostscopeSamples(meta: ContainerMeta): Out[] {
  return [
    { name: 'hostscope_container_state', value: 1, extra: { state: meta.state } },
    { name: 'hostscope_container_restarts_total', value: meta.restartCount },
    { name: 'hostscope_container_exit_code', value: meta.exitCode },
    { name: 'hostscope_container_oom_killed', value: meta.oomKilled ? 1 : 0 },
    { name: 'hostscope_container_health_status', value: 1, extra: { status: meta.health } },
  ];
}

/**
 * Label objects of one container kept across scrapes: the same base and the same extra labels give the
 * same object, which spares the allocations (and lets consumers cache per labels object).
 */
export class LabelCache {
  private signature = '';
  private full: Labels = {};
  private readonly merged = new Map<string, Labels>();
  private byObject = new WeakMap<Labels, Labels>();

  /** The container's base labels completed with '' for every other label name of the scrape. */
  base(base: Readonly<Record<string, string>>, allKeys: readonly string[], signature: string): Labels {
    if (signature === this.signature) return this.full;
    const full: Record<string, string> = {};
    for (const k of allKeys) full[k] = base[k] ?? '';
    this.signature = signature;
    this.full = full;
    this.merged.clear();
    this.byObject = new WeakMap();
    return full;
  }

  with(extra: Labels): Labels {
    if (Object.isFrozen(extra)) {
      let labels = this.byObject.get(extra);
      if (labels === undefined) {
        labels = { ...this.full, ...extra };
        this.byObject.set(extra, labels);
      }
      return labels;
    }
    let key = '';
    for (const k in extra) key += `${k}\u0000${extra[k] as string}\u0001`;
    let labels = this.merged.get(key);
    if (labels === undefined) {
      labels = { ...this.full, ...extra };
      if (this.merged.size < 4096) this.merged.set(key, labels);
    }
    return labels;
  }
}

/** One container's contribution to a scrape. */
export interface Entry {
  /** id, name, image and container_label_* labels. */
  readonly base: Readonly<Record<string, string>>;
  readonly samples: readonly Out[];
  readonly cache: LabelCache;
}

export interface CollectorFigures {
  readonly up: boolean;
  readonly apiFallback: boolean;
  readonly machine: MachineInfo | undefined;
}

/**
 * Assembles the families of one scrape. Like cAdvisor, every container carries every container label name
 * seen in this scrape (empty value when it does not have the label), so a family's label names are the
 * same on all its series.
 */
export function assemble(entries: readonly Entry[], figures: CollectorFigures): MetricFamily[] {
  const keys = new Set<string>();
  for (const e of entries) for (const k in e.base) keys.add(k);
  const allKeys = [...keys].sort();
  const byName = new Map<FamilyName, Sample[]>();
  const add = (name: FamilyName, value: number, labels: Labels): void => {
    let samples = byName.get(name);
    if (samples === undefined) {
      samples = [];
      byName.set(name, samples);
    }
    samples.push({ labels, value });
  };
  for (const e of entries) {
    let signature = '';
    for (const k of allKeys) signature += `${k}\u0000${e.base[k] ?? ''}\u0001`;
    const base = e.cache.base(e.base, allKeys, signature);
    for (const s of e.samples) add(s.name, s.value, s.extra === undefined ? base : e.cache.with(s.extra));
  }
  add('hostscope_docker_up', figures.up ? 1 : 0, {});
  if (figures.up) add('hostscope_docker_stats_api_fallback', figures.apiFallback ? 1 : 0, {});
  const m = figures.machine;
  if (m !== undefined) {
    if (m.cpuCores > 0) add('machine_cpu_cores', m.cpuCores, m.labels);
    if (m.memoryBytes !== undefined) add('machine_memory_bytes', m.memoryBytes, m.labels);
  }
  const out: MetricFamily[] = [];
  for (const [name, samples] of byName) {
    const def = FAMILIES[name];
    out.push({ name, type: def.type, help: def.help, samples });
  }
  return out;
}
