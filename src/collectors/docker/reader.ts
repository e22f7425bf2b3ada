import { Worker } from 'node:worker_threads';

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

/** A stable list of files (one container's): defined once in the worker, then read by key. */
export interface ReadGroup {
  readonly key: string;
  readonly items: readonly ReadItem[];
}

/**
 * The worker's code, plain CommonJS so that it runs from `dist/` and under ts-jest alike. Reads are
 * synchronous inside the worker, so the exporter's event loop never waits on them. Cgroup file descriptors
 * stay open and are re-read with pread at offset 0 (kernfs regenerates the content on every read from
 * offset 0): one syscall per file instead of open+fstat+read+close. A descriptor whose cgroup was removed
 * fails (ENODEV) and is reopened once, since a restarted container gets a new cgroup at the same path.
 * /proc files are opened per read: holding /proc/<pid>/net/dev open would pin a dead container's network
 * namespace and could show it under a recycled pid. Results travel back as one transferred buffer of bytes
 * plus lengths: far cheaper to pass between threads than thousands of small strings, and unlike one joined
 * string it leaves no large object in either heap (those are freed only by a full GC).
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const fds = new Map();
const groups = new Map();
const MAX_OPEN = 16384;
let generation = 0;
// Scratch buffer for the /proc/<tid>/stat reads of 'states'.
let buf = Buffer.allocUnsafe(4096);
// The answer's bytes: every file is read straight into it, and its memory is transferred (not copied)
// to the exporter's thread, which then needs no large string: a new one for each answer.
let out = Buffer.allocUnsafeSlow(1 << 20);
let used = 0;
function grow(need) {
  const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, need));
  out.copy(bigger, 0, 0, used);
  out = bigger;
}
// Appends the file's content at out[used...] (without advancing used); returns its length in bytes.
// A short read means end of file: seq_file fills the buffer while records remain, and a read past the
// end would make kernfs generate the whole content a second time just to find nothing.
function readFd(fd) {
  let total = 0;
  for (;;) {
    if (used + total === out.length) grow(out.length + 65536);
    const room = out.length - used - total;
    const n = fs.readSync(fd, out, used + total, room, total);
    total += n;
    if (n < room) return total;
  }
}
function readOnce(path) {
  const fd = fs.openSync(path, 'r');
  try { return readFd(fd); } finally { fs.closeSync(fd); }
}
function readCached(path) {
  const entry = fds.get(path);
  if (entry !== undefined) {
    entry.gen = generation;
    try { return readFd(entry.fd); } catch (err) {
      fds.delete(path);
      try { fs.closeSync(entry.fd); } catch (e) {}
    }
  }
  if (fds.size >= MAX_OPEN) return readOnce(path);
  const fd = fs.openSync(path, 'r');
  try {
    const n = readFd(fd);
    fds.set(path, { fd, gen: generation });
    return n;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
function countLines(start, end) {
  let n = 0;
  let lineStart = start;
  for (let i = start; i < end; i++) {
    if (out[i] === 10) {
      if (i > lineStart) n++;
      lineStart = i + 1;
    }
  }
  if (end > lineStart) n++;
  return n;
}
function statState(path) {
  const fd = fs.openSync(path, 'r');
  try {
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const close = buf.lastIndexOf(41, n - 1);
    return close < 0 || close + 2 >= n ? '?' : String.fromCharCode(buf[close + 2]);
  } finally { fs.closeSync(fd); }
}
function states(text, procfs) {
  let s = '';
  for (const tid of text.split('\\n')) {
    if (tid === '') continue;
    try {
      s += statState(procfs + '/' + tid + '/stat');
    } catch (err) {
      s += '-';
    }
  }
  return s;
}
// Appends one item's answer at out[used...]; returns its length in bytes.
function readItem(item) {
  const n = item.keep ? readCached(item.path) : readOnce(item.path);
  if (item.kind === 'text') return n;
  const s = item.kind === 'count' ? String(countLines(used, used + n)) : states(out.toString('latin1', used, used + n), item.procfs);
  if (used + s.length > out.length) grow(used + s.length);
  return out.write(s, used, 'latin1');
}
parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    for (const e of fds.values()) { try { fs.closeSync(e.fd); } catch (err) {} }
    fds.clear();
    groups.clear();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  generation++;
  for (const d of msg.defs) groups.set(d.key, { items: d.items, gen: generation });
  const lens = [];
  used = 0;
  for (const key of msg.keys) {
    const g = groups.get(key);
    if (g === undefined) { lens.push(-2); continue; }
    g.gen = generation;
    for (const item of g.items) {
      try {
        const n = readItem(item);
        used += n;
        lens.push(n);
      } catch (err) {
        lens.push(-1);
      }
    }
  }
  // Descriptors and groups not used for a few requests belong to containers that are gone.
  for (const [path, e] of fds) {
    if (generation - e.gen > 4) { fds.delete(path); try { fs.closeSync(e.fd); } catch (err) {} }
  }
  for (const [key, g] of groups) if (generation - g.gen > 4) groups.delete(key);
  const data = out.buffer;
  const lengths = Int32Array.from(lens);
  parentPort.postMessage({ type: 'result', id: msg.id, data, size: used, lens: lengths }, [data, lengths.buffer]);
  // The transferred memory is gone from this thread: the next answer gets a buffer sized for this one.
  out = Buffer.allocUnsafeSlow(Math.max(65536, used + (used >> 2)));
  used = 0;
});
`;

interface WireItem {
  readonly path: string;
  readonly keep: boolean;
  readonly kind: ReadKind;
  readonly procfs: string;
}

interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  /** The items' bytes, back to back (transferred from the worker). */
  readonly data: ArrayBuffer;
  readonly size: number;
  /** Byte length of each item; -1 unreadable, -2 (once per group) group unknown to the worker. */
  readonly lens: Int32Array;
}

interface Pending {
  readonly resolve: (texts: (string | undefined)[]) => void;
  readonly reject: (err: Error) => void;
  readonly groups: readonly ReadGroup[];
}

/**
 * Reads many small files in one round trip to a worker thread. Missing or unreadable files come back as
 * undefined; the caller decides what a missing file means. One instance per collector instance.
 */
export class BatchFileReader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Group keys the current worker knows, with the item list it was given. */
  private readonly defined = new Map<string, readonly ReadItem[]>();
  private closed = false;

  /** Reads every item of every group, in order; one text (or undefined) per item. */
  async read(groups: readonly ReadGroup[]): Promise<(string | undefined)[]> {
    if (groups.length === 0) return [];
    if (this.closed) throw new Error('file reader is closed');
    const worker = this.ensureWorker();
    const defs: { key: string; items: WireItem[] }[] = [];
    for (const g of groups) {
      if (this.defined.get(g.key) === g.items) continue;
      this.defined.set(g.key, g.items);
      defs.push({
        key: g.key,
        items: g.items.map((i) => ({
          path: i.path,
          keep: i.keepOpen,
          kind: i.kind ?? 'text',
          procfs: i.procfs ?? '',
        })),
      });
    }
    if (this.defined.size > 4 * groups.length + 64) {
      // The worker forgets unused groups after a few requests; forget them here too.
      const used = new Set(groups.map((g) => g.key));
      for (const key of this.defined.keys()) if (!used.has(key)) this.defined.delete(key);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, groups });
      worker.postMessage({ type: 'read', id, keys: groups.map((g) => g.key), defs });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      worker.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'close' });
    });
    await worker.terminate();
    this.failAll(new Error('file reader closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    this.defined.clear();
    // The worker holds descriptors, paths and one read buffer: a small heap is plenty, and keeps its RSS low.
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 },
    });
    worker.unref();
    worker.on('message', (msg: ResultMessage | { type: 'closed' }) => {
      if (msg.type !== 'result') return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      p.resolve(this.unpack(msg, p.groups));
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`file reader worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private unpack(msg: ResultMessage, groups: readonly ReadGroup[]): (string | undefined)[] {
    const out: (string | undefined)[] = [];
    const bytes = Buffer.from(msg.data, 0, msg.size);
    let at = 0;
    let li = 0;
    for (const g of groups) {
      const first = msg.lens[li];
      if (first === -2) {
        // The worker did not know the group (restarted): its files count as unreadable this time.
        this.defined.delete(g.key);
        li++;
        for (let i = 0; i < g.items.length; i++) out.push(undefined);
        continue;
      }
      for (let i = 0; i < g.items.length; i++) {
        const len = msg.lens[li++] ?? -1;
        if (len < 0) {
          out.push(undefined);
        } else {
          out.push(bytes.toString('utf8', at, at + len));
          at += len;
        }
      }
    }
    return out;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
