/**
 * The parts of prom-client the exporter uses, required from their own modules: prom-client's index also
 * loads its Pushgateway (node:https, node:tls) and cluster aggregation (node:cluster), ~1.2 MB resident
 * for code the exporter never runs. Types come from the package's own declarations.
 */
import type * as PromClient from 'prom-client';

/* eslint-disable @typescript-eslint/no-require-imports */
export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const collectDefaultMetrics =
  require('prom-client/lib/defaultMetrics') as typeof PromClient.collectDefaultMetrics;
/* eslint-enable @typescript-eslint/no-require-imports */
