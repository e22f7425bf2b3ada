import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Gauge as PromGauge, Registry as PromRegistry } from 'prom-client';
import { Gauge } from './prom-client-core';

/** prom-client's event loop gauges (names and help as its metrics/eventLoopLag.js), and the statistic each reads. */
const STATS = [
  ['nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', (h) => h.min],
  ['nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', (h) => h.max],
  ['nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', (h) => h.mean],
  [
    'nodejs_eventloop_lag_stddev_seconds',
    'The standard deviation of the recorded event loop delays.',
    (h) => h.stddev,
  ],
  [
    'nodejs_eventloop_lag_p50_seconds',
    'The 50th percentile of the recorded event loop delays.',
    (h) => h.percentile(50),
  ],
  [
    'nodejs_eventloop_lag_p90_seconds',
    'The 90th percentile of the recorded event loop delays.',
    (h) => h.percentile(90),
  ],
  [
    'nodejs_eventloop_lag_p99_seconds',
    'The 99th percentile of the recorded event loop delays.',
    (h) => h.percentile(99),
  ],
] as const satisfies readonly (readonly [string, string, (h: IntervalHistogram) => number])[];

/**
 * prom-client's nodejs_eventloop_lag_* metrics, with one difference in when the work is done. The
 * statistics of Node's delay histogram cost ~0.4 ms (its stddev walks every one of its ~55,000 buckets),
 * more than any host collector, so they are computed by settle() once a response has been sent, and
 * served by the next scrape, like prom-client's own nodejs_eventloop_lag_seconds, which is measured
 * after the scrape that reports it. A scrape with no settle() since the last one computes them itself,
 * as prom-client does. Each computation covers the delays since the previous one, then resets.
 */
export class EventLoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private settled: number[] | undefined;

  constructor(registry: PromRegistry) {
    this.histogram.enable();
    const registers = [registry];
    const lag: PromGauge = new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Lag of event loop in seconds.',
      registers,
      collect: () => {
        const start = process.hrtime.bigint();
        setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
        const values = this.settled ?? this.compute();
        this.settled = undefined;
        values.forEach((v, i) => gauges[i]?.set(v / 1e9));
      },
    });
    const gauges = STATS.map(([name, help]) => new Gauge({ name, help, registers }));
  }

  /** Computes the statistics the next scrape serves; call when a scrape's response has been sent. */
  settle(): void {
    this.settled ??= this.compute();
  }

  private compute(): number[] {
    const values = STATS.map(([, , read]) => read(this.histogram));
    this.histogram.reset();
    return values;
  }
}
