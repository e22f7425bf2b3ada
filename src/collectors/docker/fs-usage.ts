import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { HostFs } from '../../host/host-fs';
import type { Logger } from '../../log/logger';
import { mapLimit } from '../../map-limit';
import type { FsFigures } from './families';
import { mountFor, parseMountinfo, type MountEntry } from './fs-usage.parse';

/** Host directories whose usage counts for one container (its writable layer and its log directory). */
export interface FsTarget {
  readonly id: string;
  /** Host paths (not yet under --path.rootfs); the first one decides the device. */
  readonly dirs: readonly string[];
}

interface Measured extends FsFigures {
  readonly atMs: number;
}

/**
 * container_fs_usage_bytes / _limit_bytes / _inodes_*: like cAdvisor's fsHandler, the disk usage of a
 * container's writable layer plus its log directory, measured by walking them in the background at most
 * once per interval (walking on every scrape would cost far more than the scrape), never crossing into
 * another filesystem. Limit and inodes come from statfs of the filesystem holding the writable layer.
 */
export class FsUsageTracker {
  private readonly figures = new Map<string, Measured>();
  private running: Promise<void> | undefined;
  private lastStartMs = 0;
  private mounts: { readonly entries: readonly MountEntry[]; readonly atMs: number } | undefined;
  private closed = false;

  constructor(
    private readonly fs: HostFs,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  get(id: string): FsFigures | undefined {
    return this.figures.get(id);
  }

  /** Starts a background measurement when the last one is older than the interval. Never waits. */
  maybeRefresh(targets: readonly FsTarget[], nowMs: number): void {
    if (this.closed || this.running !== undefined || nowMs - this.lastStartMs < this.intervalMs) return;
    this.lastStartMs = nowMs;
    this.running = this.measureAll(targets)
      .catch((err: unknown) => this.logger.debug({ err: String(err) }, 'container fs usage failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Resolves when the measurement in progress (if any) is done. For tests. */
  async settled(): Promise<void> {
    await this.running;
  }

  close(): void {
    this.closed = true;
  }

  private async measureAll(targets: readonly FsTarget[]): Promise<void> {
    const wanted = new Set(targets.map((t) => t.id));
    for (const id of this.figures.keys()) if (!wanted.has(id)) this.figures.delete(id);
    const mounts = await this.mountTable();
    await mapLimit(targets, 2, async (t) => {
      if (this.closed) return;
      const measured = await this.measure(t, mounts);
      if (measured === undefined) this.figures.delete(t.id);
      else this.figures.set(t.id, measured);
    });
  }

  private async mountTable(): Promise<readonly MountEntry[]> {
    const now = Date.now();
    if (this.mounts !== undefined && now - this.mounts.atMs < 10 * 60_000) return this.mounts.entries;
    let text = await this.fs.readAttr(this.fs.proc('1', 'mountinfo'));
    if (text === undefined) text = await this.fs.readAttr(this.fs.proc('self', 'mountinfo'));
    const entries = parseMountinfo(text ?? '');
    this.mounts = { entries, atMs: now };
    return entries;
  }

  private async measure(t: FsTarget, mounts: readonly MountEntry[]): Promise<Measured | undefined> {
    const first = t.dirs[0];
    if (first === undefined) return undefined;
    const root = this.fs.root(first);
    let stat;
    let vfs;
    try {
      [stat, vfs] = await Promise.all([fsp.stat(root), fsp.statfs(root)]);
    } catch {
      return undefined;
    }
    const seen = new Set<number>();
    let blocks = 0;
    for (const dir of t.dirs) blocks += await walk(this.fs.root(dir), stat.dev, seen);
    return {
      device: mountFor(mounts, first)?.source ?? '',
      usageBytes: blocks * 512,
      limitBytes: vfs.blocks * vfs.bsize,
      inodesTotal: vfs.files,
      inodesFree: vfs.ffree,
      atMs: Date.now(),
    };
  }
}

/** 512-byte blocks used under dir (hard links counted once), staying on the device `dev`. */
async function walk(dir: string, dev: number, seen: Set<number>): Promise<number> {
  const top = await fsp.lstat(dir).catch(() => undefined);
  if (top === undefined || top.dev !== dev) return 0;
  let total = top.blocks;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    let names: string[];
    try {
      names = await fsp.readdir(current);
    } catch {
      continue;
    }
    const stats = await Promise.all(
      names.map((n) =>
        fsp.lstat(path.join(current, n)).then(
          (s) => ({ n, s }),
          () => undefined,
        ),
      ),
    );
    for (const e of stats) {
      if (e === undefined || e.s.dev !== dev) continue;
      if (e.s.nlink > 1) {
        if (seen.has(e.s.ino)) continue;
        seen.add(e.s.ino);
      }
      total += e.s.blocks;
      if (e.s.isDirectory()) stack.push(path.join(current, e.n));
    }
  }
  return total;
}
