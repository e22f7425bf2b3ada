import { MetricSet } from '../metrics/metric-set';
import { parseProcStat, SOFTIRQ_VECTORS } from './stat.parse';
import type { CollectorDefinition } from './types';

export const statCollector: CollectorDefinition = {
  name: 'stat',
  defaultEnabled: true,
  help: 'Exposes various statistics from /proc/stat. This includes boot time, forks and interrupts.',
  options: [{ name: 'softirq', kind: 'boolean', default: false, help: 'Export softirq calls per vector' }],
  create: ({ fs, options }) => {
    const softirq = options.boolean('softirq');
    return {
      async update() {
        const stat = parseProcStat(await fs.readText(fs.proc('stat')));
        const metrics = new MetricSet();
        const add = (
          kind: 'counter' | 'gauge',
          name: string,
          help: string,
          value: number | undefined,
        ): void => {
          if (value !== undefined) metrics.add(name, kind, help, value);
        };
        add('counter', 'node_intr_total', 'Total number of interrupts serviced.', stat.interrupts);
        add(
          'counter',
          'node_context_switches_total',
          'Total number of context switches.',
          stat.contextSwitches,
        );
        add('counter', 'node_forks_total', 'Total number of forks.', stat.forks);
        add('gauge', 'node_boot_time_seconds', 'Node boot time, in unixtime.', stat.bootTime);
        add('gauge', 'node_procs_running', 'Number of processes in runnable state.', stat.procsRunning);
        add(
          'gauge',
          'node_procs_blocked',
          'Number of processes blocked waiting for I/O to complete.',
          stat.procsBlocked,
        );
        if (softirq && stat.softirq !== undefined) {
          for (const vector of SOFTIRQ_VECTORS) {
            metrics.counter('node_softirqs_total', 'Number of softirq calls.', stat.softirq.vectors[vector], {
              vector,
            });
          }
        }
        return metrics.families();
      },
    };
  },
};
