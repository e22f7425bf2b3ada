/**
 * `/proc/self/limits`: the soft limit of one resource, as client_golang's process collector reads it
 * (prometheus/procfs): "unlimited" is RLIM_INFINITY, the largest uint64, which becomes the float64 2^64
 * (1.8446744073709552e+19, what node_exporter shows for an unlimited address space).
 */
export const RLIM_INFINITY = 2 ** 64;

/** The soft limit of the line starting with `name` (e.g. "Max address space"), or undefined. */
export function parseSoftLimit(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    // Columns are separated by two or more spaces: name, soft limit, hard limit, units.
    const soft = line.split(/ {2,}/)[1]?.trim();
    if (soft === undefined) return undefined;
    if (soft === 'unlimited') return RLIM_INFINITY;
    const value = Number(soft);
    return /^\d+$/.test(soft) && Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}
