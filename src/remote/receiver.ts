import { BinaryCopyWriter } from '../db/binary-copy';
import { isConnectionError, type Database } from '../db/database';
import { hourStart } from '../db/partitions';
import type { Logger } from '../log/logger';
import { BlockBatch } from '../storage/block-batch';
import { isCounterSample, SampleWriter } from '../sink/writer';
import type { ParsedSample } from '../expfmt/types';
import type { PendingScrape } from '../sink/types';
import {
  ingestWriteRequest,
  InvalidWriteError,
  metricTypeOf,
  sampleNamesOf,
  type IngestStats,
} from './ingest';
import { decodeTimeSeries, type MetricMetadata, type TimeSeries } from './prompb';
import { ProtobufError, ProtoReader } from './protobuf';
import type { RemoteMetrics } from './remote-metrics';
import { LabelBytesCache } from './label-bytes-cache';
import { keySource, type WriteColumns } from './write-columns';

/**
 * Series i of a request in full. decodeWriteColumns walks the Label fields without looking inside them,
 * so a malformed Label message is found here: the request is malformed (400), as for decodeWriteColumns'
 * own ProtobufError, never an internal error (a 500, which Prometheus would retry forever).
 */
function decodeSeries(req: WriteColumns, i: number): TimeSeries {
  try {
    return decodeTimeSeries(
      new ProtoReader(req.buf, req.ranges[2 * i] as number, req.ranges[2 * i + 1] as number),
    );
  } catch (err) {
    if (err instanceof ProtobufError) throw new InvalidWriteError(`malformed series ${i}: ${err.message}`);
    throw err;
  }
}

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

/** Samples further in the future than this are skipped (as the scrape path does). */
const FUTURE_MS = 600_000;
/** Bound of the series id cache (keys of about 100-300 bytes); past it the cache starts over. */
const MAX_CACHED_SERIES = 2_000_000;
/**
 * Group COPYs at once, each on its own connection: while one commits (a WAL flush with PostgreSQL's
 * default synchronous_commit), the next streams its rows, so neither the server nor the sink waits idle.
 */
const MAX_COPIES = 2;
/**
 * The `source` of remote-written block rows: one for all of them, so that a sample sent again in
 * another request (Prometheus replays its WAL after a restart) meets its stored row and is merged into
 * it, never stored twice.
 */
const REMOTE_SOURCE = 0x72656d77; // "remw"
/** Bound of the (time, block) pairs remembered as written (RecentBlocks). */
const MAX_RECENT_BLOCKS = 1_000_000;

/**
 * The (time, block) pairs of block rows this receiver has sent to the database, newest times kept.
 * Prometheus cuts one scrape's samples into several requests, so one block row (BLOCK_WIDTH series at one
 * time) can get its samples from two groups: the later group merges into the row (an upsert) instead of
 * colliding with it in a COPY (which would turn its whole COPY into an upsert).
 */
class RecentBlocks {
  private readonly byTime = new Map<number, Set<number>>();
  private size = 0;

  has(timeMs: number, block: number): boolean {
    return this.byTime.get(timeMs)?.has(block) === true;
  }

  add(timeMs: number, block: number): void {
    let set = this.byTime.get(timeMs);
    if (set === undefined) {
      set = new Set();
      this.byTime.set(timeMs, set);
    }
    if (set.has(block)) return;
    set.add(block);
    // Forget the oldest times first (Map keeps insertion order): late pieces of them are rare, and
    // the COPY's collision fallback still stores them right.
    if (++this.size > MAX_RECENT_BLOCKS)
      for (const [t, old] of this.byTime) {
        if (t === timeMs) continue;
        this.byTime.delete(t);
        this.size -= old.size;
        if (this.size <= MAX_RECENT_BLOCKS * 0.9) break;
      }
  }
}

interface NewSeries {
  readonly scrapes: readonly PendingScrape[];
  /** The request's index of each (one-sample) series in `scrapes`. */
  readonly indexOf: ReadonlyMap<ParsedSample, number>;
}

interface Waiting {
  /** The request's samples in the accepted window: series id, time (ms) and value of each. */
  readonly ids: Float64Array;
  readonly times: Float64Array;
  readonly values: Float64Array;
  readonly rows: number;
  readonly hours: ReadonlySet<number>;
  resolve(r: { written: number }): void;
  reject(err: unknown): void;
}

/**
 * Stores remote-written samples. Each request's samples are put in columns as it arrives (its series
 * found by the raw bytes of their labels in a cache, so a series Prometheus sends again costs one map
 * lookup); requests that arrive while a COPY runs wait and go together in the next one (a group commit),
 * so decoding overlaps the database's work, and each request is answered only once its rows are
 * committed. A group is stored as block rows (samples_blocks, as scrapes are): the samples of up to
 * BLOCK_WIDTH series at one time in one row, so PostgreSQL pays its per-row and per-index-entry cost
 * once per block instead of once per sample. Nothing is kept in memory across a failure: the sender
 * keeps the samples (Prometheus' WAL) and retries, and the writer's idempotent COPY (a merge on a
 * collision) makes the retry store each sample once.
 */
export class RemoteReceiver {
  private readonly writer: SampleWriter;
  private readonly metadata = new Map<string, MetricMetadata>();
  /** Series id by the raw bytes of a TimeSeries' Label fields (see WriteColumns). */
  private readonly ids = new LabelBytesCache(MAX_CACHED_SERIES);
  private readonly recent = new RecentBlocks();
  private queue: Waiting[] = [];
  private queuedSamples = 0;
  /** Group COPYs under way (at most MAX_COPIES). */
  private copies = 0;
  /** Samples of the last request with samples (what refuseEarly expects of the next). */
  private lastRequestSamples = 0;
  /** The group being encoded (pooled). */
  private readonly blocks = new BlockBatch();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly metrics: RemoteMetrics,
    private readonly options: ReceiverOptions,
    /** Runs before the first write (the sink's migrations). */
    private readonly prepare: () => Promise<void> = async () => undefined,
  ) {
    this.writer = new SampleWriter(db, logger, { past: options.pastMs, future: FUTURE_MS });
  }

  /**
   * Stores one decoded request; resolves once committed. Throws InvalidWriteError (a series without a
   * name, an invalid or repeated label name: nothing of the request is stored) or UnavailableError.
   */
  async receive(req: WriteColumns, nowMs = Date.now()): Promise<IngestStats> {
    // Refused before any work on it: under overload every request decoded for nothing costs capacity.
    if (req.samples > 0) {
      this.lastRequestSamples = req.samples;
      this.refuseWhenFull(req.samples);
    }
    // The request's series ids, looked up once here (-1: new, resolved below).
    const ids = new Array<number>(req.series);
    const newSeries = this.newSeries(req, ids, nowMs);
    this.metrics.histogramsDropped += req.histograms;
    this.metrics.exemplarsDropped += req.exemplars;
    this.metrics.samplesReceived += req.samples;
    if (req.metadata.length > 0) await this.storeMetadata(req.metadata);
    const stats = {
      series: req.series,
      samples: req.samples,
      histograms: req.histograms,
      exemplars: req.exemplars,
      newestMs: undefined as number | undefined,
    };
    if (req.samples === 0) return stats;
    if (newSeries !== undefined)
      try {
        await this.resolve(req, newSeries, ids);
      } catch (err) {
        this.writer.resetCaches();
        this.logger.error({ err }, 'remote write: creating series failed; the sender retries');
        throw new UnavailableError(
          isConnectionError(err) ? 'database unreachable' : 'writing to the database failed',
          { cause: err },
        );
      }
    const { rows, hours, newestMs, ...columns } = this.window(req, ids, nowMs);
    stats.newestMs = newestMs;
    const skipped = req.samples - rows;
    let written = 0;
    if (rows > 0) {
      this.queuedSamples += rows;
      const result = await new Promise<{ written: number }>((resolve, reject) => {
        this.queue.push({ ...columns, rows, hours, resolve, reject });
        this.drain();
      });
      written = result.written;
    }
    this.metrics.samplesWritten += written;
    this.metrics.samplesSkipped += skipped + (rows - written);
    if (newestMs !== undefined)
      this.metrics.newestSampleSeconds = Math.max(this.metrics.newestSampleSeconds, newestMs / 1000);
    return stats;
  }

  /**
   * Throws UnavailableError when `samples` more would pass --remote-write.max-pending-samples (one request
   * is always taken when nothing waits, however big).
   */
  private refuseWhenFull(samples: number): void {
    if (this.queuedSamples > 0 && this.queuedSamples + samples > this.options.maxPendingSamples)
      throw new UnavailableError(
        `${this.queuedSamples} samples are waiting for the database (limit ${this.options.maxPendingSamples}); retry later`,
      );
  }

  /**
   * Refuses (UnavailableError) a request not decoded yet when one of the size of the last one would not
   * fit: the handler asks before decompressing and decoding a body it would then refuse.
   */
  refuseEarly(): void {
    this.refuseWhenFull(this.lastRequestSamples);
  }

  /**
   * The series of a request not in the cache, decoded and checked (throws InvalidWriteError), as pending
   * batches (by job and instance) of one sample each, with the key of each sample's series; undefined
   * when the cache knows them all.
   */
  private newSeries(req: WriteColumns, ids: number[], nowMs: number): NewSeries | undefined {
    let missing: TimeSeries[] | undefined;
    const index: number[] = [];
    for (let i = 0; i < req.series; i++) {
      const id = this.ids.get(
        req.keyHash[i] as number,
        keySource(req, i),
        req.keyStart[i] as number,
        req.keyEnd[i] as number,
      );
      ids[i] = id;
      if (id >= 0) continue;
      const ts = decodeSeries(req, i);
      (missing ??= []).push({ ...ts, timestamps: [nowMs], values: [0], histograms: 0, exemplars: 0 });
      index.push(i);
    }
    if (missing === undefined) return undefined;
    const indexOf = new Map<ParsedSample, number>();
    const { scrapes } = ingestWriteRequest(
      { timeseries: missing, metadata: [] },
      this.metadata,
      nowMs,
      (i, s) => indexOf.set(s, index[i] as number),
    );
    return { scrapes, indexOf };
  }

  /** Creates (or finds) the series of `fresh`, fills in their ids and caches them. */
  private async resolve(req: WriteColumns, fresh: NewSeries, ids: number[]): Promise<void> {
    await this.prepare();
    for (const scrape of fresh.scrapes) {
      const found = await this.writer.seriesIds(scrape);
      let j = 0;
      for (const f of scrape.families)
        for (const s of f.samples) {
          const i = fresh.indexOf.get(s) as number;
          const id = found[j++] as number;
          ids[i] = id;
          this.ids.set(
            req.keyHash[i] as number,
            keySource(req, i),
            req.keyStart[i] as number,
            req.keyEnd[i] as number,
            id,
          );
        }
    }
  }

  /** A request's samples in the accepted time window, in columns, with their head hours. */
  private window(
    req: WriteColumns,
    ids: readonly number[],
    nowMs: number,
  ): {
    ids: Float64Array;
    times: Float64Array;
    values: Float64Array;
    rows: number;
    hours: Set<number>;
    newestMs: number | undefined;
  } {
    const low = nowMs - this.options.pastMs;
    const high = nowMs + FUTURE_MS;
    const hours = new Set<number>();
    const { first, times, values } = req;
    const outIds = new Float64Array(req.samples);
    const outTimes = new Float64Array(req.samples);
    const outValues = new Float64Array(req.samples);
    let rows = 0;
    let newest = -Infinity;
    let lastT = NaN;
    for (let i = 0; i < req.series; i++) {
      const id = ids[i] as number;
      if (!(id >= 0)) throw new Error('remote write: a series was not resolved');
      const end = first[i + 1] as number;
      for (let j = first[i] as number; j < end; j++) {
        const t = times[j] as number;
        if (t !== lastT) {
          if (!(t >= low && t <= high)) continue;
          lastT = t;
          hours.add(hourStart(t));
          if (t > newest) newest = t;
        }
        outIds[rows] = id;
        outTimes[rows] = t;
        outValues[rows] = values[j] as number;
        rows++;
      }
    }
    return {
      ids: outIds.subarray(0, rows),
      times: outTimes.subarray(0, rows),
      values: outValues.subarray(0, rows),
      rows,
      hours,
      newestMs: rows > 0 ? newest : undefined,
    };
  }

  /**
   * Starts a group COPY of everything queued, unless MAX_COPIES are under way already (the queue then
   * waits for the next free one, growing into a bigger group meanwhile).
   */
  private drain(): void {
    while (this.queue.length > 0 && this.copies < MAX_COPIES) {
      const batch = this.queue;
      this.queue = [];
      this.copies++;
      void this.store(batch).finally(() => {
        this.copies--;
        this.drain();
      });
    }
  }

  /** One group COPY; answers each request of the group once it is committed (or failed). */
  private async store(batch: readonly Waiting[]): Promise<void> {
    let rows = 0;
    for (const w of batch) rows += w.rows;
    try {
      await this.prepare();
      const hours = new Set<number>();
      for (const w of batch) for (const h of w.hours) hours.add(h);
      const { fresh, seen } = this.encodeBlocks(batch);
      const written = await this.writer.storeBlocks(fresh, seen, hours);
      // Repeated samples (a retry, or one sent twice) are not written again: share the count out.
      for (const w of batch)
        w.resolve({
          written: written === rows ? w.rows : Math.round((written * w.rows) / Math.max(1, rows)),
        });
    } catch (err) {
      this.writer.resetCaches();
      this.ids.clear();
      const unavailable = new UnavailableError(
        isConnectionError(err) ? 'database unreachable' : 'writing to the database failed',
        { cause: err },
      );
      this.logger.error({ err, samples: rows }, 'remote write: storing a batch failed; the sender retries');
      for (const w of batch) w.reject(unavailable);
    } finally {
      this.queuedSamples -= rows;
    }
  }

  /**
   * A group's samples as block rows: those at (time, block) pairs not written before as one COPY
   * payload, the others (the rest of a block row an earlier group started) as a payload to merge. The
   * first sample of a series at a time wins, as in samples_raw's primary key.
   */
  private encodeBlocks(batch: readonly Waiting[]): {
    fresh: { payload: Buffer; samples: number } | undefined;
    seen: Buffer | undefined;
  } {
    const blocks = this.blocks;
    blocks.clear();
    try {
      for (const w of batch) {
        let lastT = NaN;
        for (let k = 0; k < w.rows; k++) {
          const t = w.times[k] as number;
          if (t !== lastT) {
            lastT = t;
            blocks.at(t, REMOTE_SOURCE);
          }
          blocks.add(w.ids[k] as number, w.values[k] as number);
        }
      }
      const recent = this.recent;
      let anySeen = false;
      const freshCopy = new BinaryCopyWriter(1 << 16);
      const encoded = blocks.encode(freshCopy, (t, _source, block) => {
        if (!recent.has(t, block)) return true;
        anySeen = true;
        return false;
      });
      let seen: Buffer | undefined;
      if (anySeen) {
        const seenCopy = new BinaryCopyWriter(1 << 12);
        blocks.encode(seenCopy, (t, _source, block) => recent.has(t, block));
        seen = seenCopy.finish();
      }
      const fresh = encoded.rows > 0 ? { payload: freshCopy.finish(), samples: encoded.samples } : undefined;
      // Remembered before the COPY: a group built meanwhile merges into these rows rather than collide.
      for (const t of blocks.timesMs()) for (const b of blocks.blocksAt(t, REMOTE_SOURCE)) recent.add(t, b);
      return { fresh, seen };
    } finally {
      blocks.clear();
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
