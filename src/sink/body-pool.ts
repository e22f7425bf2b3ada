/**
 * Scrape bodies, reused. On a VM, where the first touch of every page is a fault into the hypervisor, a
 * fresh 35 MiB buffer costs ~200 ms to fill here and a reused one ~6 ms: a big target scraped every
 * second would spend a fifth of a core on page faults. A body has holders (the scrape that read it until
 * it is queued or compressed for the disk buffer; the target's parse cache, which compares the next
 * scrape with it); when the last lets go, the buffer goes back to the pool.
 */
export class BodyPool {
  private readonly holders = new Map<ArrayBuffer, number>();
  private free: ArrayBuffer[] = [];

  constructor(
    /** Free buffers kept; beyond that the smallest is left to the garbage collector. */
    private readonly maxFree = 1,
    /** Smaller bodies are not worth pooling (and may share Node's slab with other buffers). */
    private readonly minBytes = 1 << 20,
  ) {}

  /** Free buffers held, in bytes (for tests and metrics). */
  get freeBytes(): number {
    let n = 0;
    for (const b of this.free) n += b.byteLength;
    return n;
  }

  /** A buffer of exactly `bytes` bytes, with one holder (the caller). */
  acquire(bytes: number): Buffer {
    if (bytes < this.minBytes) return Buffer.allocUnsafe(bytes);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = (this.free[i] as ArrayBuffer).byteLength;
      if (size >= bytes && (best < 0 || size < (this.free[best] as ArrayBuffer).byteLength)) best = i;
    }
    // Growing an old buffer is no cheaper than a new one: a body that outgrew them all gets a fresh one.
    const ab =
      best >= 0 ? (this.free.splice(best, 1)[0] as ArrayBuffer) : Buffer.allocUnsafeSlow(bytes).buffer;
    this.holders.set(ab, 1);
    return Buffer.from(ab, 0, bytes);
  }

  /** One more holder. A whole buffer the pool did not hand out (a replayed body) is adopted. */
  hold(body: Buffer): void {
    const ab = body.buffer;
    if (!(ab instanceof ArrayBuffer)) return;
    const n = this.holders.get(ab);
    if (n !== undefined) this.holders.set(ab, n + 1);
    else if (body.byteOffset === 0 && ab.byteLength >= this.minBytes) this.holders.set(ab, 1);
  }

  /** A holder is done with the body; after the last one it may be handed out again. */
  release(body: Buffer | undefined): void {
    if (body === undefined) return;
    const ab = body.buffer;
    if (!(ab instanceof ArrayBuffer)) return;
    const n = this.holders.get(ab);
    if (n === undefined) return;
    if (n > 1) {
      this.holders.set(ab, n - 1);
      return;
    }
    this.holders.delete(ab);
    this.free.push(ab);
    if (this.free.length > this.maxFree) {
      this.free.sort((a, b) => b.byteLength - a.byteLength);
      this.free.length = this.maxFree;
    }
  }
}
