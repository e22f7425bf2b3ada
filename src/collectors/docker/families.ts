/**
 * The docker collector's metric families: cAdvisor's names, types, HELP texts and label sets, plus the
 * hostscope_* families cAdvisor lacks. Building samples from the typed stats is pure; the collector decides
 * which containers are live, frozen (gone, within the grace window) or metadata-only.
 */
import { formatLabels } from '../../exposition/labels';
import { sameLabels } from '../../metrics/same-labels';
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

interface MutableOut {
  name: FamilyName;
  value: number;
  extra: Labels | undefined;
}

function sameExtra(a: Labels | undefined, b: Labels | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && sameLabels(a, b));
}

/**
 * One container's samples, kept from scrape to scrape (they are what a gone container shows, frozen, for
 * the grace window). A scrape rewrites the values in place when its series are those of the last one, the
 * usual case, keeping the same sample and extra-label objects: the snapshot then allocates nothing, and
 * nothing of it lives long enough to be promoted to V8's old generation only to die there. The extra-label
 * objects staying the same also keeps the label caches (LabelCache, formatLabels) hitting.
 */
export class SampleList {
  private readonly items: MutableOut[] = [];
  private n = 0;

  /** Starts a scrape's samples; push them in the same order each scrape. */
  begin(): this {
    this.n = 0;
    return this;
  }

  push(name: FamilyName, value: number, extra?: Labels): void {
    const cur = this.items[this.n];
    if (cur !== undefined && cur.name === name && sameExtra(cur.extra, extra)) {
      cur.value = value;
    } else {
      this.items[this.n] = { name, value, extra };
    }
    this.n++;
  }

  /** Ends the scrape's samples: the list now holds exactly those pushed since begin(). */
  end(): readonly Out[] {
    this.items.length = this.n;
    return this.items;
  }
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
export function containerSamples(input: ContainerInput, into = new SampleList()): readonly Out[] {
  const { stats, spec, meta } = input;
  const out = into.begin();
  const push = (name: FamilyName, value: number, extra?: Labels): void => out.push(name, value, extra);
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
  return out.end();
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
 * Label objects of one container kept across scrapes: the same base and the same extra labels object give
 * the same merged object, which spares the allocations (and lets formatLabels hit its memo).
 */
export class LabelCache {
  private forBase: Readonly<Record<string, string>> | undefined;
  private forKeys = '';
  private full: Labels = {};
  private merged = new WeakMap<Labels, Labels>();

  /**
   * The container's base labels completed with '' for every other label name of the scrape (`allKeys`,
   * joined into `keysId`).
   */
  base(base: Readonly<Record<string, string>>, allKeys: readonly string[], keysId: string): Labels {
    if (base === this.forBase && keysId === this.forKeys) return this.full;
    const full: Record<string, string> = {};
    for (const k of allKeys) full[k] = base[k] ?? '';
    this.forBase = base;
    this.forKeys = keysId;
    this.full = full;
    this.merged = new WeakMap();
    return full;
  }

  with(extra: Labels): Labels {
    let labels = this.merged.get(extra);
    if (labels === undefined) {
      labels = { ...this.full, ...extra };
      this.merged.set(extra, labels);
    }
    return labels;
  }
}

/** One container's contribution to a scrape. */
export interface Entry {
  /** id, name, image and container_label_* labels; the same object while they do not change. */
  readonly base: Readonly<Record<string, string>>;
  /** container_* samples (live or frozen) and hostscope_container_* samples. */
  readonly samples: readonly Out[];
  readonly more: readonly Out[];
  readonly cache: LabelCache;
}

export interface CollectorFigures {
  readonly up: boolean;
  readonly apiFallback: boolean;
  readonly machine: MachineInfo | undefined;
}

/**
 * Puts each family's samples in label-text order (formatLabels, memoised per label object), the order
 * gather and the encoder want: with it they take their fast paths, which skip a set of seen series and a
 * second sort. The order is kept per family and reused while the family has the same label objects in the
 * same sequence as the last scrape, the usual case (LabelCache keeps them), so it costs a sort only when
 * containers come or go.
 */
export class SeriesOrder {
  private readonly last = new Map<string, { labels: readonly Labels[]; order: readonly number[] }>();

  sort(name: string, samples: Sample[]): Sample[] {
    const n = samples.length;
    if (n < 2) return samples;
    const prev = this.last.get(name);
    if (
      prev !== undefined &&
      prev.labels.length === n &&
      samples.every((s, i) => s.labels === prev.labels[i])
    ) {
      return prev.order.map((i) => samples[i] as Sample);
    }
    const keys = samples.map((s) => formatLabels(s.labels).text);
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => {
      const ka = keys[a] as string;
      const kb = keys[b] as string;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    this.last.set(name, { labels: samples.map((s) => s.labels), order });
    return order.map((i) => samples[i] as Sample);
  }
}

/**
 * Assembles the families of one scrape. Like cAdvisor, every container carries every container label name
 * seen in this scrape (empty value when it does not have the label), so a family's label names are the
 * same on all its series.
 */
export function assemble(
  entries: readonly Entry[],
  figures: CollectorFigures,
  order = new SeriesOrder(),
): MetricFamily[] {
  const keySet = new Set<string>();
  for (const e of entries) for (const k in e.base) keySet.add(k);
  const allKeys = [...keySet].sort();
  const keysId = allKeys.join('\n');
  const byName = new Map<FamilyName, Sample[]>();
  const add = (name: FamilyName, value: number, labels: Labels): void => {
    let samples = byName.get(name);
    if (samples === undefined) {
      samples = [];
      byName.set(name, samples);
    }
    samples.push({ labels, value });
  };
  const addAll = (outs: readonly Out[], base: Labels, cache: LabelCache): void => {
    for (const s of outs) add(s.name, s.value, s.extra === undefined ? base : cache.with(s.extra));
  };
  for (const e of entries) {
    const base = e.cache.base(e.base, allKeys, keysId);
    addAll(e.samples, base, e.cache);
    addAll(e.more, base, e.cache);
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
    out.push({ name, type: def.type, help: def.help, samples: order.sort(name, samples) });
  }
  return out;
}
