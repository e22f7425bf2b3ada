/** Parser for /proc/schedstat (scheduler statistics, present only on kernels built with CONFIG_SCHEDSTATS). */

export interface SchedstatCpu {
  /** CPU number as printed by the kernel ("0", "1", ...). */
  readonly cpu: string;
  /** Time spent running tasks on this CPU, in nanoseconds (field 7 of the cpu line). */
  readonly runningNanoseconds: number;
  /** Time tasks spent waiting to run on this CPU, in nanoseconds (field 8). */
  readonly waitingNanoseconds: number;
  /** Number of timeslices run on this CPU (field 9). */
  readonly timeslices: number;
}

/** `cpu<N>` followed by at least nine counters (schedstat versions 15 and later). */
const CPU_LINE = /^cpu(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/;

/**
 * Returns one entry per `cpu<N>` line; `version`, `timestamp` and `domain<N>` lines are skipped, and so is
 * a cpu line that does not carry nine counters (as procfs does).
 */
export function parseSchedstat(text: string): SchedstatCpu[] {
  const cpus: SchedstatCpu[] = [];
  for (const line of text.split('\n')) {
    const m = CPU_LINE.exec(line);
    if (m === null) continue;
    cpus.push({
      cpu: m[1] as string,
      runningNanoseconds: Number(m[8]),
      waitingNanoseconds: Number(m[9]),
      timeslices: Number(m[10]),
    });
  }
  return cpus;
}
