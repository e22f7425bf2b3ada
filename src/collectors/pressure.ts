import { NoDataError } from '../errors';
import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { parsePressure, type PsiLine } from './pressure.parse';
import type { CollectorDefinition } from './types';

const RESOURCES = ['cpu', 'io', 'memory'] as const;

function hasCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && codes.includes(String(err.code));
}

/** Microseconds to seconds, divided in two steps as node_exporter does so the floats come out identical. */
function seconds(line: PsiLine): number {
  return line.total / 1000 / 1000;
}

export const pressureCollector: CollectorDefinition = {
  name: 'pressure',
  defaultEnabled: true,
  help: 'Exposes pressure stall statistics from /proc/pressure/.',
  create: ({ fs }) => ({
    async update() {
      const [cpu, io, memory] = await Promise.all(
        RESOURCES.map(async (resource) => {
          try {
            return parsePressure(await fs.readText(fs.proc('pressure', resource)));
          } catch (err) {
            if (isNotFound(err)) {
              throw new NoDataError(
                'pressure information is unavailable, you need a Linux kernel >= 4.20 and/or CONFIG_PSI enabled for your kernel',
                { cause: err },
              );
            }
            if (hasCode(err, 'ENOTSUP', 'EOPNOTSUPP')) {
              throw new NoDataError(
                'pressure information is disabled, add psi=1 kernel command line to enable it',
                {
                  cause: err,
                },
              );
            }
            throw err;
          }
        }),
      );
      const metrics = new MetricSet();
      // A missing line is skipped (node_exporter 1.5 would crash on it).
      const add = (name: string, help: string, line: PsiLine | undefined): void => {
        if (line !== undefined) metrics.counter(name, help, seconds(line));
      };
      add(
        'node_pressure_cpu_waiting_seconds_total',
        'Total time in seconds that processes have waited for CPU time',
        cpu?.some,
      );
      add(
        'node_pressure_io_waiting_seconds_total',
        'Total time in seconds that processes have waited due to IO congestion',
        io?.some,
      );
      add(
        'node_pressure_io_stalled_seconds_total',
        'Total time in seconds no process could make progress due to IO congestion',
        io?.full,
      );
      add(
        'node_pressure_memory_waiting_seconds_total',
        'Total time in seconds that processes have waited for memory',
        memory?.some,
      );
      add(
        'node_pressure_memory_stalled_seconds_total',
        'Total time in seconds no process could make progress due to memory congestion',
        memory?.full,
      );
      return metrics.families();
    },
  }),
};
