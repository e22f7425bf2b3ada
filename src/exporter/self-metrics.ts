import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { MetricObjectWithValues, MetricValue, Registry as PromRegistry } from 'prom-client';
import { EventLoopLag } from './event-loop-lag';
import { parseSoftLimit } from './limits.parse';
import { Gauge, registerDefaultMetrics, Registry } from './prom-client-core';
import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily, MetricType, Sample } from '../metrics/types';
import { readVersion } from '../version';

/** Converts prom-client's JSON view into plain families (suffix = sample name minus family name). */
export function fromPromClient(
  metrics: readonly MetricObjectWithValues<MetricValue<string>>[],
): MetricFamily[] {
  return metrics.map((m) => {
    const samples: Sample[] = m.values.map((v) => {
      const sampleName = (v as { metricName?: string }).metricName;
      const suffix =
        sampleName !== undefined && sampleName !== m.name ? sampleName.slice(m.name.length) : undefined;
      const labels: Record<string, string> = {};
      for (const [k, val] of Object.entries(v.labels)) if (val !== undefined) labels[k] = String(val);
      return suffix === undefined ? { labels, value: v.value } : { suffix, labels, value: v.value };
    });
    return { name: m.name, help: m.help, type: String(m.type) as MetricType, samples };
  });
}

/** Open file descriptors of this process (the value of prom-client's process_open_fds). */
export function openFds(): number {
  const size = statSync('/proc/self/fd').size;
  // readdir opens a descriptor of its own for the listing: not counted, as in prom-client.
  return size > 0 ? size : readdirSync('/proc/self/fd').length - 1;
}

/** The soft RLIMIT_AS of this process in bytes (RLIM_INFINITY when unlimited), or undefined without /proc. */
export function addressSpaceLimit(): number | undefined {
  try {
    return parseSoftLimit(readFileSync('/proc/self/limits', 'utf8'), 'Max address space');
  } catch {
    return undefined;
  }
}

/**
 * Metrics about hostscope itself: build info always; prom-client's process_* and nodejs_* metrics unless
 * --web.disable-exporter-metrics. Each instance owns its registry, so nothing is global.
 */
export class SelfMetrics {
  private readonly registry: PromRegistry | undefined;
  private readonly eventLoop: EventLoopLag | undefined;
  private readonly version = readVersion();

  constructor(processMetrics: boolean) {
    if (processMetrics) {
      this.registry = new Registry();
      registerDefaultMetrics(this.registry);
      this.eventLoop = new EventLoopLag(this.registry);
      if (process.platform === 'linux') {
        // prom-client counts /proc/self/fd entries with readdir on every scrape: 1.3 ms at the ~1,600
        // descriptors the docker collector keeps open for 100 containers. Since Linux 6.2 the directory's
        // size is that count; older kernels report 0, and get the readdir.
        this.registry.removeSingleMetric('process_open_fds');
        new Gauge({
          name: 'process_open_fds',
          help: 'Number of open file descriptors.',
          registers: [this.registry],
          collect() {
            try {
              this.set(openFds());
            } catch {
              // no /proc: leave the gauge as it was, as prom-client does
            }
          },
        });
        // client_golang's process collector has it and prom-client does not; Node Exporter Full's
        // "Exporter Processes Memory" panel plots it. Read at every scrape, as Go does (prlimit can change
        // it while the process runs).
        if (addressSpaceLimit() !== undefined)
          new Gauge({
            name: 'process_virtual_memory_max_bytes',
            help: 'Maximum amount of virtual memory available in bytes.',
            registers: [this.registry],
            collect() {
              const limit = addressSpaceLimit();
              if (limit !== undefined) this.set(limit);
            },
          });
      }
    }
  }

  /** Work left out of the scrape's critical path (see EventLoopLag); call once its response is sent. */
  afterScrape(): void {
    this.eventLoop?.settle();
  }

  async collect(): Promise<MetricFamily[]> {
    const own = new MetricSet()
      .gauge(
        'hostscope_build_info',
        'A metric with a constant 1 value labeled by version, revision and the Node.js version hostscope runs on.',
        1,
        {
          version: this.version,
          revision: process.env.HOSTSCOPE_REVISION ?? 'unknown',
          nodeversion: process.version,
        },
      )
      .families();
    if (this.registry === undefined) return own;
    return [...own, ...fromPromClient(await this.registry.getMetricsAsJSON())];
  }
}
