/** Parsers for the per-CPU cpufreq attributes in /sys/devices/system/cpu/cpu<N>/cpufreq/. */

/** The frequency attributes node_exporter 1.5 exports, each in kHz in sysfs. */
export const CPUFREQ_ATTRIBUTES = [
  'cpuinfo_cur_freq',
  'cpuinfo_min_freq',
  'cpuinfo_max_freq',
  'scaling_cur_freq',
  'scaling_min_freq',
  'scaling_max_freq',
] as const;

export type CpufreqAttribute = (typeof CPUFREQ_ATTRIBUTES)[number];

/** Frequencies of one CPU in hertz; an attribute the kernel does not offer (or that is unreadable) is absent. */
export type CpuFrequencies = Partial<Readonly<Record<CpufreqAttribute, number>>>;

/** Parses one kHz attribute ("2596158\n") into hertz. */
export function parseKhzAttribute(name: string, text: string): number {
  const value = text.trim();
  if (!/^\d+$/.test(value))
    throw new Error(`cpufreq attribute ${name}: not an unsigned integer: ${JSON.stringify(value)}`);
  return Number(value) * 1000;
}

/** Converts the raw attribute texts of one CPU (undefined = not readable) into hertz. */
export function parseCpuFrequencies(
  raw: Partial<Readonly<Record<CpufreqAttribute, string>>>,
): CpuFrequencies {
  const out: Partial<Record<CpufreqAttribute, number>> = {};
  for (const name of CPUFREQ_ATTRIBUTES) {
    const text = raw[name];
    if (text !== undefined) out[name] = parseKhzAttribute(name, text);
  }
  return out;
}
