import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

const WRITE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The buffer's figures, read at each scrape of the sink's /metrics. */
export interface BufferStats {
  /** Samples waiting: in memory, and synced to the disk buffer. */
  readonly samples: number;
  /** Size of the disk buffer's segment files, and its bound (--buffer.max-bytes). */
  readonly bytes: number;
  readonly maxBytes: number;
  readonly segments: number;
  /** Dropped because the disk buffer was full (oldest first). */
  readonly droppedSamples: number;
  /** Lost to a damaged record found when reading the disk buffer back. */
  readonly corruptSamples: number;
  /** Lost because they could not be written to the buffer directory. */
  readonly failedSamples: number;
  /** In batches the database rejected three times. */
  readonly rejectedSamples: number;
  /** Skipped by the writer: duplicate series in a scrape, timestamp out of range. */
  readonly skipped: number;
}

const DROPPED_HELP =
  'Samples not stored, by reason: buffer_full (the disk buffer reached --buffer.max-bytes; the oldest go), buffer_damaged (a damaged record in a buffer segment), buffer_write_failed (the buffer directory could not be written), rejected (a batch the database refused three times), skipped (duplicate series in a scrape, timestamp out of range).';

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
  /** Scrape rounds started (ticks of the schedule that were not skipped, and --once). */
  rounds = 0;
  /** Scrapes that followed a target's first successful one within its round (Sink.followUp). */
  followUpScrapes = 0;
  /** Ticks of the scrape schedule skipped because the previous round was still running. */
  roundsSkipped = 0;
  roundsSkippedBacklog = 0;
  /** Slots of the scrape schedule passed unrun because its timer fired late (a blocked event loop). */
  roundsSkippedLate = 0;
  /** Jumps of the sink's wall clock seen by the scrape schedule (see ScrapeSchedule). */
  clockJumps = 0;

  constructor(private readonly buffer: () => BufferStats) {}

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

  /** Samples not stored, by reason (hostscope_sink_samples_dropped_total). */
  dropped(): Record<string, number> {
    const b = this.buffer();
    return {
      buffer_damaged: b.corruptSamples,
      buffer_full: b.droppedSamples,
      buffer_write_failed: b.failedSamples,
      rejected: b.rejectedSamples,
      skipped: b.skipped,
    };
  }

  /** The process's totals, for its last log line: what it scraped and what became of the samples. */
  totals(): { written: number; scrapes: number; scrapeFailures: number; dropped: Record<string, number> } {
    let scrapes = 0;
    let scrapeFailures = 0;
    for (const s of this.scrapes.values()) {
      scrapes += s.total;
      scrapeFailures += s.failures;
    }
    return { written: this.samplesWritten, scrapes, scrapeFailures, dropped: this.dropped() };
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
    set.gauge(
      'hostscope_sink_buffer_samples',
      'Samples waiting to be written: in memory while the database keeps up, on disk (synced) while it does not.',
      b.samples,
    );
    set.gauge(
      'hostscope_sink_buffer_bytes',
      'Size of the disk buffer (segment files under --buffer.dir), 16 to 18 bytes per sample measured with random full-precision values.',
      b.bytes,
    );
    set.gauge(
      'hostscope_sink_buffer_max_bytes',
      'Bound of the disk buffer (--buffer.max-bytes).',
      b.maxBytes,
    );
    set.gauge('hostscope_sink_buffer_segments', 'Segment files in the disk buffer.', b.segments);
    for (const [reason, value] of Object.entries(this.dropped()))
      set.counter('hostscope_sink_samples_dropped_total', DROPPED_HELP, value, { reason });
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
      'hostscope_sink_scrape_rounds_total',
      'Scrape rounds started: ticks of the scrape schedule that were not skipped (and the one round of --once).',
      this.rounds,
    );
    set.counter(
      'hostscope_sink_follow_up_scrapes_total',
      "Scrapes taken 1 s and 2 s after a target's first successful scrape, within the same round, so that rates (CPU, throughput) exist at once; also in hostscope_sink_scrapes_total.",
      this.followUpScrapes,
    );
    const skippedHelp =
      'Ticks of the scrape schedule skipped: reason "overrun", the previous round was still running; "backlog", the database was reachable but more than --buffer.max-samples behind; "late", the schedule\'s timer fired an interval or more late (a blocked event loop) and ran only the latest slot.';
    set.counter('hostscope_sink_scrape_rounds_skipped_total', skippedHelp, this.roundsSkipped, {
      reason: 'overrun',
    });
    set.counter('hostscope_sink_scrape_rounds_skipped_total', skippedHelp, this.roundsSkippedBacklog, {
      reason: 'backlog',
    });
    set.counter('hostscope_sink_scrape_rounds_skipped_total', skippedHelp, this.roundsSkippedLate, {
      reason: 'late',
    });
    set.counter(
      'hostscope_sink_clock_jumps_total',
      "Jumps of the sink's wall clock (more than 1 s beyond the time that passed, forward or back) seen between two ticks of the scrape schedule; each is logged. Rounds go on one interval apart, stamped with the new time.",
      this.clockJumps,
    );
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
