/**
 * Scrape bodies, reused. On a VM, where the first touch of every page is a fault into the hypervisor, a
 * fresh 35 MiB buffer costs ~200 ms to fill here and a reused one ~6 ms: a big target scraped every
 * second would spend a fifth of a core on page faults. A body is handed out to the scrape that reads
 * into it and comes back once its scrape is queued in memory or compressed for the disk buffer (the
 * parse cache keeps hashes of its lines, not the body).
 */
export class BodyPool {
  /** Buffers handed out and not yet given back: only those are taken back, and only once. */
  private readonly out = new Set<ArrayBuffer>();
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

  /** A buffer of exactly `bytes` bytes, to give back with release() once nothing reads it any more. */
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
    this.out.add(ab as ArrayBuffer);
    return Buffer.from(ab, 0, bytes);
  }

  /** Gives a body back; anything the pool did not hand out (or already has back) is ignored. */
  release(body: Buffer | undefined): void {
    if (body === undefined) return;
    const ab = body.buffer;
    if (!(ab instanceof ArrayBuffer) || !this.out.delete(ab)) return;
    this.free.push(ab);
    if (this.free.length > this.maxFree) {
      this.free.sort((a, b) => b.byteLength - a.byteLength);
      this.free.length = this.maxFree;
    }
  }
}
