import { mkdir, readdir, rename, truncate, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { describe } from '../../errors';
import { lockBufferDir } from './dir-lock';
import type { Logger } from '../../log/logger';
import type { EncodedRecord } from './record';
import {
  encodeFrame,
  parseSegmentName,
  readFrames,
  scanSegment,
  SEGMENT_MAGIC,
  SegmentAppender,
  segmentName,
  syncDirectory,
  type ReadFrame,
} from './segment-file';

export interface DiskBufferOptions {
  readonly dir: string;
  /** Bound of the segment files' total size; past it the oldest segments are deleted. */
  readonly maxBytes: number;
  /** A segment is closed (and a new one started) once it reaches this size. */
  readonly segmentBytes: number;
}

/** What memory holds per segment: this metadata only, never the records. */
interface Segment {
  readonly seq: number;
  readonly file: string;
  /** Synced size of the file: what counts towards --buffer.max-bytes. */
  bytes: number;
  /** Offset of the oldest record not yet committed to the database. */
  readFrom: number;
  /** Where readable records end: the synced size, or the first damaged frame. */
  limit: number;
  /** Records and samples from readFrom on. */
  records: number;
  samples: number;
  lastTimeMs?: number;
  /** Set on the tail segment while it is open for appends. */
  appender?: SegmentAppender;
}

export interface DiskBatch {
  readonly frames: readonly ReadFrame[];
  readonly seq: number;
  readonly end: number;
  readonly samples: number;
}

/** First sequence number in an empty directory: leaves room below for segments put in front (spills). */
const FIRST_SEQ = 1_000_000_000;

/**
 * The outage buffer on disk: a queue of records in append-only segment files, oldest first. Only
 * per-segment counters live in memory, so memory does not grow with the outage. Every operation (append,
 * read, commit, drop) runs one after the other in call order, which keeps the files and the counters
 * consistent without locks, and keeps records in the order they were handed in.
 */
export class DiskBuffer {
  droppedSamples = 0;
  droppedScrapes = 0;
  /** Samples lost to a damaged frame found on replay. */
  corruptSamples = 0;
  /** Samples that could not be written to disk (I/O error, disk full). */
  failedSamples = 0;
  private segments: Segment[] = [];
  private nextSeq = FIRST_SEQ;
  private chain: Promise<unknown> = Promise.resolve();
  private pending = 0;

  private constructor(
    readonly options: DiskBufferOptions,
    private readonly logger: Logger,
    private readonly unlock: () => void,
  ) {}

  /**
   * Opens (creating) the directory and accounts for the segments a previous run left: a torn tail is
   * cut off, a file that is not a segment is set aside as `*.bad`.
   */
  static async open(options: DiskBufferOptions, logger: Logger): Promise<DiskBuffer> {
    await mkdir(options.dir, { recursive: true });
    const buffer = new DiskBuffer(options, logger, lockBufferDir(options.dir));
    try {
      await buffer.load();
    } catch (err) {
      buffer.unlock();
      throw err;
    }
    return buffer;
  }

  private async load(): Promise<void> {
    const { options, logger } = this;
    const names = (await readdir(options.dir))
      .map((name) => ({ name, seq: parseSegmentName(name) }))
      .filter((e): e is { name: string; seq: number } => e.seq !== undefined)
      .sort((a, b) => a.seq - b.seq);
    for (const { name, seq } of names) {
      const file = path.join(options.dir, name);
      const scan = await scanSegment(file);
      if (scan.problem === 'bad-magic') {
        if (scan.fileBytes <= SEGMENT_MAGIC.length) {
          await unlink(file); // created, crashed before its first record
        } else {
          await rename(file, `${file}.bad`);
          logger.error({ file, bytes: scan.fileBytes }, 'not a buffer segment; renamed to *.bad and skipped');
        }
        continue;
      }
      if (scan.problem === 'torn-tail') {
        logger.warn(
          { file, validBytes: scan.validBytes, tornBytes: scan.fileBytes - scan.validBytes },
          'buffer segment ends in an incomplete record (a crash during a write); cutting it off',
        );
        await truncate(file, scan.validBytes);
      }
      if (scan.records === 0) {
        await unlink(file);
        continue;
      }
      this.segments.push({
        seq,
        file,
        bytes: scan.validBytes,
        readFrom: SEGMENT_MAGIC.length,
        limit: scan.validBytes,
        records: scan.records,
        samples: scan.samples,
        ...(scan.lastTimeMs === undefined ? {} : { lastTimeMs: scan.lastTimeMs }),
      });
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    if (this.segments.length > 0)
      logger.info(
        {
          dir: options.dir,
          segments: this.segments.length,
          scrapes: this.scrapes,
          samples: this.samples,
        },
        'found buffered scrapes from a previous run; they are written first',
      );
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  get samples(): number {
    let n = 0;
    for (const s of this.segments) n += s.samples;
    return n;
  }

  get scrapes(): number {
    let n = 0;
    for (const s of this.segments) n += s.records;
    return n;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** True when nothing is on disk or on its way there. */
  get empty(): boolean {
    return this.pending === 0 && this.scrapes === 0;
  }

  /**
   * Appends records, in order, behind everything buffered ('back'), or in a new segment before
   * everything buffered ('front': scrapes older than all on disk, which a failed write hands back).
   * Resolves once they are synced to disk (or dropped); never rejects: failures are logged and counted.
   */
  append(records: readonly Promise<EncodedRecord>[], where: 'back' | 'front' = 'back'): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    this.pending++;
    return this.serial(async () => {
      try {
        const encoded: EncodedRecord[] = [];
        for (const r of records) {
          try {
            encoded.push(await r);
          } catch (err) {
            this.logger.error(
              { err: { message: describe(err) } },
              'could not encode a scrape for the buffer',
            );
          }
        }
        if (where === 'front') await this.prepend(encoded);
        else for (const r of encoded) await this.appendOne(r);
      } finally {
        this.pending--;
      }
    });
  }

  /** The oldest records, up to about `maxSamples` samples (at least one record), without removing them. */
  read(maxSamples: number): Promise<DiskBatch | undefined> {
    return this.serial(async () => {
      for (;;) {
        const seg = this.segments[0];
        if (seg === undefined) return undefined;
        if (seg.readFrom >= seg.limit) {
          if (seg.appender !== undefined) return undefined; // the open tail, read to its end
          await this.remove(seg);
          continue;
        }
        const r = await readFrames(seg.file, seg.readFrom, seg.limit, maxSamples);
        let samples = 0;
        for (const f of r.frames) samples += f.samples;
        if (r.corruptAt !== undefined) this.damaged(seg, r.corruptAt, r.frames.length, samples);
        const last = r.frames[r.frames.length - 1];
        if (last === undefined) continue;
        return { frames: r.frames, seq: seg.seq, end: last.end, samples };
      }
    });
  }

  /**
   * Marks a batch from read() as committed; a segment read to its end is deleted. A batch whose segment
   * was dropped meanwhile (buffer full) is ignored.
   */
  commit(batch: DiskBatch): Promise<void> {
    return this.serial(async () => {
      const seg = this.segments.find((s) => s.seq === batch.seq);
      if (seg === undefined || batch.end <= seg.readFrom) return;
      seg.readFrom = batch.end;
      seg.records -= batch.frames.length;
      seg.samples -= batch.samples;
      if (seg.readFrom >= seg.limit) await this.remove(seg);
    });
  }

  /** Waits for pending appends, closes the tail segment (its records stay for the next start), unlocks. */
  close(): Promise<void> {
    return this.serial(async () => {
      for (const s of this.segments) {
        const a = s.appender;
        delete s.appender;
        await a?.close();
      }
      this.unlock();
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async appendOne(record: EncodedRecord): Promise<void> {
    const frame = encodeFrame(record);
    const { maxBytes, segmentBytes } = this.options;
    if (frame.length + SEGMENT_MAGIC.length > maxBytes) {
      this.drop([], record, 'one scrape is larger than --buffer.max-bytes; dropped it');
      return;
    }
    let tail = this.segments[this.segments.length - 1];
    const needsSegment = (s: Segment | undefined): boolean =>
      s?.appender === undefined || s.bytes >= segmentBytes;
    const room = (s: Segment | undefined): number =>
      frame.length + (needsSegment(s) ? SEGMENT_MAGIC.length : 0);
    const dropped: Segment[] = [];
    while (this.bytes + room(tail) > maxBytes) {
      const oldest = this.segments[0];
      if (oldest === undefined) break;
      dropped.push(oldest);
      await this.remove(oldest);
      tail = this.segments[this.segments.length - 1];
    }
    if (dropped.length > 0)
      this.drop(dropped, undefined, 'buffer full (--buffer.max-bytes); dropped the oldest scrapes');
    try {
      if (needsSegment(tail)) {
        const previous = tail?.appender;
        if (tail !== undefined) delete tail.appender;
        await previous?.close();
        tail = await this.createSegment(this.nextSeq++, 'back');
      }
      await this.write(tail as Segment, [frame], [record]);
    } catch (err) {
      this.failed([record], err);
    }
  }

  private async prepend(records: EncodedRecord[]): Promise<void> {
    const frames = records.map(encodeFrame);
    let size = SEGMENT_MAGIC.length;
    for (const f of frames) size += f.length;
    // These are older than everything on disk, so they are the first to go when there is no room.
    let cut = 0;
    while (cut < frames.length && this.bytes + size > this.options.maxBytes) {
      size -= (frames[cut] as Buffer).length;
      cut++;
    }
    if (cut > 0) {
      this.droppedScrapes += cut;
      const lost = records.slice(0, cut);
      let samples = 0;
      for (const r of lost) samples += r.samples;
      this.droppedSamples += samples;
      this.logger.error(
        { samples, scrapes: cut, through: new Date((lost[cut - 1] as EncodedRecord).timeMs).toISOString() },
        'buffer full (--buffer.max-bytes); dropped the oldest scrapes',
      );
    }
    if (cut === frames.length) return;
    const first = this.segments[0];
    const seq = first === undefined ? this.nextSeq++ : first.seq - 1;
    try {
      const seg = await this.createSegment(seq, 'front');
      await this.write(seg, frames.slice(cut), records.slice(cut));
      const a = seg.appender;
      delete seg.appender; // a front segment takes no further appends
      await a?.close();
    } catch (err) {
      this.failed(records.slice(cut), err);
    }
  }

  private async createSegment(seq: number, where: 'back' | 'front'): Promise<Segment> {
    const file = path.join(this.options.dir, segmentName(seq));
    const appender = await SegmentAppender.create(file);
    const seg: Segment = {
      seq,
      file,
      bytes: appender.size,
      readFrom: appender.size,
      limit: appender.size,
      records: 0,
      samples: 0,
      appender,
    };
    if (where === 'front') this.segments.unshift(seg);
    else this.segments.push(seg);
    return seg;
  }

  /** Writes and syncs; only then do the records count as buffered. */
  private async write(seg: Segment, frames: Buffer[], records: readonly EncodedRecord[]): Promise<void> {
    const appender = seg.appender;
    if (appender === undefined) throw new Error(`segment ${seg.file} is closed`);
    try {
      await appender.append(frames);
    } catch (err) {
      // Whatever part of the write reached the file is past `limit` and never read; start afresh.
      delete seg.appender;
      await appender.close().catch(() => undefined);
      if (seg.records === 0) await this.remove(seg).catch(() => undefined);
      throw err;
    }
    seg.bytes = appender.size;
    seg.limit = appender.size;
    for (const r of records) {
      seg.records++;
      seg.samples += r.samples;
      seg.lastTimeMs = r.timeMs;
    }
  }

  private async remove(seg: Segment): Promise<void> {
    this.segments = this.segments.filter((s) => s !== seg);
    const a = seg.appender;
    delete seg.appender;
    await a?.close().catch(() => undefined);
    await unlink(seg.file).catch((err: unknown) => {
      this.logger.error(
        { err: { message: describe(err) }, file: seg.file },
        'could not delete a buffer segment',
      );
    });
    if (this.segments.length === 0) await syncDirectory(this.options.dir).catch(() => undefined);
  }

  private drop(segments: readonly Segment[], record: EncodedRecord | undefined, message: string): void {
    let samples = record?.samples ?? 0;
    let scrapes = record === undefined ? 0 : 1;
    let bytes = record === undefined ? 0 : record.payload.length;
    let through = record?.timeMs;
    for (const s of segments) {
      samples += s.samples;
      scrapes += s.records;
      bytes += s.bytes;
      through = s.lastTimeMs ?? through;
    }
    this.droppedSamples += samples;
    this.droppedScrapes += scrapes;
    this.logger.error(
      {
        samples,
        scrapes,
        bytes,
        maxBytes: this.options.maxBytes,
        ...(through === undefined ? {} : { through: new Date(through).toISOString() }),
      },
      message,
    );
  }

  private damaged(seg: Segment, at: number, goodRecords: number, goodSamples: number): void {
    const lostSamples = seg.samples - goodSamples;
    const lostRecords = seg.records - goodRecords;
    this.corruptSamples += lostSamples;
    seg.limit = at;
    seg.samples = goodSamples;
    seg.records = goodRecords;
    this.logger.error(
      { file: seg.file, offset: at, scrapes: lostRecords, samples: lostSamples },
      'damaged record in a buffer segment (checksum or length); skipping the rest of the segment',
    );
    const a = seg.appender;
    if (a !== undefined) {
      delete seg.appender; // append to a fresh segment, never after damage
      void a.close().catch(() => undefined);
    }
  }

  private failed(records: readonly EncodedRecord[], err: unknown): void {
    let samples = 0;
    for (const r of records) samples += r.samples;
    this.failedSamples += samples;
    this.logger.error(
      { err: { message: describe(err) }, dir: this.options.dir, scrapes: records.length, samples },
      'could not write scrapes to the buffer directory; they are lost',
    );
  }
}
