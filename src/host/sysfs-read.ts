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
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return Promise.reject(err as Error);
  }
  try {
    const buffer = Buffer.allocUnsafe(maxBytes);
    const n = readSync(fd, buffer, 0, maxBytes, 0);
    return Promise.resolve(buffer.toString('utf8', 0, n).trim());
  } catch (err) {
    return Promise.reject(err as Error);
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
