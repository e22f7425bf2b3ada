/** Pure parsers for cAdvisor's machine metrics (machine_cpu_cores, machine_memory_bytes). */

/** Logical CPUs: the `processor` entries of /proc/cpuinfo (cAdvisor's NumCores). */
export function countProcessors(cpuinfo: string): number {
  let n = 0;
  for (const line of cpuinfo.split('\n')) {
    if (/^processor\s*:/.test(line)) n++;
  }
  return n;
}

/** MemTotal of /proc/meminfo in bytes (cAdvisor's MemoryCapacity), or undefined when absent. */
export function memTotalBytes(meminfo: string): number | undefined {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  return m === null ? undefined : Number(m[1]) * 1024;
}
