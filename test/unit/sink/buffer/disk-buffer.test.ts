import { readdirSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../../../../src/log/logger';
import { BufferDirLockedError } from '../../../../src/sink/buffer/dir-lock';
import { DiskBuffer, type DiskBatch } from '../../../../src/sink/buffer/disk-buffer';
import type { EncodedRecord } from '../../../../src/sink/buffer/record';
import { FRAME_HEADER_BYTES, SEGMENT_MAGIC } from '../../../../src/sink/buffer/segment-file';
import { capturingLogger, tempDir } from './helpers';

/** XORs one byte of a file's contents: damage. */
function flip(bytes: Buffer, at: number, mask: number): void {
  bytes.writeUInt8((bytes.readUInt8(at) ^ mask) & 0xff, at);
}

/** A record of n samples whose payload (100 bytes) names it. */
function rec(n: number): Promise<EncodedRecord> {
  const payload = Buffer.alloc(100, 0);
  payload.write(String(n));
  return Promise.resolve({ payload, samples: n, timeMs: n * 1000 });
}
const FRAME = FRAME_HEADER_BYTES + 100;
const idOf = (payload: Buffer): number => Number(payload.toString('utf8').replace(/\0+$/, ''));

async function readAll(b: DiskBuffer): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const batch: DiskBatch | undefined = await b.read(1_000_000);
    if (batch === undefined) return out;
    out.push(...batch.frames.map((f) => idOf(f.payload)));
    await b.commit(batch);
  }
}

const segmentFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg'));
const dirBytes = (dir: string): number =>
  segmentFiles(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

describe('DiskBuffer', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  const open = (maxBytes = 1 << 20, segmentBytes = 4 * FRAME, logger = silentLogger()): Promise<DiskBuffer> =>
    DiskBuffer.open({ dir: tmp.dir, maxBytes, segmentBytes }, logger);

  it('keeps order across segments, rotates at the segment size and deletes what is committed', async () => {
    const b = await open();
    for (let i = 1; i <= 10; i++) await b.append([rec(i)]);
    // A segment takes frames until it reaches 4 frames' worth (the magic tips it over at the 4th).
    expect(b.segmentCount).toBe(3);
    expect(segmentFiles(tmp.dir)).toHaveLength(3);
    expect(b.bytes).toBe(dirBytes(tmp.dir));
    expect(b.bytes).toBe(3 * SEGMENT_MAGIC.length + 10 * FRAME);
    expect(b.samples).toBe(55);
    expect(b.scrapes).toBe(10);
    const first = await b.read(3);
    expect(first?.frames.map((f) => idOf(f.payload))).toEqual([1, 2]);
    // Not committed: read again from the same place.
    expect((await b.read(3))?.frames.map((f) => idOf(f.payload))).toEqual([1, 2]);
    await b.commit(first as DiskBatch);
    expect(b.samples).toBe(52);
    expect(await readAll(b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.empty).toBe(true);
    expect(b.samples).toBe(0);
    expect(segmentFiles(tmp.dir)).toEqual([]);
    await b.close();
  });

  it('past max-bytes drops the oldest segments, counts and logs them', async () => {
    const cap = capturingLogger();
    // Room for 2 segments of 2 frames each.
    const max = 2 * (SEGMENT_MAGIC.length + 2 * FRAME);
    const b = await open(max, 2 * FRAME, cap.logger);
    for (let i = 1; i <= 4; i++) await b.append([rec(i)]);
    expect(b.droppedSamples).toBe(0);
    await b.append([rec(5)]);
    // The oldest segment (1, 2) went to make room for a third.
    expect(b.droppedScrapes).toBe(2);
    expect(b.droppedSamples).toBe(3);
    expect(b.bytes).toBeLessThanOrEqual(max);
    expect(b.bytes).toBe(dirBytes(tmp.dir));
    const log = cap
      .lines()
      .find((l) => l.msg === 'buffer full (--buffer.max-bytes); dropped the oldest scrapes');
    expect(log).toMatchObject({
      level: 'error',
      samples: 3,
      scrapes: 2,
      maxBytes: max,
      through: new Date(2000).toISOString(),
    });
    for (let i = 6; i <= 9; i++) await b.append([rec(i)]);
    expect(b.droppedScrapes).toBe(6);
    expect(b.droppedSamples).toBe(1 + 2 + 3 + 4 + 5 + 6);
    expect(await readAll(b)).toEqual([7, 8, 9]);
    await b.close();
  });

  it('drops a single scrape larger than max-bytes, and says so', async () => {
    const cap = capturingLogger();
    const b = await open(FRAME, FRAME, cap.logger);
    await b.append([rec(7)]);
    expect(b.droppedSamples).toBe(7);
    expect(b.scrapes).toBe(0);
    expect(cap.lines().some((l) => String(l.msg).includes('larger than --buffer.max-bytes'))).toBe(true);
  });

  it('puts "front" records before everything buffered', async () => {
    const b = await open();
    await b.append([rec(3)]);
    await b.append([rec(4)]);
    await b.append([rec(1), rec(2)], 'front');
    await b.append([rec(5)]);
    expect(await readAll(b)).toEqual([1, 2, 3, 4, 5]);
  });

  it('finds what a crashed run left, cuts a torn tail, and appends after it', async () => {
    const cap = capturingLogger();
    const first = await open();
    for (let i = 1; i <= 6; i++) await first.append([rec(i)]);
    // A crash: no close(). The last write was torn.
    const files = segmentFiles(tmp.dir).sort();
    const last = path.join(tmp.dir, files[files.length - 1] as string);
    truncateSync(last, statSync(last).size - 10);
    writeFileSync(path.join(tmp.dir, 'lock'), '999999999'); // a dead owner
    const second = await open(1 << 20, 4 * FRAME, cap.logger);
    expect(second.scrapes).toBe(5);
    expect(second.samples).toBe(15);
    expect(cap.lines().map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'buffer segment ends in an incomplete record (a crash during a write); cutting it off',
        'found buffered scrapes from a previous run; they are written first',
      ]),
    );
    await second.append([rec(7)]);
    expect(await readAll(second)).toEqual([1, 2, 3, 4, 5, 7]);
    await second.close();
    // The crashed run's process lives on here: release the descriptor of its tail segment, which a real
    // crash closes with the process (else Node closes it on garbage collection, with warning DEP0137).
    await first.close();
  });

  it('skips the rest of a segment from a damaged record on, counting what is lost', async () => {
    const cap = capturingLogger();
    const b = await open(1 << 20, 3 * FRAME);
    for (let i = 1; i <= 6; i++) await b.append([rec(i)]);
    await b.close();
    const file = path.join(tmp.dir, segmentFiles(tmp.dir).sort()[0] as string);
    const bytes = readFileSync(file);
    flip(bytes, SEGMENT_MAGIC.length + FRAME + FRAME_HEADER_BYTES + 5, 0xff); // record 2
    writeFileSync(file, bytes);
    const again = await open(1 << 20, 3 * FRAME, cap.logger);
    expect(await readAll(again)).toEqual([1, 4, 5, 6]);
    expect(again.corruptSamples).toBe(2 + 3);
    expect(cap.lines().find((l) => String(l.msg).startsWith('damaged record'))).toMatchObject({
      level: 'error',
      scrapes: 2,
      samples: 5,
    });
    await again.close();
  });

  it('is locked against a second process', async () => {
    const b = await open();
    writeFileSync(path.join(tmp.dir, 'lock'), String(process.ppid));
    await b.close(); // removes the lock file...
    writeFileSync(path.join(tmp.dir, 'lock'), String(process.ppid)); // ...which a live process holds now
    await expect(open()).rejects.toBeInstanceOf(BufferDirLockedError);
  });

  it('sets aside a file that is not a segment', async () => {
    writeFileSync(path.join(tmp.dir, '001000000000.seg'), 'garbage, not a segment');
    const b = await open();
    expect(b.scrapes).toBe(0);
    expect(readdirSync(tmp.dir)).toContain('001000000000.seg.bad');
    await b.close();
  });
});
