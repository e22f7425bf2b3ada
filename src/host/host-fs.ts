import { close, open, promises as fsp, read, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface HostPaths {
  readonly procfs: string;
  readonly sysfs: string;
  readonly rootfs: string;
  /** Directory holding udev's device database (`/run/udev/data` under rootfs by default). */
  readonly udevData: string;
}

export const DEFAULT_HOST_PATHS: HostPaths = {
  procfs: '/proc',
  sysfs: '/sys',
  rootfs: '/',
  udevData: '/run/udev/data',
};

/**
 * The one place that joins host paths. Every collector reads the host through this, so a fixture tree
 * (tests) or a host mounted at /host (a containerised exporter) is reported the same way.
 */
export class HostFs {
  constructor(readonly paths: HostPaths) {}

  proc(...parts: string[]): string {
    return joinPath(this.paths.procfs, parts);
  }

  sys(...parts: string[]): string {
    return joinPath(this.paths.sysfs, parts);
  }

  /** A path on the host's root filesystem (e.g. a mount point), under `--path.rootfs`. */
  root(...parts: string[]): string {
    return joinPath(this.paths.rootfs, parts);
  }

  udev(...parts: string[]): string {
    return joinPath(this.paths.udevData, parts);
  }

  /** Strips the rootfs prefix from a path seen inside the rootfs (mount points in labels). */
  stripRoot(p: string): string {
    const root = this.paths.rootfs;
    if (root === '/' || root === '') return p;
    const normalized = root.endsWith('/') ? root.slice(0, -1) : root;
    if (p === normalized) return '/';
    return p.startsWith(`${normalized}/`) ? p.slice(normalized.length) : p;
  }

  /**
   * Reads a whole file. Files under procfs are read synchronously: the kernel generates them from memory
   * (they never wait on a disk or a network), a sync read costs a few microseconds, while ~100 async reads
   * per scrape queue behind libuv's 4 pool threads and made the scrape ~30% slower. Everything else (sysfs
   * sensors that may talk to slow hardware, the rootfs) stays asynchronous.
   */
  readText(file: string): Promise<string> {
    if (this.isProc(file)) {
      try {
        return Promise.resolve(readFileSync(file, 'utf8'));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return readWhole(file);
  }

  private isProc(file: string): boolean {
    const root = this.paths.procfs;
    return file.startsWith(root.endsWith('/') ? root : `${root}/`);
  }

  /** Reads a sysfs attribute: trimmed text, or undefined when the file is missing or unreadable. */
  async readAttr(file: string): Promise<string | undefined> {
    try {
      return (await this.readText(file)).trim();
    } catch {
      return undefined;
    }
  }

  async readDir(dir: string): Promise<string[]> {
    return fsp.readdir(dir);
  }

  /** Directory entries, or [] when the directory does not exist. */
  async readDirOptional(dir: string): Promise<string[]> {
    try {
      return await fsp.readdir(dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async exists(file: string): Promise<boolean> {
    try {
      await fsp.access(file);
      return true;
    } catch {
      return false;
    }
  }
}

/** A file name: no separator, and not `.` or `..`. */
const SEGMENT = /^(?!\.\.?$)[^/]+$/;

/**
 * path.join(root, ...parts), without path.join's normalising pass in the usual case of a normal root and
 * plain file names (collectors join ~100 paths per scrape, and that pass was a tenth of a scrape's garbage).
 */
export function joinPath(root: string, parts: readonly string[]): string {
  if (parts.length === 0 || !isNormalRoot(root)) return path.join(root, ...parts);
  for (const part of parts) if (!SEGMENT.test(part)) return path.join(root, ...parts);
  const rest = parts.length === 1 ? (parts[0] as string) : parts.join('/');
  return root === '/' ? `/${rest}` : `${root}/${rest}`;
}

/** Roots seen, and whether path.join would keep them as they are (a process has a handful). */
const normalRoots = new Map<string, boolean>();

function isNormalRoot(root: string): boolean {
  let normal = normalRoots.get(root);
  if (normal === undefined) {
    normal =
      root !== '' && root !== '.' && path.normalize(root) === root && (root === '/' || !root.endsWith('/'));
    if (normalRoots.size < 64) normalRoots.set(root, normal);
  }
  return normal;
}

export function isNotFound(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 'ENOENT'
  );
}

const CHUNK = 8 * 1024;

/**
 * Reads a whole file with open/read.../close on callbacks. A scrape reads ~100 small /proc and /sys files;
 * fs.promises.readFile adds an fstat and several promise hops per file and is 2-3x slower here. Pseudo
 * files report size 0 and seq_file hands out a page at a time, so it reads until EOF.
 */
export function readWhole(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (openErr, fd) => {
      if (openErr !== null) return reject(openErr);
      const chunks: Buffer[] = [];
      const next = (): void => {
        const buffer = Buffer.allocUnsafe(CHUNK);
        read(fd, buffer, 0, CHUNK, null, (readErr, n) => {
          if (readErr !== null) return close(fd, () => reject(readErr));
          if (n === 0) {
            return close(fd, () =>
              resolve(
                chunks.length === 1
                  ? (chunks[0] as Buffer).toString('utf8')
                  : Buffer.concat(chunks).toString('utf8'),
              ),
            );
          }
          chunks.push(n === CHUNK ? buffer : buffer.subarray(0, n));
          next();
        });
      };
      next();
    });
  });
}
