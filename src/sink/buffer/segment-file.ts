import { open, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32 } from './crc32';
import type { EncodedRecord } from './record';

/**
 * One segment file of the outage buffer: an 8-byte magic, then frames appended one after the other:
 *
 *   [payload length u32][samples u32][scrape time ms f64][CRC-32 of the 16 bytes before and the payload u32]
 *   [payload]
 *
 * all big-endian. The CRC makes a torn or damaged frame detectable (a `kill -9` or power loss during a
 * write); the sample count and time in the header let a restart account for a segment by reading its
 * headers only. Segments are only ever appended to and deleted whole.
 */
export const SEGMENT_MAGIC = Buffer.from('HSBUF\x00\x01\n', 'latin1');
export const FRAME_HEADER_BYTES = 20;
/** Larger lengths can only come from a damaged header. */
const MAX_PAYLOAD_BYTES = 2 ** 31;

export interface FrameHeader {
  readonly length: number;
  readonly samples: number;
  readonly timeMs: number;
  readonly crc: number;
}

export function encodeFrame(record: EncodedRecord): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + record.payload.length);
  frame.writeUInt32BE(record.payload.length, 0);
  frame.writeUInt32BE(record.samples, 4);
  frame.writeDoubleBE(record.timeMs, 8);
  frame.writeUInt32BE(crc32(record.payload, crc32(frame.subarray(0, 16))), 16);
  record.payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function parseFrameHeader(buf: Buffer): FrameHeader {
  return {
    length: buf.readUInt32BE(0),
    samples: buf.readUInt32BE(4),
    timeMs: buf.readDoubleBE(8),
    crc: buf.readUInt32BE(16),
  };
}

export function frameIsValid(header: Buffer, payload: Buffer): boolean {
  return crc32(payload, crc32(header.subarray(0, 16))) === header.readUInt32BE(16);
}

const NAME = /^(\d{12})\.seg$/;

/** Segment files are named by a sequence number: name order is age order. */
export function segmentName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.seg`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = NAME.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export interface SegmentScan {
  readonly fileBytes: number;
  /** Length of the file up to the end of its last complete frame (0 without a valid magic). */
  readonly validBytes: number;
  readonly records: number;
  readonly samples: number;
  readonly firstTimeMs?: number;
  readonly lastTimeMs?: number;
  readonly problem?: 'bad-magic' | 'torn-tail';
}

async function readExactly(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
  return buf;
}

/**
 * Accounts for a segment by walking its frame headers (payloads are checked when they are replayed). A
 * frame that runs past the end of the file is a torn tail: the write that a crash interrupted.
 */
export async function scanSegment(file: string): Promise<SegmentScan> {
  const fh = await open(file, 'r');
  try {
    const fileBytes = (await fh.stat()).size;
    if (fileBytes < SEGMENT_MAGIC.length)
      return { fileBytes, validBytes: 0, records: 0, samples: 0, problem: 'bad-magic' };
    if (!(await readExactly(fh, SEGMENT_MAGIC.length, 0)).equals(SEGMENT_MAGIC))
      return { fileBytes, validBytes: 0, records: 0, samples: 0, problem: 'bad-magic' };
    let pos = SEGMENT_MAGIC.length;
    let records = 0;
    let samples = 0;
    let firstTimeMs: number | undefined;
    let lastTimeMs: number | undefined;
    let problem: 'torn-tail' | undefined;
    while (pos < fileBytes) {
      if (pos + FRAME_HEADER_BYTES > fileBytes) {
        problem = 'torn-tail';
        break;
      }
      const h = parseFrameHeader(await readExactly(fh, FRAME_HEADER_BYTES, pos));
      if (h.length > MAX_PAYLOAD_BYTES || pos + FRAME_HEADER_BYTES + h.length > fileBytes) {
        problem = 'torn-tail';
        break;
      }
      pos += FRAME_HEADER_BYTES + h.length;
      records++;
      samples += h.samples;
      firstTimeMs ??= h.timeMs;
      lastTimeMs = h.timeMs;
    }
    return {
      fileBytes,
      validBytes: pos,
      records,
      samples,
      ...(firstTimeMs === undefined ? {} : { firstTimeMs }),
      ...(lastTimeMs === undefined ? {} : { lastTimeMs }),
      ...(problem === undefined ? {} : { problem }),
    };
  } finally {
    await fh.close();
  }
}

export interface ReadFrame {
  readonly payload: Buffer;
  readonly samples: number;
  readonly timeMs: number;
  /** Offset just past this frame. */
  readonly end: number;
}

export interface ReadResult {
  readonly frames: ReadFrame[];
  /** Offset of the first frame whose CRC (or length) does not check out, if one was met. */
  readonly corruptAt?: number;
}

/**
 * Reads frames from `from` up to `limit` (bytes known to be synced), stopping once `maxSamples` are
 * reached (always at least one frame), and checking each frame's CRC.
 */
export async function readFrames(
  file: string,
  from: number,
  limit: number,
  maxSamples: number,
): Promise<ReadResult> {
  const fh = await open(file, 'r');
  try {
    const frames: ReadFrame[] = [];
    let pos = from;
    let samples = 0;
    while (pos < limit && (frames.length === 0 || samples < maxSamples)) {
      if (pos + FRAME_HEADER_BYTES > limit) return { frames, corruptAt: pos };
      const header = await readExactly(fh, FRAME_HEADER_BYTES, pos);
      const h = parseFrameHeader(header);
      if (pos + FRAME_HEADER_BYTES + h.length > limit) return { frames, corruptAt: pos };
      const payload = await readExactly(fh, h.length, pos + FRAME_HEADER_BYTES);
      if (!frameIsValid(header, payload)) return { frames, corruptAt: pos };
      pos += FRAME_HEADER_BYTES + h.length;
      frames.push({ payload, samples: h.samples, timeMs: h.timeMs, end: pos });
      samples += h.samples;
    }
    return { frames };
  } finally {
    await fh.close();
  }
}

/** fsync of a directory, so that a file created (or renamed) in it survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The open tail segment: appends frames and syncs them to disk before they count. */
export class SegmentAppender {
  private constructor(
    private readonly fh: FileHandle,
    /** Bytes written and synced. */
    public size: number,
  ) {}

  /** Creates the file (never reusing a name), writes the magic, and syncs the file and its directory. */
  static async create(file: string): Promise<SegmentAppender> {
    const fh = await open(file, 'wx');
    try {
      await fh.write(SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0);
      await fh.datasync();
      await syncDirectory(path.dirname(file));
      return new SegmentAppender(fh, SEGMENT_MAGIC.length);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Writes the frames at the end and fdatasyncs (data and file size) before returning. */
  async append(frames: readonly Buffer[]): Promise<void> {
    const buf = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, this.size + done);
      done += bytesWritten;
    }
    await this.fh.datasync();
    this.size += buf.length;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
