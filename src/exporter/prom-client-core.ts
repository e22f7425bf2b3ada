/**
 * The parts of prom-client the exporter uses, required from their own modules: prom-client's index also
 * loads its Pushgateway (node:https, node:tls) and cluster aggregation (node:cluster), ~1.2 MB resident
 * for code the exporter never runs. Types come from the package's own declarations.
 */
import type * as PromClient from 'prom-client';

/* eslint-disable @typescript-eslint/no-require-imports */
export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;

type DefaultMetric = (registry: PromClient.Registry, config: object) => void;
/** The names of prom-client's default metrics, which are also their module names under lib/metrics. */
const { metricsList } = require('prom-client/lib/defaultMetrics') as { metricsList: readonly string[] };
const metric = (name: string): DefaultMetric => require(`prom-client/lib/metrics/${name}`) as DefaultMetric;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * prom-client's default metrics (what its collectDefaultMetrics registers, in its order) but for the event
 * loop delay gauges, which the exporter registers itself (see EventLoopLag).
 */
export function registerDefaultMetrics(registry: PromClient.Registry): void {
  for (const name of metricsList) if (name !== 'eventLoopLag') metric(name)(registry, {});
}
