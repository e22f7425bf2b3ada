import { readdirSync } from 'node:fs';
import { silentLogger } from '../../../../src/log/logger';
import { DiskBuffer } from '../../../../src/sink/buffer/disk-buffer';
import type { ScrapeRecord } from '../../../../src/sink/buffer/record';
import { ScrapeQueue, type QueuedScrape } from '../../../../src/sink/buffer/scrape-queue';
import { parseExposition } from '../../../../src/expfmt/parse';
import { pendingScrape, replayScrape } from '../../../../src/sink/pending';
import { scrape, tempDir } from './helpers';

/** As Sink.accept queues a scrape: the record keeps the body and the parsed families. */
function queued(n: number): QueuedScrape {
  const raw: ScrapeRecord = scrape(n);
  const families = parseExposition(raw.body ?? '', 'text');
  const record = { ...raw, families };
  return { record, pending: pendingScrape(record, families) };
}

/** The counter values of the scrapes in a batch. */
const values = (b: {
  scrapes: readonly { families: readonly { name: string; samples: readonly { value: number }[] }[] }[];
}): number[] => b.scrapes.map((s) => s.families.find((f) => f.name === 't_total')?.samples[0]?.value ?? -1);

describe('ScrapeQueue', () => {
  let tmp: ReturnType<typeof tempDir>;
  let disk: DiskBuffer;
  beforeEach(async () => {
    tmp = tempDir();
    disk = await DiskBuffer.open({ dir: tmp.dir, maxBytes: 1 << 20, segmentBytes: 1 << 16 }, silentLogger());
  });
  afterEach(async () => {
    await disk.close();
    tmp.remove();
  });

  async function drain(q: ScrapeQueue, maxSamples = 1000): Promise<{ from: string; values: number[] }[]> {
    const out: { from: string; values: number[] }[] = [];
    for (;;) {
      const b = await q.next(maxSamples);
      if (b === undefined) return out;
      out.push({ from: b.from, values: values(b) });
      await q.commit(b);
    }
  }

  it('keeps scrapes in memory while the database keeps up: nothing touches the disk', async () => {
    const q = new ScrapeQueue(disk, 100, silentLogger(), replayScrape);
    await q.push(queued(1));
    await q.push(queued(2));
    expect(q.samples).toBe(8);
    expect(await drain(q)).toEqual([{ from: 'memory', values: [1, 2] }]);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.seg'))).toEqual([]);
    expect(q.samples).toBe(0);
  });

  it('past its memory bound reports a backlog, keeps it in memory and drops each scrape once written', async () => {
    const q = new ScrapeQueue(disk, 8, silentLogger(), replayScrape);
    await q.push(queued(1));
    expect(q.backlogged).toBe(false);
    await q.push(queued(2)); // 4 samples each: the bound of 8 is reached
    expect(q.backlogged).toBe(true);
    expect(q.spilling).toBe(false);
    const first = await q.next(4);
    expect(first?.from).toBe('memory');
    await q.commit(first as NonNullable<typeof first>);
    expect(q.memoryScrapes).toBe(1);
    expect(q.samples).toBe(4);
    expect(q.backlogged).toBe(false);
    expect(await drain(q)).toEqual([{ from: 'memory', values: [2] }]);
    expect(q.memoryScrapes).toBe(0);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.seg'))).toEqual([]);
  });

  it('drops written scrapes from memory: the backlog shrinks as batches are committed, and on spill', async () => {
    const q = new ScrapeQueue(disk, 100, silentLogger(), replayScrape);
    const items = [1, 2, 3, 4, 5].map(queued);
    for (const item of items) q.push(item);
    expect(q.memoryScrapes).toBe(5);
    expect(q.samples).toBe(20); // 4 samples a scrape
    const first = await q.next(8);
    if (first === undefined) throw new Error('no batch');
    expect(first.scrapes).toEqual([items[0]?.pending, items[1]?.pending]);
    expect(q.memoryScrapes).toBe(5); // next() only looks
    await q.commit(first);
    expect(q.memoryScrapes).toBe(3);
    expect(q.samples).toBe(12);
    // The written scrapes are gone: the next batch starts after them, with the very objects pushed.
    const second = await q.next(4);
    if (second === undefined) throw new Error('no batch');
    expect(second.scrapes).toHaveLength(1);
    expect(second.scrapes[0]).toBe(items[2]?.pending);
    await q.commit(second);
    expect(q.memoryScrapes).toBe(2);
    expect(q.samples).toBe(8);
    // A spill hands the rest to disk: memory keeps nothing, the samples are counted on disk.
    await q.spill();
    expect(q.memoryScrapes).toBe(0);
    expect(disk.samples).toBe(8);
    expect(q.samples).toBe(8);
    expect(await drain(q)).toEqual([{ from: 'disk', values: [4, 5] }]);
    expect(q.samples).toBe(0);
    expect(q.memoryScrapes).toBe(0);
  });

  it('on spill moves memory in front of what is on disk, and new scrapes behind', async () => {
    const q = new ScrapeQueue(disk, 8, silentLogger(), replayScrape);
    for (let i = 1; i <= 2; i++) await q.push(queued(i)); // in memory
    await q.spill();
    expect(q.memoryScrapes).toBe(0);
    for (let i = 3; i <= 5; i++) await q.push(queued(i)); // on disk, behind them
    expect(q.memoryScrapes).toBe(0);
    expect(await drain(q)).toEqual([
      { from: 'disk', values: [1, 2] },
      { from: 'disk', values: [3, 4, 5] },
    ]);
    expect(q.samples).toBe(0);
  });

  it('starts on disk when a previous run left scrapes there', async () => {
    await disk.close();
    const first = await DiskBuffer.open(
      { dir: tmp.dir, maxBytes: 1 << 20, segmentBytes: 1 << 16 },
      silentLogger(),
    );
    const q1 = new ScrapeQueue(first, 100, silentLogger(), replayScrape);
    await q1.push(queued(1));
    await q1.close(); // shutdown with the database away: memory goes to disk
    disk = await DiskBuffer.open({ dir: tmp.dir, maxBytes: 1 << 20, segmentBytes: 1 << 16 }, silentLogger());
    const q2 = new ScrapeQueue(disk, 100, silentLogger(), replayScrape);
    expect(q2.spilling).toBe(true);
    await q2.push(queued(2));
    // A batch never spans two segments: the old run's, then this run's.
    expect(await drain(q2)).toEqual([
      { from: 'disk', values: [1] },
      { from: 'disk', values: [2] },
    ]);
  });

  it('skips and counts a record that cannot be rebuilt', async () => {
    const q = new ScrapeQueue(disk, 0, silentLogger(), async (r) => {
      if (r.timeMs === 2000) throw new Error('unparseable');
      return Promise.resolve(pendingScrape(r, undefined));
    });
    await q.spill(); // as during an outage: scrapes go to disk
    for (let i = 1; i <= 3; i++) await q.push(queued(i));
    const batches = await drain(q);
    expect(batches.flatMap((b) => b.values)).toEqual([-1, -1]);
    expect(disk.corruptSamples).toBe(4);
  });
});
