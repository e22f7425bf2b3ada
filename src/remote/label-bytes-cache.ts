/**
 * Series ids by the raw bytes of a TimeSeries' Label fields: equal bytes are equal label sets, so a series
 * Prometheus sends again is found without decoding its labels, building a string or hashing one in V8
 * (an FNV-1a hash over the bytes here, then one native compare). Keys are copied in; the cache holds at
 * most `max` series and starts over past that.
 */

interface Entry {
  readonly key: Buffer;
  readonly id: number;
  next: Entry | undefined;
}

/** FNV-1a (32 bits) of buf[start, end). */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h >>> 0;
}

export class LabelBytesCache {
  private map = new Map<number, Entry>();
  private count = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.count;
  }

  /** The id cached for the key buf[start, end) with hash `hash`, or -1. */
  get(hash: number, buf: Buffer, start: number, end: number): number {
    const len = end - start;
    for (let e = this.map.get(hash); e !== undefined; e = e.next)
      if (e.key.length === len && buf.compare(e.key, 0, len, start, end) === 0) return e.id;
    return -1;
  }

  set(hash: number, buf: Buffer, start: number, end: number, id: number): void {
    if (this.get(hash, buf, start, end) >= 0) return;
    if (this.count >= this.max) this.clear();
    const key = Buffer.allocUnsafe(end - start);
    buf.copy(key, 0, start, end);
    this.map.set(hash, { key, id, next: this.map.get(hash) });
    this.count++;
  }

  clear(): void {
    this.map = new Map();
    this.count = 0;
  }
}
