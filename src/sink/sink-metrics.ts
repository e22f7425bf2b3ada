import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

const WRITE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The sink's own counters and gauges, served on its /metrics. One instance per sink. */
export class SinkMetrics {
  samplesWritten = 0;
  writes = 0;
  writeFailures = 0;
  lastWriteSeconds = 0;
  readonly scrapes = new Map<string, { total: number; failures: number }>();
  private readonly writeBuckets = new Array<number>(WRITE_BUCKETS.length).fill(0);
  private writeCount = 0;
  private writeSum = 0;
  maintenanceRuns = 0;
  maintenanceFailures = 0;

  constructor(
    private readonly buffer: () => { samples: number; max: number; droppedSamples: number; skipped: number },
  ) {}

  scrape(instance: string, ok: boolean): void {
    let s = this.scrapes.get(instance);
    if (s === undefined) {
      s = { total: 0, failures: 0 };
      this.scrapes.set(instance, s);
    }
    s.total++;
    if (!ok) s.failures++;
  }

  observeWrite(seconds: number, samples: number, nowMs: number): void {
    this.writes++;
    this.samplesWritten += samples;
    this.lastWriteSeconds = nowMs / 1000;
    this.writeCount++;
    this.writeSum += seconds;
    WRITE_BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.writeBuckets[i] = (this.writeBuckets[i] ?? 0) + 1;
    });
  }

  families(): MetricFamily[] {
    const set = new MetricSet();
    const b = this.buffer();
    set.counter(
      'hostscope_sink_samples_written_total',
      'Samples written to the database.',
      this.samplesWritten,
    );
    set.counter('hostscope_sink_writes_total', 'Successful batch writes.', this.writes);
    set.counter(
      'hostscope_sink_write_failures_total',
      'Batch writes that failed (retried later).',
      this.writeFailures,
    );
    set.gauge('hostscope_sink_buffer_samples', 'Samples waiting in the buffer to be written.', b.samples);
    set.gauge('hostscope_sink_buffer_max_samples', 'Capacity of the buffer (--buffer.max-samples).', b.max);
    set.counter(
      'hostscope_sink_samples_dropped_total',
      'Samples not stored: buffer overflow, or skipped (duplicate series in a scrape, timestamp out of range).',
      b.droppedSamples,
      { reason: 'buffer_full' },
    );
    set.counter(
      'hostscope_sink_samples_dropped_total',
      'Samples not stored: buffer overflow, or skipped (duplicate series in a scrape, timestamp out of range).',
      b.skipped,
      { reason: 'skipped' },
    );
    set.gauge(
      'hostscope_sink_last_successful_write_timestamp_seconds',
      'Unix time of the last successful write; 0 before the first.',
      this.lastWriteSeconds,
    );
    for (const [instance, s] of [...this.scrapes].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      set.counter('hostscope_sink_scrapes_total', 'Scrapes attempted per target.', s.total, { instance });
      set.counter(
        'hostscope_sink_scrape_failures_total',
        'Failed scrapes per target (stored as up 0).',
        s.failures,
        {
          instance,
        },
      );
    }
    set.counter(
      'hostscope_sink_maintenance_runs_total',
      'Maintenance runs (rollups and retention).',
      this.maintenanceRuns,
    );
    set.counter(
      'hostscope_sink_maintenance_failures_total',
      'Maintenance runs that failed.',
      this.maintenanceFailures,
    );
    let cumulative = 0;
    set.addFamily({
      name: 'hostscope_sink_write_duration_seconds',
      help: 'Time to write one batch to the database.',
      type: 'histogram',
      samples: [
        ...WRITE_BUCKETS.map((le, i) => {
          cumulative = this.writeBuckets[i] ?? 0;
          return { suffix: '_bucket', labels: { le: String(le) }, value: cumulative };
        }),
        { suffix: '_bucket', labels: { le: '+Inf' }, value: this.writeCount },
        { suffix: '_sum', labels: {}, value: this.writeSum },
        { suffix: '_count', labels: {}, value: this.writeCount },
      ],
    });
    return set.families();
  }
}
