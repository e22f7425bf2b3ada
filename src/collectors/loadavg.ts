import { MetricSet } from '../metrics/metric-set';
import { parseLoadAvg } from './loadavg.parse';
import type { CollectorDefinition } from './types';

export const loadavgCollector: CollectorDefinition = {
  name: 'loadavg',
  defaultEnabled: true,
  help: 'Exposes load average.',
  create: ({ fs }) => ({
    async update() {
      const load = parseLoadAvg(await fs.readText(fs.proc('loadavg')));
      return new MetricSet()
        .gauge('node_load1', '1m load average.', load.load1)
        .gauge('node_load5', '5m load average.', load.load5)
        .gauge('node_load15', '15m load average.', load.load15)
        .families();
    },
  }),
};
