import { MetricSet } from '../metrics/metric-set';
import { parseSoftnet } from './softnet.parse';
import type { CollectorDefinition } from './types';

export const softnetCollector: CollectorDefinition = {
  name: 'softnet',
  defaultEnabled: true,
  help: 'Exposes statistics from /proc/net/softnet_stat.',
  create: ({ fs }) => ({
    async update() {
      const rows = parseSoftnet(await fs.readText(fs.proc('net', 'softnet_stat')));
      const metrics = new MetricSet();
      for (const r of rows) {
        const labels = { cpu: r.cpu };
        metrics
          .counter('node_softnet_processed_total', 'Number of processed packets', r.processed, labels)
          .counter('node_softnet_dropped_total', 'Number of dropped packets', r.dropped, labels)
          .counter(
            'node_softnet_times_squeezed_total',
            'Number of times processing packets ran out of quota',
            r.timeSqueezed,
            labels,
          );
      }
      return metrics.families();
    },
  }),
};
