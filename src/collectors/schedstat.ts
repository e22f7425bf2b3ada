import { isNotFound } from '../host/host-fs';
import { NoDataError } from '../errors';
import { MetricSet } from '../metrics/metric-set';
import { parseSchedstat } from './schedstat.parse';
import type { CollectorDefinition } from './types';

const NS_PER_SECOND = 1e9;

export const schedstatCollector: CollectorDefinition = {
  name: 'schedstat',
  defaultEnabled: true,
  help: 'Exposes task scheduler statistics from /proc/schedstat.',
  create: ({ fs }) => ({
    async update() {
      let text: string;
      try {
        text = await fs.readText(fs.proc('schedstat'));
      } catch (err) {
        // Kernels built without CONFIG_SCHEDSTATS have no /proc/schedstat (node_exporter: ErrNoData).
        if (isNotFound(err)) throw new NoDataError('schedstat file does not exist', { cause: err });
        throw err;
      }
      const metrics = new MetricSet();
      for (const c of parseSchedstat(text)) {
        const labels = { cpu: c.cpu };
        metrics
          .counter(
            'node_schedstat_running_seconds_total',
            'Number of seconds CPU spent running a process.',
            c.runningNanoseconds / NS_PER_SECOND,
            labels,
          )
          .counter(
            'node_schedstat_waiting_seconds_total',
            'Number of seconds spent by processing waiting for this CPU.',
            c.waitingNanoseconds / NS_PER_SECOND,
            labels,
          )
          .counter(
            'node_schedstat_timeslices_total',
            'Number of timeslices executed by CPU.',
            c.timeslices,
            labels,
          );
      }
      return metrics.families();
    },
  }),
};
