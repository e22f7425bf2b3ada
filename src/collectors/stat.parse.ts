/**
 * Parser for /proc/stat, shared by the `cpu` collector (per-CPU times) and the `stat` collector (boot
 * time, context switches, forks, interrupts, runnable/blocked processes, softirqs).
 */

/** The kernel's USER_HZ: /proc/stat counts CPU time in 1/100 s ticks on every Linux architecture. */
export const USER_HZ = 100;

/** Seconds one CPU spent in each mode (already divided by USER_HZ). */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
  readonly guest: number;
  readonly guestNice: number;
}

/** The columns of a `cpuN` line, in the kernel's order. */
export const CPU_TIME_FIELDS = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'irq',
  'softirq',
  'steal',
  'guest',
  'guestNice',
] as const satisfies readonly (keyof CpuTimes)[];

/** The softirq vectors of the `softirq` line, in the kernel's order, named as node_exporter labels them. */
export const SOFTIRQ_VECTORS = [
  'hi',
  'timer',
  'net_tx',
  'net_rx',
  'block',
  'block_iopoll',
  'tasklet',
  'sched',
  'hrtimer',
  'rcu',
] as const;

export type SoftirqVector = (typeof SOFTIRQ_VECTORS)[number];

export interface SoftirqStats {
  readonly total: number;
  readonly vectors: Readonly<Record<SoftirqVector, number>>;
}

export interface ProcStat {
  /** Per-CPU times keyed by CPU id ("0", "1", ...), in file order. Offline CPUs have no line. */
  readonly cpus: ReadonlyMap<string, CpuTimes>;
  /** Each scalar is undefined when its line is absent. */
  readonly bootTime?: number;
  readonly interrupts?: number;
  readonly contextSwitches?: number;
  readonly forks?: number;
  readonly procsRunning?: number;
  readonly procsBlocked?: number;
  readonly softirq?: SoftirqStats;
}

const UINT = /^\d+$/;

function uint(value: string, line: string, what: string): number {
  if (!UINT.test(value))
    throw new Error(`couldn't parse ${JSON.stringify(line)} (${what}): not an unsigned integer`);
  return Number(value);
}

/**
 * Parses a `cpu`/`cpuN` line. Like procfs, trailing columns that an old kernel does not print read as 0
 * (2.6.24 has no guest, 2.6.33 no guest_nice) but a non-numeric column is an error.
 */
function parseCpuLine(fields: readonly string[], line: string): CpuTimes {
  const values = new Array<number>(CPU_TIME_FIELDS.length).fill(0);
  const count = Math.min(fields.length - 1, CPU_TIME_FIELDS.length);
  for (let i = 0; i < count; i++) {
    const value = Number(fields[i + 1]);
    if (fields[i + 1] === '' || !Number.isFinite(value)) {
      throw new Error(
        `couldn't parse ${JSON.stringify(line)} (cpu): bad value ${JSON.stringify(fields[i + 1])}`,
      );
    }
    values[i] = value / USER_HZ;
  }
  const [user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice] = values as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice };
}

function parseSoftirqLine(fields: readonly string[], line: string): SoftirqStats {
  if (fields.length < SOFTIRQ_VECTORS.length + 2) {
    throw new Error(
      `couldn't parse ${JSON.stringify(line)} (softirq): expected ${SOFTIRQ_VECTORS.length + 1} values, got ${fields.length - 1}`,
    );
  }
  const vectors = {} as Record<SoftirqVector, number>;
  SOFTIRQ_VECTORS.forEach((name, i) => {
    vectors[name] = uint(fields[i + 2] as string, line, 'softirq');
  });
  return { total: uint(fields[1] as string, line, 'softirq'), vectors };
}

/** Second whitespace-separated token of a line, without splitting the rest (the `intr` line is long). */
function secondToken(line: string): string {
  const rest = line.slice(line.search(/\s/)).trimStart();
  const end = rest.search(/\s/);
  return end === -1 ? rest : rest.slice(0, end);
}

/**
 * Parses /proc/stat. Lines with fewer than two fields and unknown keys are ignored; a malformed value on
 * a known line is an error, as in node_exporter (procfs).
 */
export function parseProcStat(text: string): ProcStat {
  const cpus = new Map<string, CpuTimes>();
  const result: {
    cpus: Map<string, CpuTimes>;
    bootTime?: number;
    interrupts?: number;
    contextSwitches?: number;
    forks?: number;
    procsRunning?: number;
    procsBlocked?: number;
    softirq?: SoftirqStats;
  } = { cpus };

  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    const space = line.search(/\s/);
    if (space === -1) continue; // empty, or a key without a value
    const key = line.slice(0, space);

    if (key.startsWith('cpu')) {
      const fields = line.split(/\s+/);
      const times = parseCpuLine(fields, line);
      if (key === 'cpu') continue; // the all-CPU sum: node_exporter exports per-CPU series only
      const id = key.slice(3);
      if (!UINT.test(id)) throw new Error(`couldn't parse ${JSON.stringify(line)} (cpu/cpuid)`);
      cpus.set(String(Number(id)), times);
      continue;
    }

    switch (key) {
      case 'intr':
        result.interrupts = uint(secondToken(line), line, 'intr');
        break;
      case 'ctxt':
        result.contextSwitches = uint(secondToken(line), line, 'ctxt');
        break;
      case 'btime':
        result.bootTime = uint(secondToken(line), line, 'btime');
        break;
      case 'processes':
        result.forks = uint(secondToken(line), line, 'processes');
        break;
      case 'procs_running':
        result.procsRunning = uint(secondToken(line), line, 'procs_running');
        break;
      case 'procs_blocked':
        result.procsBlocked = uint(secondToken(line), line, 'procs_blocked');
        break;
      case 'softirq':
        result.softirq = parseSoftirqLine(line.split(/\s+/), line);
        break;
      default:
        break;
    }
  }
  return result;
}
