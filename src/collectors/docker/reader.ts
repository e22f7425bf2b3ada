import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/**
 * What to read: `text` returns the file's content; `count` the number of non-empty lines (cgroup.procs);
 * `states` reads a thread list (tasks, cgroup.threads) and returns the state letter of each thread from
 * `<procfs>/<tid>/stat`, concatenated ("SSR").
 */
export type ReadKind = 'text' | 'count' | 'states';

export interface ReadItem {
  readonly path: string;
  /** Keep the descriptor open between reads (cgroup files; never /proc files). */
  readonly keepOpen: boolean;
  readonly kind?: ReadKind;
  /** The procfs root, for `states`. */
  readonly procfs?: string;
}

/** A stable list of files (one container's), read together. */
export interface ReadGroup {
  readonly key: string;
  readonly items: readonly ReadItem[];
}

/** Groups read between two returns to the event loop: about a millisecond of reads at ~16 files each. */
const GROUPS_PER_SLICE = 16;
/** A descriptor not used for this many reads belongs to a container that is gone. */
const STALE_AFTER_READS = 4;
const MAX_OPEN = 16384;
const NEWLINE = 10;
const CLOSE_PAREN = 41;

/**
 * Reads many small pseudo-files (cgroup and /proc) on the exporter's thread, synchronously, in slices of a
 * few containers with a return to the event loop in between, so a scrape of hundreds of containers never
 * holds the loop for more than about a millisecond. Reading kernfs files is CPU work in the kernel, not
 * I/O that could wait (no disk behind it), so a thread pool or worker would only add copies: every file is
 * read into one reused buffer, and only its text is allocated.
 *
 * Cgroup descriptors stay open and are re-read with pread at offset 0 (kernfs regenerates the content on
 * every read from offset 0): one syscall per file instead of open+fstat+read+close. Not cgroup v1's
 * cgroup.procs and tasks, whose pid list belongs to the open file (see statsReadPlan): their items say
 * keepOpen false. A descriptor whose
 * cgroup was removed fails (ENODEV) and is reopened once, since a restarted container gets a new cgroup at
 * the same path. /proc/<tid>/stat descriptors are kept too (3.5 us a read instead of 11 us with open and
 * close): one stays bound to its task and fails once the task exits, so it never shows another task under
 * a recycled id. /proc/<pid>/net/dev is opened per read: a held descriptor would keep showing the network
 * namespace it was opened in, also for a new container that got the same pid. Missing or unreadable files come
 * back as undefined; the caller decides what a missing file means. One instance per collector instance.
 */
export class BatchFileReader {
  private readonly fds = new Map<string, { fd: number; lastRead: number }>();
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  private reads = 0;
  private closed = false;

  /** Reads every item of every group, in order; one text (or undefined) per item. */
  async read(groups: readonly ReadGroup[]): Promise<(string | undefined)[]> {
    if (this.closed) throw new Error('file reader is closed');
    const out: (string | undefined)[] = [];
    // No early return for an empty list: the sweep below must still close what the last containers held.
    const reads = ++this.reads;
    for (let i = 0; i < groups.length; i++) {
      if (i > 0 && i % GROUPS_PER_SLICE === 0) {
        await yieldToLoop();
        if (this.closed) throw new Error('file reader closed');
      }
      for (const item of (groups[i] as ReadGroup).items) out.push(this.readItem(item, reads));
    }
    for (const [path, e] of this.fds) {
      if (reads - e.lastRead > STALE_AFTER_READS) this.forget(path, e.fd);
    }
    return out;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const [path, e] of this.fds) this.forget(path, e.fd);
    return Promise.resolve();
  }

  private readItem(item: ReadItem, reads: number): string | undefined {
    let n: number;
    try {
      n = item.keepOpen ? this.readCached(item.path, reads) : this.readOnce(item.path);
    } catch {
      return undefined;
    }
    switch (item.kind ?? 'text') {
      case 'text':
        return this.buf.toString('utf8', 0, n);
      case 'count':
        return String(this.countLines(n));
      case 'states':
        return this.states(this.buf.toString('latin1', 0, n), item.procfs ?? '/proc', reads);
    }
  }

  /** Reads the whole file at `fd` into this.buf from offset 0; returns its length in bytes. */
  private readFd(fd: number): number {
    let total = 0;
    for (;;) {
      if (total === this.buf.length) {
        const bigger = Buffer.allocUnsafeSlow(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, total);
        this.buf = bigger;
      }
      const room = this.buf.length - total;
      const n = readSync(fd, this.buf, total, room, total);
      total += n;
      // A short read is the end: seq_file fills the buffer while records remain, and a read past the end
      // would make kernfs generate the whole content a second time just to find nothing.
      if (n < room) return total;
    }
  }

  private readOnce(path: string): number {
    const fd = openSync(path, 'r');
    try {
      return this.readFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  private readCached(path: string, reads: number): number {
    const entry = this.fds.get(path);
    if (entry !== undefined) {
      entry.lastRead = reads;
      try {
        return this.readFd(entry.fd);
      } catch {
        // Removed cgroup (ENODEV): reopen below, the path may belong to a new cgroup now.
        this.forget(path, entry.fd);
      }
    }
    if (this.fds.size >= MAX_OPEN) return this.readOnce(path);
    const fd = openSync(path, 'r');
    try {
      const n = this.readFd(fd);
      this.fds.set(path, { fd, lastRead: reads });
      return n;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private forget(path: string, fd: number): void {
    this.fds.delete(path);
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  private countLines(end: number): number {
    let n = 0;
    let lineStart = 0;
    for (let i = 0; i < end; i++) {
      if (this.buf[i] === NEWLINE) {
        if (i > lineStart) n++;
        lineStart = i + 1;
      }
    }
    return end > lineStart ? n + 1 : n;
  }

  /** The state letter of each listed thread ('-' when it exited meanwhile). */
  private states(tids: string, procfs: string, reads: number): string {
    let s = '';
    for (const tid of tids.split('\n')) {
      if (tid === '') continue;
      try {
        const n = this.readCached(`${procfs}/${tid}/stat`, reads);
        const close = this.buf.lastIndexOf(CLOSE_PAREN, n - 1);
        s += close < 0 || close + 2 >= n ? '?' : String.fromCharCode(this.buf[close + 2] as number);
      } catch {
        s += '-';
      }
    }
    return s;
  }
}
