import { MetricSet } from '../metrics/metric-set';
import { parseMemInfo } from './meminfo.parse';
import type { CollectorDefinition } from './types';

export const meminfoCollector: CollectorDefinition = {
  name: 'meminfo',
  defaultEnabled: true,
  help: 'Exposes memory statistics from /proc/meminfo.',
  create: ({ fs }) => ({
    async update() {
      const metrics = new MetricSet();
      for (const { name, value } of parseMemInfo(await fs.readText(fs.proc('meminfo')))) {
        // As node_exporter: a field named like a counter is typed as one (none is on Linux today).
        metrics.add(
          `node_memory_${name}`,
          name.endsWith('_total') ? 'counter' : 'gauge',
          `Memory information field ${name}.`,
          value,
        );
      }
      return metrics.families();
    },
  }),
};
