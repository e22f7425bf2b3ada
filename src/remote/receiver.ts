import { isConnectionError, type Database } from '../db/database';
import type { Logger } from '../log/logger';
import { isCounterSample, SampleWriter } from '../sink/writer';
import type { PendingScrape } from '../sink/types';
import { ingestWriteRequest, metricTypeOf, sampleNamesOf, type IngestStats } from './ingest';
import type { MetricMetadata, WriteRequest } from './prompb';
import type { RemoteMetrics } from './remote-metrics';

/** The receiver cannot take a request now (database unreachable or failing, backlog full): 503. */
export class UnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

export interface ReceiverOptions {
  /** Samples older than this (from now) are skipped: the raw retention. */
  readonly pastMs: number;
  /** Largest number of samples waiting for a commit; past it requests get 503 (the sender retries). */
  readonly maxPendingSamples: number;
}

interface Waiting {
  readonly scrapes: readonly PendingScrape[];
  readonly samples: number;
  resolve(r: { written: number; skipped: number }): void;
  reject(err: unknown): void;
}

/**
 * Stores remote-written samples: requests that arrive while a commit runs wait and go together in the
 * next one (a group commit: one COPY for many small requests), and each request is answered only once
 * its samples are committed. Nothing is kept in memory across a failure: the sender keeps the samples
 * (Prometheus' WAL) and retries, and the writer's idempotent COPY makes the retry store each sample once.
 */
export class RemoteReceiver {
  private readonly writer: SampleWriter;
  private readonly metadata = new Map<string, MetricMetadata>();
  private queue: Waiting[] = [];
  private queuedSamples = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly metrics: RemoteMetrics,
    private readonly options: ReceiverOptions,
    /** Runs before the first write (the sink's migrations). */
    private readonly prepare: () => Promise<void> = async () => undefined,
  ) {
    this.writer = new SampleWriter(db, logger, { past: options.pastMs, future: 600_000 });
  }

  /** Stores one decoded request; resolves once committed. Throws InvalidWriteError or UnavailableError. */
  async receive(req: WriteRequest, nowMs = Date.now()): Promise<IngestStats> {
    const { scrapes, stats } = ingestWriteRequest(req, this.metadata, nowMs);
    this.metrics.histogramsDropped += stats.histograms;
    this.metrics.exemplarsDropped += stats.exemplars;
    this.metrics.samplesReceived += stats.samples;
    if (req.metadata.length > 0) await this.storeMetadata(req.metadata);
    if (stats.samples === 0) return stats;
    if (this.queuedSamples > 0 && this.queuedSamples + stats.samples > this.options.maxPendingSamples)
      throw new UnavailableError(
        `${this.queuedSamples} samples are waiting for the database (limit ${this.options.maxPendingSamples}); retry later`,
      );
    const result = await new Promise<{ written: number; skipped: number }>((resolve, reject) => {
      this.queue.push({ scrapes, samples: stats.samples, resolve, reject });
      this.queuedSamples += stats.samples;
      this.running ??= this.drain().finally(() => {
        this.running = undefined;
      });
    });
    this.metrics.samplesWritten += result.written;
    this.metrics.samplesSkipped += result.skipped;
    if (stats.newestMs !== undefined)
      this.metrics.newestSampleSeconds = Math.max(this.metrics.newestSampleSeconds, stats.newestMs / 1000);
    return stats;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let samples = 0;
      for (const w of batch) samples += w.samples;
      try {
        await this.prepare();
        const all = batch.flatMap((w) => w.scrapes);
        const r = await this.writer.write(all);
        // The writer reports totals; share them out per request for the metrics.
        for (const w of batch) {
          const skipped = Math.round((r.skipped * w.samples) / Math.max(1, samples));
          w.resolve({ written: w.samples - skipped, skipped });
        }
      } catch (err) {
        this.writer.resetCaches();
        const unavailable = new UnavailableError(
          isConnectionError(err) ? 'database unreachable' : 'writing to the database failed',
          { cause: err },
        );
        this.logger.error({ err, samples }, 'remote write: storing a batch failed; the sender retries');
        for (const w of batch) w.reject(unavailable);
      } finally {
        this.queuedSamples -= samples;
      }
    }
  }

  /**
   * Remembers metadata (metrics created later take their type from it) and corrects the type, help,
   * unit and counter flag of the metrics already stored, so that the hourly increase of a remote-written
   * counter is computed even when its samples arrived before its metadata (Prometheus sends metadata
   * apart from samples, once a minute).
   */
  private async storeMetadata(list: readonly MetricMetadata[]): Promise<void> {
    this.metrics.metadataReceived += list.length;
    const changed: MetricMetadata[] = [];
    for (const m of list) {
      if (m.family === '') continue;
      const old = this.metadata.get(m.family);
      if (old !== undefined && old.type === m.type && old.help === m.help && old.unit === m.unit) continue;
      changed.push(m);
    }
    if (changed.length === 0) return;
    const names: string[] = [];
    const families: string[] = [];
    const types: string[] = [];
    const counters: boolean[] = [];
    const helps: string[] = [];
    const units: string[] = [];
    for (const m of changed) {
      const type = metricTypeOf(m.type);
      for (const name of sampleNamesOf(m.family)) {
        names.push(name);
        families.push(m.family);
        types.push(type);
        counters.push(isCounterSample({ name: m.family, type, help: m.help, samples: [] }, name));
        helps.push(m.help);
        units.push(m.unit);
      }
    }
    try {
      await this.prepare();
      await this.db.query(
        `UPDATE hostscope.metrics m
            SET family = x.f, type = x.t, is_counter = x.c, help = x.h, unit = x.u
           FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[])
                AS x(n, f, t, c, h, u)
          WHERE m.name = x.n
            AND (m.family, m.type, m.is_counter, m.help, m.unit) IS DISTINCT FROM (x.f, x.t, x.c, x.h, x.u)`,
        [names, families, types, counters, helps, units].map((a) =>
          a.map((v) => (typeof v === 'string' ? v.replaceAll('\u0000', '\uFFFD') : v)),
        ),
      );
    } catch (err) {
      this.logger.error({ err }, 'remote write: storing metadata failed; the sender retries');
      throw new UnavailableError('storing metadata failed', { cause: err });
    }
    for (const m of changed) this.metadata.set(m.family, m);
  }
}
