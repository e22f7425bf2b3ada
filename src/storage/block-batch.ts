import { BinaryCopyWriter, splitTimestamp } from '../db/binary-copy';
import { BLOCK_WIDTH } from '../db/migrations/0004_blocks';

/**
 * Gathers samples that share a timestamp and a source (a scrape's) into block rows of `samples_blocks`: one
 * row per BLOCK_WIDTH consecutive series ids, time and source, element `id % BLOCK_WIDTH` holding the value. The value
 * and presence arrays of all blocks live in two pooled typed arrays that are reused from batch to batch,
 * so a 300k-sample scrape allocates no per-block objects.
 */
export class BlockBatch {
  private values = new Float64Array(BLOCK_WIDTH * 256);
  private present = new Uint8Array(BLOCK_WIDTH * 256);
  /** Per slot: how many leading elements the row has (the highest present offset + 1). */
  private lengths = new Int32Array(256);
  /** Per slot: how many samples the row holds. */
  private counts = new Int32Array(256);
  private slots = 0;
  /** time (ms) -> source -> block -> slot */
  private readonly times = new Map<number, Map<number, Map<number, number>>>();
  private current: Map<number, number> | undefined;
  private lastBlock = -1;
  private lastSlot = -1;
  private count = 0;

  get samples(): number {
    return this.count;
  }

  /** Starts (or resumes) the group of samples at `timeMs` from `source` (a 32-bit integer). */
  at(timeMs: number, source: number): void {
    let sources = this.times.get(timeMs);
    if (sources === undefined) {
      sources = new Map();
      this.times.set(timeMs, sources);
    }
    let group = sources.get(source);
    if (group === undefined) {
      group = new Map();
      sources.set(source, group);
    }
    this.current = group;
    this.lastBlock = -1;
  }

  /** Adds a sample of series `id` at the current time; false when that series already has one there. */
  add(id: number, value: number): boolean {
    const block = Math.floor(id / BLOCK_WIDTH);
    let slot: number;
    if (block === this.lastBlock) slot = this.lastSlot;
    else {
      const group = this.current as Map<number, number>;
      const known = group.get(block);
      if (known === undefined) {
        slot = this.newSlot();
        group.set(block, slot);
      } else slot = known;
      this.lastBlock = block;
      this.lastSlot = slot;
    }
    const offset = id - block * BLOCK_WIDTH;
    const at = slot * BLOCK_WIDTH + offset;
    if (this.present[at] === 1) return false;
    this.present[at] = 1;
    this.values[at] = value;
    if (offset >= (this.lengths[slot] as number)) this.lengths[slot] = offset + 1;
    (this.counts[slot] as number)++;
    this.count++;
    return true;
  }

  private newSlot(): number {
    const slot = this.slots++;
    if (slot >= this.lengths.length) {
      const grow = this.lengths.length * 2;
      const values = new Float64Array(grow * BLOCK_WIDTH);
      values.set(this.values);
      const present = new Uint8Array(grow * BLOCK_WIDTH);
      present.set(this.present);
      const lengths = new Int32Array(grow);
      lengths.set(this.lengths);
      const counts = new Int32Array(grow);
      counts.set(this.counts);
      this.values = values;
      this.present = present;
      this.lengths = lengths;
      this.counts = counts;
    }
    this.present.fill(0, slot * BLOCK_WIDTH, (slot + 1) * BLOCK_WIDTH);
    this.lengths[slot] = 0;
    this.counts[slot] = 0;
    return slot;
  }

  /** The blocks with samples at `timeMs` from `source`. */
  blocksAt(timeMs: number, source: number): IterableIterator<number> {
    return (this.times.get(timeMs)?.get(source) ?? new Map<number, number>()).keys();
  }

  /** The distinct times of the batch (ms). */
  timesMs(): IterableIterator<number> {
    return this.times.keys();
  }

  /**
   * Encodes every block row, by time, source and block (index order), as binary COPY of (block, time,
   * source, values); with `only`, just the rows it accepts. Returns the rows and samples encoded.
   */
  encode(
    copy: BinaryCopyWriter,
    only?: (timeMs: number, source: number, block: number) => boolean,
  ): { rows: number; samples: number } {
    let rows = 0;
    let samples = 0;
    const byKey = <T>(a: [number, T], b: [number, T]) => a[0] - b[0];
    for (const [timeMs, sources] of [...this.times].sort(byKey)) {
      const [high, low] = splitTimestamp(timeMs);
      for (const [source, group] of [...sources].sort(byKey))
        for (const [block, slot] of [...group].sort(byKey)) {
          if (only !== undefined && !only(timeMs, source, block)) continue;
          const from = slot * BLOCK_WIDTH;
          copy.blockRow(
            block,
            high,
            low,
            source,
            this.values.subarray(from, from + BLOCK_WIDTH),
            this.present.subarray(from, from + BLOCK_WIDTH),
            this.lengths[slot] as number,
          );
          rows++;
          samples += this.counts[slot] as number;
        }
    }
    return { rows, samples };
  }

  /** Empties the batch, keeping the pooled arrays. */
  clear(): void {
    this.times.clear();
    this.current = undefined;
    this.lastBlock = -1;
    this.slots = 0;
    this.count = 0;
  }
}
