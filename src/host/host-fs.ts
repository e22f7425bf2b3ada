import { promises as fsp } from 'node:fs';
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
    return path.join(this.paths.procfs, ...parts);
  }

  sys(...parts: string[]): string {
    return path.join(this.paths.sysfs, ...parts);
  }

  /** A path on the host's root filesystem (e.g. a mount point), under `--path.rootfs`. */
  root(...parts: string[]): string {
    return path.join(this.paths.rootfs, ...parts);
  }

  udev(...parts: string[]): string {
    return path.join(this.paths.udevData, ...parts);
  }

  /** Strips the rootfs prefix from a path seen inside the rootfs (mount points in labels). */
  stripRoot(p: string): string {
    const root = this.paths.rootfs;
    if (root === '/' || root === '') return p;
    const normalized = root.endsWith('/') ? root.slice(0, -1) : root;
    if (p === normalized) return '/';
    return p.startsWith(`${normalized}/`) ? p.slice(normalized.length) : p;
  }

  readText(file: string): Promise<string> {
    return fsp.readFile(file, 'utf8');
  }

  /** Reads a sysfs attribute: trimmed text, or undefined when the file is missing or unreadable. */
  async readAttr(file: string): Promise<string | undefined> {
    try {
      return (await fsp.readFile(file, 'utf8')).trim();
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

export function isNotFound(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 'ENOENT'
  );
}
