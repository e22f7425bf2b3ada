import type { PendingScrape } from './types';

/**
 * Bounded FIFO of scrapes waiting to be written. When a new scrape would push it past `maxSamples`, the
 * oldest scrapes are dropped (and counted) first: during a long outage the most recent data is kept.
 */
export class ScrapeBuffer {
  /** Slots before `head` are emptied: a written or dropped scrape must not stay reachable. */
  private readonly queue: (PendingScrape | undefined)[] = [];
  private head = 0;
  private samples = 0;
  droppedSamples = 0;
  droppedScrapes = 0;

  constructor(readonly maxSamples: number) {}

  get size(): number {
    return this.samples;
  }

  get scrapes(): number {
    return this.queue.length - this.head;
  }

  push(scrape: PendingScrape): void {
    this.queue.push(scrape);
    this.samples += scrape.sampleCount;
    while (this.samples > this.maxSamples && this.scrapes > 0) {
      const dropped = this.shift();
      if (dropped === undefined) break;
      this.droppedSamples += dropped.sampleCount;
      this.droppedScrapes++;
    }
  }

  /** The oldest scrapes, up to about `maxSamples` samples (at least one scrape), without removing them. */
  peek(maxSamples: number): PendingScrape[] {
    const out: PendingScrape[] = [];
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const s = this.queue[i] as PendingScrape;
      if (out.length > 0 && n + s.sampleCount > maxSamples) break;
      out.push(s);
      n += s.sampleCount;
    }
    return out;
  }

  /**
   * Removes the given scrapes after they were written. Scrapes dropped meanwhile (overflow while the write
   * was in flight) are simply no longer there.
   */
  remove(written: readonly PendingScrape[]): void {
    const set = new Set(written);
    while (this.head < this.queue.length && set.has(this.queue[this.head] as PendingScrape)) this.shift();
  }

  private shift(): PendingScrape | undefined {
    if (this.head >= this.queue.length) return undefined;
    const s = this.queue[this.head] as PendingScrape;
    this.queue[this.head] = undefined;
    this.head++;
    this.samples -= s.sampleCount;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return s;
  }
}
