import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { crc32, tableCrc32 } from '../../../../src/sink/buffer/crc32';
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  parseSegmentName,
  readFrames,
  scanSegment,
  SEGMENT_MAGIC,
  SegmentAppender,
  segmentName,
} from '../../../../src/sink/buffer/segment-file';
import { tempDir } from './helpers';

/** XORs one byte of a file's contents: damage. */
function flip(bytes: Buffer, at: number, mask: number): void {
  bytes.writeUInt8((bytes.readUInt8(at) ^ mask) & 0xff, at);
}

const record = (n: number, size = 100): { payload: Buffer; samples: number; timeMs: number } => ({
  payload: Buffer.alloc(size, n),
  samples: n,
  timeMs: n * 1000,
});

describe('crc32', () => {
  it('gives the standard check value and continues across chunks', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
  it('computes the same values portably as natively, whole and continued', () => {
    for (const text of [
      '123456789',
      '',
      'x',
      'a longer line of exposition text {a="b"} 1.5e+10\n'.repeat(300),
    ]) {
      const b = Buffer.from(text);
      expect(tableCrc32(b)).toBe(crc32(b));
      expect(tableCrc32(b.subarray(5), tableCrc32(b.subarray(0, 5)))).toBe(crc32(b));
    }
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('segment files', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  async function segmentWith(n: number): Promise<string> {
    const file = path.join(tmp.dir, segmentName(1));
    const a = await SegmentAppender.create(file);
    for (let i = 1; i <= n; i++) await a.append([encodeFrame(record(i))]);
    expect(a.size).toBe(SEGMENT_MAGIC.length + n * (FRAME_HEADER_BYTES + 100));
    await a.close();
    return file;
  }

  it('names segments so that name order is age order', () => {
    expect(segmentName(1_000_000_007)).toBe('001000000007.seg');
    expect(parseSegmentName('001000000007.seg')).toBe(1_000_000_007);
    expect(parseSegmentName('001000000007.seg.bad')).toBeUndefined();
    expect(parseSegmentName('lock')).toBeUndefined();
  });

  it('reads back what was appended, in order, batch by batch', async () => {
    const file = await segmentWith(5);
    const size = readFileSync(file).length;
    const first = await readFrames(file, SEGMENT_MAGIC.length, size, 5);
    // 1 + 2 + 3 samples reach 5: the batch stops after the frame that reaches the bound.
    expect(first.frames.map((f) => f.samples)).toEqual([1, 2, 3]);
    expect(first.corruptAt).toBeUndefined();
    const rest = await readFrames(file, (first.frames[2] as { end: number }).end, size, 100);
    expect(rest.frames.map((f) => [f.samples, f.timeMs, f.payload[0]])).toEqual([
      [4, 4000, 4],
      [5, 5000, 5],
    ]);
    expect(rest.frames[1]?.end).toBe(size);
  });

  it('always hands out at least one frame', async () => {
    const file = await segmentWith(3);
    const r = await readFrames(file, SEGMENT_MAGIC.length, readFileSync(file).length, 0);
    expect(r.frames).toHaveLength(1);
  });

  it('finds a torn tail (a crash in the middle of a write) and accounts for the frames before it', async () => {
    const file = await segmentWith(3);
    const full = readFileSync(file).length;
    truncateSync(file, full - 30); // the last frame is cut
    const scan = await scanSegment(file);
    expect(scan).toMatchObject({ problem: 'torn-tail', records: 2, samples: 3, lastTimeMs: 2000 });
    expect(scan.validBytes).toBe(SEGMENT_MAGIC.length + 2 * (FRAME_HEADER_BYTES + 100));
    // A header cut short is torn too.
    truncateSync(file, scan.validBytes + 7);
    expect(await scanSegment(file)).toMatchObject({ problem: 'torn-tail', records: 2 });
  });

  it('scans a complete segment without problem', async () => {
    const file = await segmentWith(4);
    const scan = await scanSegment(file);
    expect(scan).toEqual({
      fileBytes: readFileSync(file).length,
      validBytes: readFileSync(file).length,
      records: 4,
      samples: 10,
      firstTimeMs: 1000,
      lastTimeMs: 4000,
    });
  });

  it('detects a damaged payload by its CRC and returns the frames before it', async () => {
    const file = await segmentWith(3);
    const bytes = readFileSync(file);
    const second = SEGMENT_MAGIC.length + FRAME_HEADER_BYTES + 100;
    flip(bytes, second + FRAME_HEADER_BYTES + 50, 0xff);
    writeFileSync(file, bytes);
    const r = await readFrames(file, SEGMENT_MAGIC.length, bytes.length, 100);
    expect(r.frames.map((f) => f.samples)).toEqual([1]);
    expect(r.corruptAt).toBe(second);
  });

  it('detects a damaged header (sample count) by its CRC', async () => {
    const file = await segmentWith(2);
    const bytes = readFileSync(file);
    flip(bytes, SEGMENT_MAGIC.length + 7, 0x01);
    writeFileSync(file, bytes);
    const r = await readFrames(file, SEGMENT_MAGIC.length, bytes.length, 100);
    expect(r.frames).toEqual([]);
    expect(r.corruptAt).toBe(SEGMENT_MAGIC.length);
  });

  it('tells a file that is not a segment', async () => {
    const file = path.join(tmp.dir, segmentName(2));
    writeFileSync(file, 'not a segment at all');
    expect(await scanSegment(file)).toMatchObject({ problem: 'bad-magic', records: 0 });
  });

  it('never reads past the synced limit', async () => {
    const file = await segmentWith(2);
    const limit = readFileSync(file).length;
    appendFileSync(file, Buffer.alloc(50, 9)); // bytes of a write not yet synced
    const r = await readFrames(file, SEGMENT_MAGIC.length, limit, 100);
    expect(r.frames).toHaveLength(2);
    expect(r.corruptAt).toBeUndefined();
  });
});
