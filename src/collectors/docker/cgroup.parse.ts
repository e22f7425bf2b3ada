/**
 * Pure parsers for cgroup v1 and v2 files, /proc/<pid>/cgroup, /proc/<pid>/net/dev and /proc/<tid>/stat,
 * and the conversion of one container's file texts into the stats model the docker collector exports.
 * Text in, typed data out: no I/O here. Semantics follow cAdvisor (which reads through runc's cgroup
 * managers): see the comments on each field.
 */

const NEWLINE = 10;
const SPACE = 32;

/** USER_HZ: cpuacct.stat counts in ticks of 1/100 s. */
const USER_HZ = 100;

/** cAdvisor reports limits above 2^62 (the kernel's "unlimited", rounded down to a page) as 0. */
const MAX_MEMORY = 2 ** 62;

export interface CpuStats {
  /** Total CPU time in nanoseconds (v1 cpuacct.usage, v2 cpu.stat usage_usec). */
  readonly totalNs: number;
  readonly userNs: number;
  readonly systemNs: number;
  /** v1 cpuacct.usage_percpu, when read. */
  readonly perCpuNs?: readonly number[];
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledNs: number;
}

export interface MemoryStats {
  readonly usage: number;
  readonly maxUsage: number;
  readonly failcnt: number;
  readonly cache: number;
  readonly rss: number;
  readonly swap: number;
  readonly mappedFile: number;
  /** usage - inactive_file (v1: total_inactive_file), floored at 0, as cAdvisor. */
  readonly workingSet: number;
  readonly pgfault: number;
  readonly pgmajfault: number;
  /** OOM kills in the cgroup (v1 memory.oom_control oom_kill, v2 memory.events oom_kill). */
  readonly oomKills: number;
}

export interface BlkioDeviceStats {
  readonly major: number;
  readonly minor: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly reads: number;
  readonly writes: number;
}

export interface InterfaceStats {
  readonly name: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDropped: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDropped: number;
}

/** cAdvisor's container_tasks_state states, in its label spelling. */
export const TASK_STATES = ['sleeping', 'running', 'stopped', 'uninterruptible', 'iowaiting'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export type TaskStates = Readonly<Record<TaskState, number>>;

export interface ContainerStats {
  readonly cpu: CpuStats;
  readonly memory: MemoryStats;
  readonly blkio: readonly BlkioDeviceStats[];
  /** pids.current: cAdvisor's container_threads. */
  readonly threads?: number;
  /** pids.max, 0 when unlimited: cAdvisor's container_threads_max. */
  readonly threadsMax?: number;
  /** Lines of cgroup.procs: cAdvisor's container_processes. */
  readonly processes?: number;
  /** States of the cgroup's threads (v1 tasks, v2 cgroup.threads), for container_tasks_state. */
  readonly tasks?: TaskStates;
  /** Per-interface counters from the container's network namespace, ignored devices removed. */
  readonly network?: readonly InterfaceStats[];
}

export interface ContainerSpec {
  readonly cpuShares: number;
  readonly cpuPeriod: number;
  /** 0 when there is no quota (cAdvisor then omits container_spec_cpu_quota and the cfs counters). */
  readonly cpuQuota: number;
  readonly memoryLimit: number;
  readonly memorySwapLimit: number;
  readonly memoryReservation: number;
}

// ---------------------------------------------------------------------------------------------------------
// Generic file formats

/** A single unsigned number file (memory.usage_in_bytes, pids.current); "max" -> Infinity. */
export function parseSingleValue(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max') return Infinity;
  if (!/^-?\d+$/.test(t)) return undefined;
  return Number(t);
}

/** Flat keyed files ("key value" per line): memory.stat, cpu.stat, cpuacct.stat, memory.events, ... */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const sp = text.indexOf(' ', start);
    if (sp > start && sp < end) {
      const value = Number(text.slice(sp + 1, end));
      if (Number.isFinite(value)) out.set(text.slice(start, sp), value);
    }
    start = end + 1;
  }
  return out;
}

/**
 * A flat keyed file read by key: `get` finds the one line it needs (the value of parseKeyValues for that
 * key) instead of parsing every line into a map. memory.stat has ~35 lines of which a scrape needs ~7, for
 * each of hundreds of containers on every scrape.
 */
export class KeyedFile {
  constructor(private readonly text: string) {}

  get(key: string): number | undefined {
    const text = this.text;
    let value: number | undefined;
    for (let at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
      const end = at + key.length;
      if ((at > 0 && text.charCodeAt(at - 1) !== NEWLINE) || text.charCodeAt(end) !== SPACE) continue;
      let eol = text.indexOf('\n', end);
      if (eol < 0) eol = text.length;
      const v = Number(text.slice(end + 1, eol));
      // The last valid line of the key wins, as in parseKeyValues.
      if (Number.isFinite(v)) value = v;
    }
    return value;
  }
}

/** cpuacct.usage_percpu: space-separated nanoseconds per CPU. */
export function parsePerCpu(text: string): number[] {
  const out: number[] = [];
  for (const f of text.trim().split(/\s+/)) {
    if (f === '') continue;
    const v = Number(f);
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** cgroup v2 cpu.max: "<quota|max> <period>". */
export function parseCpuMax(text: string): { quota: number; period: number } | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 2) return undefined;
  const [q, p] = parts as [string, string];
  const period = Number(p);
  if (!Number.isFinite(period)) return undefined;
  if (q === 'max') return { quota: 0, period };
  const quota = Number(q);
  return Number.isFinite(quota) ? { quota, period } : undefined;
}

/** One line of /proc/<pid>/cgroup: `hierarchy-id:controller-list:path`. */
export interface ProcCgroupEntry {
  readonly hierarchy: number;
  /** Empty for the v2 unified hierarchy; `name=systemd` style names are kept as they are. */
  readonly controllers: readonly string[];
  readonly path: string;
}

export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const hierarchy = Number(line.slice(0, first));
    if (!Number.isInteger(hierarchy)) continue;
    const list = line.slice(first + 1, second);
    out.push({ hierarchy, controllers: list === '' ? [] : list.split(','), path: line.slice(second + 1) });
  }
  return out;
}

/** v1 blkio files (`8:0 Read 4096` ... `Total 8192`): per device, the Read and Write values. */
export function parseBlkioV1(text: string): Map<string, { read: number; write: number }> {
  const out = new Map<string, { read: number; write: number }>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [dev, op, v] = f as [string, string, string];
    if (!/^\d+:\d+$/.test(dev)) continue;
    const value = Number(v);
    if (!Number.isFinite(value)) continue;
    let entry = out.get(dev);
    if (entry === undefined) {
      entry = { read: 0, write: 0 };
      out.set(dev, entry);
    }
    if (op === 'Read') entry.read = value;
    else if (op === 'Write') entry.write = value;
  }
  return out;
}

/** v2 io.stat: `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`. */
export function parseIoStatV2(text: string): BlkioDeviceStats[] {
  const out: BlkioDeviceStats[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = f[0];
    if (dev === undefined || !/^\d+:\d+$/.test(dev)) continue;
    const kv = new Map<string, number>();
    for (const pair of f.slice(1)) {
      const eq = pair.indexOf('=');
      if (eq > 0) kv.set(pair.slice(0, eq), Number(pair.slice(eq + 1)));
    }
    const [major, minor] = dev.split(':').map(Number) as [number, number];
    out.push({
      major,
      minor,
      readBytes: kv.get('rbytes') ?? 0,
      writeBytes: kv.get('wbytes') ?? 0,
      reads: kv.get('rios') ?? 0,
      writes: kv.get('wios') ?? 0,
    });
  }
  return out;
}

/** Joins the bytes and operations files of one v1 blkio family into per-device stats. */
export function joinBlkioV1(bytesText: string, iosText: string): BlkioDeviceStats[] {
  // No device line (just "Total 0"), the usual case for containers that do no block I/O: nothing to join.
  if (!bytesText.includes(':') && !iosText.includes(':')) return [];
  const bytes = parseBlkioV1(bytesText);
  const ios = parseBlkioV1(iosText);
  const devices = new Set([...bytes.keys(), ...ios.keys()]);
  const out: BlkioDeviceStats[] = [];
  for (const dev of [...devices].sort(compareDevices)) {
    const [major, minor] = dev.split(':').map(Number) as [number, number];
    const b = bytes.get(dev);
    const o = ios.get(dev);
    out.push({
      major,
      minor,
      readBytes: b?.read ?? 0,
      writeBytes: b?.write ?? 0,
      reads: o?.read ?? 0,
      writes: o?.write ?? 0,
    });
  }
  return out;
}

function compareDevices(a: string, b: string): number {
  const [am, an] = a.split(':').map(Number) as [number, number];
  const [bm, bn] = b.split(':').map(Number) as [number, number];
  return am - bm || an - bn;
}

/** cAdvisor skips these interfaces in a container's namespace (lo, veth*, docker*; case-insensitive). */
const IGNORED_INTERFACE_PREFIXES = ['lo', 'veth', 'docker'];

export function isIgnoredInterface(name: string): boolean {
  const lower = name.toLowerCase();
  return IGNORED_INTERFACE_PREFIXES.some((p) => lower.startsWith(p));
}

/**
 * /proc/<pid>/net/dev of a container, without cAdvisor's ignored devices. Like cAdvisor, a line with an
 * unexpected number of fields makes the whole file untrusted (returns undefined).
 */
export function parseContainerNetDev(text: string): InterfaceStats[] | undefined {
  const out: InterfaceStats[] = [];
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) return undefined;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length !== 16 || f.some((v) => !Number.isFinite(v))) return undefined;
    if (isIgnoredInterface(name)) continue;
    out.push({
      name,
      rxBytes: f[0] as number,
      rxPackets: f[1] as number,
      rxErrors: f[2] as number,
      rxDropped: f[3] as number,
      txBytes: f[8] as number,
      txPackets: f[9] as number,
      txErrors: f[10] as number,
      txDropped: f[11] as number,
    });
  }
  return out;
}

/**
 * Counts task states like the kernel's cgroupstats (which cAdvisor reads over netlink): R running,
 * S sleeping, D uninterruptible, T/t stopped. The kernel counts "iowait" only for tasks in none of these
 * states that wait for I/O, which /proc does not show: iowaiting stays 0.
 */
export function countTaskStates(letters: string): TaskStates {
  const counts = { sleeping: 0, running: 0, stopped: 0, uninterruptible: 0, iowaiting: 0 };
  for (const l of letters) {
    switch (l) {
      case 'R':
        counts.running++;
        break;
      case 'S':
        counts.sleeping++;
        break;
      case 'D':
        counts.uninterruptible++;
        break;
      case 'T':
      case 't':
        counts.stopped++;
        break;
      default:
        break;
    }
  }
  return counts;
}

/** A memory limit as cAdvisor exports it: "unlimited" (> 2^62, "max") becomes 0. */
export function specMemoryValue(v: number): number {
  return v > MAX_MEMORY ? 0 : v;
}

// ---------------------------------------------------------------------------------------------------------
// Whole-container conversion

/**
 * The texts of one container's v1 files for one scrape; undefined = missing or unreadable. `procs` is the
 * line count of cgroup.procs and `tasks` the state letters of the cgroup's threads (one per thread), as the
 * batch reader returns them.
 */
export interface V1Texts {
  readonly cpuacctUsage?: string;
  readonly cpuacctStat?: string;
  readonly cpuacctPercpu?: string;
  readonly cpuStat?: string;
  readonly memUsage?: string;
  readonly memMaxUsage?: string;
  readonly memFailcnt?: string;
  readonly memStat?: string;
  readonly memOomControl?: string;
  readonly memUseHierarchy?: string;
  readonly blkioBfqBytes?: string;
  readonly blkioBfqIos?: string;
  readonly blkioThrottleBytes?: string;
  readonly blkioThrottleIos?: string;
  readonly pidsCurrent?: string;
  readonly pidsMax?: string;
  readonly procs?: string;
  readonly tasks?: string;
  readonly netDev?: string;
}

export interface V2Texts {
  readonly cpuStat?: string;
  readonly memCurrent?: string;
  readonly memPeak?: string;
  readonly memStat?: string;
  readonly memEvents?: string;
  readonly memSwapCurrent?: string;
  readonly ioStat?: string;
  readonly pidsCurrent?: string;
  readonly pidsMax?: string;
  readonly procs?: string;
  readonly threads?: string;
  readonly netDev?: string;
}

function num(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseSingleValue(text);
}

function threadsMaxValue(text: string | undefined): number | undefined {
  const v = num(text);
  if (v === undefined) return undefined;
  return v === Infinity ? 0 : v;
}

function workingSet(usage: number, inactiveFile: number | undefined): number {
  if (inactiveFile === undefined) return usage;
  return usage < inactiveFile ? 0 : usage - inactiveFile;
}

function optionalProcessFields(
  t: { pidsCurrent?: string; pidsMax?: string; procs?: string; netDev?: string },
  taskLetters: string | undefined,
): Pick<ContainerStats, 'threads' | 'threadsMax' | 'processes' | 'tasks' | 'network'> {
  const out: {
    threads?: number;
    threadsMax?: number;
    processes?: number;
    tasks?: TaskStates;
    network?: InterfaceStats[];
  } = {};
  const threads = num(t.pidsCurrent);
  if (threads !== undefined) out.threads = threads;
  const threadsMax = threadsMaxValue(t.pidsMax);
  if (threadsMax !== undefined) out.threadsMax = threadsMax;
  const processes = num(t.procs);
  if (processes !== undefined) out.processes = processes;
  if (taskLetters !== undefined) out.tasks = countTaskStates(taskLetters);
  if (t.netDev !== undefined) {
    const net = parseContainerNetDev(t.netDev);
    if (net !== undefined) out.network = net;
  }
  return out;
}

/**
 * One container's stats from its cgroup v1 files, or undefined when the essential files are gone (the
 * container vanished between listing and reading).
 */
export function statsFromV1(t: V1Texts): ContainerStats | undefined {
  const totalNs = num(t.cpuacctUsage);
  const usage = num(t.memUsage);
  if (totalNs === undefined || usage === undefined || t.memStat === undefined) return undefined;
  const acct = new KeyedFile(t.cpuacctStat ?? '');
  const cfs = new KeyedFile(t.cpuStat ?? '');
  const mem = new KeyedFile(t.memStat);
  const hierarchy = t.memUseHierarchy === undefined ? true : t.memUseHierarchy.trim() === '1';
  const key = (k: string): number => mem.get(hierarchy ? `total_${k}` : k) ?? 0;
  const oom = new KeyedFile(t.memOomControl ?? '');
  const perCpu = t.cpuacctPercpu === undefined ? undefined : parsePerCpu(t.cpuacctPercpu);
  // runc reads CFQ, then BFQ, then the throttle files, taking the first family with entries.
  const bfq = joinBlkioV1(t.blkioBfqBytes ?? '', t.blkioBfqIos ?? '');
  const blkio = bfq.length > 0 ? bfq : joinBlkioV1(t.blkioThrottleBytes ?? '', t.blkioThrottleIos ?? '');
  return {
    cpu: {
      totalNs,
      userNs: ((acct.get('user') ?? 0) * 1e9) / USER_HZ,
      systemNs: ((acct.get('system') ?? 0) * 1e9) / USER_HZ,
      ...(perCpu === undefined ? {} : { perCpuNs: perCpu }),
      periods: cfs.get('nr_periods') ?? 0,
      throttledPeriods: cfs.get('nr_throttled') ?? 0,
      throttledNs: cfs.get('throttled_time') ?? 0,
    },
    memory: {
      usage,
      maxUsage: num(t.memMaxUsage) ?? 0,
      failcnt: num(t.memFailcnt) ?? 0,
      cache: key('cache'),
      rss: key('rss'),
      swap: key('swap'),
      mappedFile: key('mapped_file'),
      workingSet: workingSet(usage, mem.get('total_inactive_file')),
      pgfault: mem.get('pgfault') ?? 0,
      pgmajfault: mem.get('pgmajfault') ?? 0,
      oomKills: oom.get('oom_kill') ?? 0,
    },
    blkio,
    ...optionalProcessFields(t, t.tasks),
  };
}

/** One container's stats from its cgroup v2 files (runc's fs2 semantics), or undefined when gone. */
export function statsFromV2(t: V2Texts): ContainerStats | undefined {
  const usage = num(t.memCurrent);
  if (t.cpuStat === undefined || usage === undefined || t.memStat === undefined) return undefined;
  const cpu = new KeyedFile(t.cpuStat);
  const mem = new KeyedFile(t.memStat);
  const events = new KeyedFile(t.memEvents ?? '');
  return {
    cpu: {
      totalNs: (cpu.get('usage_usec') ?? 0) * 1000,
      userNs: (cpu.get('user_usec') ?? 0) * 1000,
      systemNs: (cpu.get('system_usec') ?? 0) * 1000,
      periods: cpu.get('nr_periods') ?? 0,
      throttledPeriods: cpu.get('nr_throttled') ?? 0,
      throttledNs: (cpu.get('throttled_usec') ?? 0) * 1000,
    },
    memory: {
      usage,
      maxUsage: num(t.memPeak) ?? 0,
      failcnt: events.get('max') ?? 0,
      cache: mem.get('file') ?? 0,
      rss: mem.get('anon') ?? 0,
      swap: num(t.memSwapCurrent) ?? 0,
      mappedFile: mem.get('file_mapped') ?? 0,
      workingSet: workingSet(usage, mem.get('inactive_file')),
      pgfault: mem.get('pgfault') ?? 0,
      pgmajfault: mem.get('pgmajfault') ?? 0,
      oomKills: events.get('oom_kill') ?? 0,
    },
    blkio: parseIoStatV2(t.ioStat ?? ''),
    ...optionalProcessFields(t, t.threads),
  };
}

export interface V1SpecTexts {
  readonly cpuShares?: string;
  readonly cpuPeriod?: string;
  readonly cpuQuota?: string;
  readonly memLimit?: string;
  readonly memSwLimit?: string;
  readonly memSoftLimit?: string;
}

export interface V2SpecTexts {
  readonly cpuWeight?: string;
  readonly cpuMax?: string;
  readonly memMax?: string;
  readonly memSwapMax?: string;
  readonly memMin?: string;
}

/** cAdvisor's conversion of cgroup v2 cpu.weight [1, 10000] to v1 shares [2, 262144]. */
export function cpuWeightToShares(weight: number): number {
  if (weight < 1 || weight > 10000) return 0;
  return 2 + Math.floor(((weight - 1) * 262142) / 9999);
}

export function specFromV1(t: V1SpecTexts): ContainerSpec {
  const quota = num(t.cpuQuota);
  return {
    cpuShares: num(t.cpuShares) ?? 0,
    cpuPeriod: num(t.cpuPeriod) ?? 0,
    cpuQuota: quota === undefined || quota < 0 ? 0 : quota,
    memoryLimit: specMemoryValue(num(t.memLimit) ?? 0),
    memorySwapLimit: specMemoryValue(num(t.memSwLimit) ?? 0),
    memoryReservation: specMemoryValue(num(t.memSoftLimit) ?? 0),
  };
}

export function specFromV2(t: V2SpecTexts): ContainerSpec {
  const max = t.cpuMax === undefined ? undefined : parseCpuMax(t.cpuMax);
  const weight = num(t.cpuWeight);
  return {
    cpuShares: weight === undefined ? 0 : cpuWeightToShares(weight),
    cpuPeriod: max?.period ?? 0,
    cpuQuota: max?.quota ?? 0,
    memoryLimit: specMemoryValue(num(t.memMax) ?? 0),
    memorySwapLimit: specMemoryValue(num(t.memSwapMax) ?? 0),
    // cAdvisor reads memory.min here (Docker's --memory-reservation sets memory.low, which it ignores).
    memoryReservation: specMemoryValue(num(t.memMin) ?? 0),
  };
}
