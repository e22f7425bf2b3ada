import type { Logger } from '../../log/logger';
import type { PendingScrape } from '../types';
import type { DiskBatch, DiskBuffer } from './disk-buffer';
import { decodeRecord, encodeRecord, type ScrapeRecord } from './record';

/** A scrape as handed to the queue: parsed for a direct write, and as a record should it go to disk. */
export interface QueuedScrape {
  readonly pending: PendingScrape;
  readonly record: ScrapeRecord;
}

export type Batch =
  | { readonly from: 'memory'; readonly scrapes: readonly PendingScrape[]; readonly samples: number }
  | {
      readonly from: 'disk';
      readonly scrapes: readonly PendingScrape[];
      readonly samples: number;
      readonly disk: DiskBatch;
    };

/**
 * The hand-off between scraping and writing. While the database keeps up, scrapes wait in memory and are
 * written as parsed (nothing touches the disk). Once a write fails for lack of a connection, the scrapes
 * in memory move to the front of the disk buffer and every new scrape goes to disk behind them, until
 * the disk is read back to empty. Writes go oldest first, so order holds across both. A reachable but
 * slow database is not an outage: memory takes up to about `memoryMaxSamples` (see `backlogged`), and
 * memory holds at most that many parsed samples whatever the length of an outage.
 */
export class ScrapeQueue {
  private memory: QueuedScrape[] = [];
  private memorySamples = 0;
  private toDisk: boolean;

  constructor(
    readonly disk: DiskBuffer,
    /** Largest backlog kept in memory (parsed): one write batch. */
    private readonly memoryMaxSamples: number,
    private readonly logger: Logger,
    /** Rebuilds a parsed scrape from a record read back from disk. */
    private readonly rebuild: (record: ScrapeRecord) => Promise<PendingScrape>,
    /** Told when the queue no longer needs a record's body (see BodyPool). */
    private readonly releaseBody: (body: ScrapeRecord['body']) => void = () => undefined,
  ) {
    this.toDisk = !disk.empty;
  }

  /** Samples waiting: in memory, and synced to disk. */
  get samples(): number {
    return this.memorySamples + this.disk.samples;
  }

  get memoryScrapes(): number {
    return this.memory.length;
  }

  /**
   * True when memory holds `memoryMaxSamples` or more: the database is reachable but behind, and the
   * sink skips scrape rounds until it catches up (see Sink.tick). Going to disk would not help: the
   * compression, the reading back and the second parse cost more CPU than the write they wait for.
   */
  get backlogged(): boolean {
    return !this.toDisk && this.memorySamples >= this.memoryMaxSamples;
  }

  /** True while new scrapes go to disk. */
  get spilling(): boolean {
    return this.toDisk;
  }

  /**
   * Queues a scrape. In memory it is there at once; on its way to disk the promise resolves once it is
   * synced, which is what the caller waits for before its next scrape: a sink that cannot even compress
   * and append as fast as it scrapes skips scrape rounds (logged and counted) instead of piling up
   * bodies in memory.
   */
  async push(item: QueuedScrape): Promise<void> {
    if (this.toDisk) {
      const encoded = encodeRecord(item.record).finally(() => this.releaseBody(item.record.body));
      await this.disk.append([encoded]);
      return;
    }
    // In memory the body goes back at once: should this scrape have to go to disk after all (spill),
    // its parsed families are written instead.
    const { body, ...record } = item.record;
    this.memory.push({ pending: item.pending, record });
    this.memorySamples += item.pending.sampleCount;
    this.releaseBody(body);
  }

  /**
   * The oldest scrapes, up to about `maxSamples` samples (at least one scrape), without removing them:
   * from memory first (it only ever holds scrapes older than those on disk), then from disk. Records that
   * cannot be decoded are logged and skipped.
   */
  async next(maxSamples: number): Promise<Batch | undefined> {
    if (this.memory.length > 0) {
      const scrapes: PendingScrape[] = [];
      let samples = 0;
      for (const q of this.memory) {
        if (scrapes.length > 0 && samples + q.pending.sampleCount > maxSamples) break;
        scrapes.push(q.pending);
        samples += q.pending.sampleCount;
      }
      return { from: 'memory', scrapes, samples };
    }
    for (;;) {
      const disk = await this.disk.read(maxSamples);
      if (disk === undefined) {
        if (this.toDisk && this.disk.empty) this.toDisk = false;
        return undefined;
      }
      const scrapes: PendingScrape[] = [];
      for (const f of disk.frames) {
        try {
          scrapes.push(await this.rebuild(await decodeRecord(f.payload)));
        } catch (err) {
          this.disk.corruptSamples += f.samples;
          this.logger.error({ err, samples: f.samples }, 'could not decode a buffered scrape; skipped');
        }
      }
      if (scrapes.length === 0) {
        await this.disk.commit(disk);
        continue;
      }
      return { from: 'disk', scrapes, samples: disk.samples, disk };
    }
  }

  /** Removes a batch from next() once it is written (or given up). */
  async commit(batch: Batch): Promise<void> {
    if (batch.from === 'disk') {
      await this.disk.commit(batch.disk);
      // Back to direct writes once the disk is read to its end and nothing is on its way there.
      if (this.toDisk && this.memory.length === 0 && this.disk.empty) this.toDisk = false;
      return;
    }
    // Memory batches are a prefix of `memory`: nothing else removes from its front meanwhile.
    this.memory.splice(0, batch.scrapes.length);
    this.memorySamples -= batch.samples;
  }

  /**
   * Moves what waits in memory to disk, in front of everything there (it is older), and sends new scrapes
   * to disk: called when the database is unreachable, and on shutdown, so nothing is lost in a crash.
   * Resolves once it is synced.
   */
  async spill(): Promise<void> {
    this.toDisk = true;
    if (this.memory.length === 0) return;
    const moved = this.memory;
    this.memory = [];
    this.memorySamples = 0;
    await this.disk.append(
      moved.map((q) => encodeRecord(q.record)),
      'front',
    );
  }

  /** Spills memory and closes the disk buffer: what is buffered stays for the next start. */
  async close(): Promise<void> {
    await this.spill();
    await this.disk.close();
  }
}
