import { close, open, read } from 'node:fs';

/**
 * Reads a small pseudo-file (a sysfs attribute) with one open/read/close, trimmed like procfs's
 * util.SysReadFile. Callback fs is used on purpose: for the hundreds of tiny attribute reads of one scrape
 * it is about 3x faster than fs.promises.readFile (which adds an fstat and promise hops per file).
 * Rejects with the errno error (`code` ENOENT, EINVAL, EOPNOTSUPP, ...) so callers can tell "attribute not
 * supported for this device" (skip) from real failures. `maxBytes` caps the single read: procfs reads at
 * most 128 bytes, and collectors that must match it byte for byte pass 128.
 */
export function readSysfsFile(file: string, maxBytes = 4096): Promise<string> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (openErr, fd) => {
      if (openErr !== null) {
        reject(openErr);
        return;
      }
      const buffer = Buffer.allocUnsafe(maxBytes);
      read(fd, buffer, 0, maxBytes, 0, (readErr, bytesRead) => {
        close(fd, () => {
          if (readErr !== null) reject(readErr);
          else resolve(buffer.toString('utf8', 0, bytesRead).trim());
        });
      });
    });
  });
}

/** The errno code of a failed fs call, or undefined for other errors. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
