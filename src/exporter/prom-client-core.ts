/**
 * The parts of prom-client the exporter uses, required from their own modules: prom-client's index also
 * loads its Pushgateway (node:https, node:tls) and cluster aggregation (node:cluster), ~1.2 MB resident
 * for code the exporter never runs. Types come from the package's own declarations.
 */
import type * as PromClient from 'prom-client';

/* eslint-disable @typescript-eslint/no-require-imports */
export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;

type DefaultMetric = (registry: PromClient.Registry, config: object) => void;
const metric = (name: string): DefaultMetric => require(`prom-client/lib/metrics/${name}`) as DefaultMetric;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * prom-client's default metrics (lib/defaultMetrics' metricsList, which are also their module names under
 * lib/metrics), in its order, but for two the exporter registers itself: processCpuTotal (see
 * registerProcessCpu) and eventLoopLag (see EventLoopLag). Listed here rather than read from
 * lib/defaultMetrics, which requires every one of them, processCpuTotal included; a test compares the list
 * with prom-client's.
 */
export const DEFAULT_METRICS = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

/**
 * prom-client's process_cpu_* counters (its processCpuTotal) without exemplar support, for which that
 * module loads @opentelemetry/api: 51 modules, ~1.5 MB resident, for exemplars the exporter never sets.
 * They count from the process start (prom-client's from registration), like client_golang's.
 */
function registerProcessCpu(registry: PromClient.Registry): void {
  let last = { user: 0, system: 0 };
  const system = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers: [registry],
  });
  const total = new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers: [registry],
  });
  new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers: [registry],
    // One collect sets all three, as in prom-client.
    collect() {
      const now = process.cpuUsage();
      const user = now.user - last.user;
      const sys = now.system - last.system;
      last = now;
      this.inc(user / 1e6);
      system.inc(sys / 1e6);
      total.inc((user + sys) / 1e6);
    },
  });
}

/**
 * What prom-client's collectDefaultMetrics registers, but for the event loop delay gauges, which the
 * exporter registers itself (see EventLoopLag); the CPU counters are registerProcessCpu's.
 */
export function registerDefaultMetrics(registry: PromClient.Registry): void {
  registerProcessCpu(registry);
  for (const name of DEFAULT_METRICS) metric(name)(registry, {});
}
