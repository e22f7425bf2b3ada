import { MetricSet } from '../metrics/metric-set';
import { CPUFREQ_ATTRIBUTES, parseCpuFrequencies, type CpufreqAttribute } from './cpufreq.parse';
import type { CollectorDefinition } from './types';

/** Family name and help of each attribute, as node_exporter 1.5 names them (help texts included). */
const FAMILIES: Readonly<Record<CpufreqAttribute, readonly [string, string]>> = {
  cpuinfo_cur_freq: ['node_cpu_frequency_hertz', 'Current cpu thread frequency in hertz.'],
  cpuinfo_min_freq: ['node_cpu_frequency_min_hertz', 'Minimum cpu thread frequency in hertz.'],
  cpuinfo_max_freq: ['node_cpu_frequency_max_hertz', 'Maximum cpu thread frequency in hertz.'],
  scaling_cur_freq: ['node_cpu_scaling_frequency_hertz', 'Current scaled CPU thread frequency in hertz.'],
  scaling_min_freq: ['node_cpu_scaling_frequency_min_hertz', 'Minimum scaled CPU thread frequency in hertz.'],
  scaling_max_freq: ['node_cpu_scaling_frequency_max_hertz', 'Maximum scaled CPU thread frequency in hertz.'],
};

const ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(CPUFREQ_ATTRIBUTES);

export const cpufreqCollector: CollectorDefinition = {
  name: 'cpufreq',
  defaultEnabled: true,
  help: 'Exposes CPU frequency statistics.',
  create: ({ fs }) => ({
    async update() {
      const cpuRoot = fs.sys('devices', 'system', 'cpu');
      const cpus = (await fs.readDirOptional(cpuRoot)).filter((d) => /^cpu\d/.test(d));
      // A CPU without a cpufreq directory (offline, or a VM without a cpufreq driver) reports nothing,
      // and a host with none of them succeeds with no samples, as node_exporter does.
      const perCpu = await Promise.all(
        cpus.map(async (dir) => {
          const freqPath = (...parts: string[]): string =>
            fs.sys('devices', 'system', 'cpu', dir, 'cpufreq', ...parts);
          const present = (await fs.readDirOptional(freqPath())).filter((f) => ATTRIBUTE_NAMES.has(f));
          const texts = await Promise.all(
            present.map(
              async (name) => [name as CpufreqAttribute, await fs.readAttr(freqPath(name))] as const,
            ),
          );
          const raw: Partial<Record<CpufreqAttribute, string>> = {};
          // cpuinfo_cur_freq is root-only: unreadable attributes are skipped like missing ones.
          for (const [name, text] of texts) if (text !== undefined) raw[name] = text;
          return { cpu: dir.slice(3), freqs: parseCpuFrequencies(raw) };
        }),
      );
      const metrics = new MetricSet();
      for (const { cpu, freqs } of perCpu) {
        for (const attr of CPUFREQ_ATTRIBUTES) {
          const hertz = freqs[attr];
          if (hertz === undefined) continue;
          const [name, help] = FAMILIES[attr];
          metrics.gauge(name, help, hertz, { cpu });
        }
      }
      return metrics.families();
    },
  }),
};
