import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads a small pseudo-file (a network-class sysfs attribute) with one open/read/close, trimmed like
 * procfs's util.SysReadFile. Synchronous on purpose: netclass reads ~20 attributes per interface, each
 * answered by the kernel from memory in microseconds, while the same reads through libuv's 4 pool
 * threads queue up and dominated the scrape's latency. (Sensor attributes that may talk to slow
 * hardware, hwmon and thermal, stay asynchronous through HostFs.)
 * Rejects with the errno error (`code` ENOENT, EINVAL, EOPNOTSUPP, ...) so callers can tell "attribute not
 * supported for this device" (skip) from real failures. `maxBytes` caps the single read: procfs reads at
 * most 128 bytes, and collectors that must match it byte for byte pass 128.
 */
export function readSysfsFile(file: string, maxBytes = 4096): Promise<string> {
  try {
    return Promise.resolve(readSysfsFileSync(file, maxBytes));
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

/** One reusable read buffer: the reads are synchronous, so no two use it at once. */
let scratch = Buffer.allocUnsafeSlow(4096);

/** readSysfsFile without the promise, for callers that read many attributes in a row; throws the errno error. */
export function readSysfsFileSync(file: string, maxBytes = 4096): string {
  const fd = openSync(file, 'r');
  try {
    if (scratch.length < maxBytes) scratch = Buffer.allocUnsafeSlow(maxBytes);
    const n = readSync(fd, scratch, 0, maxBytes, 0);
    return scratch.toString('utf8', 0, n).trim();
  } finally {
    closeSync(fd);
  }
}

/** The errno code of a failed fs call, or undefined for other errors. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
