import {
  closeSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

/**
 * The little of tar (POSIX ustar) that a database directory needs: directories and regular files with
 * short relative names, gzipped. Extraction streams, so it holds one chunk at a time, not the archive.
 */

const BLOCK = 512;

function header(name: string, type: '0' | '5', size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(type === '5' ? '0000700' : '0000600', 100); // mode
  h.write('0000000', 108); // uid
  h.write('0000000', 116); // gid
  h.write(size.toString(8).padStart(11, '0'), 124);
  h.write('00000000000', 136); // mtime 0: the same directory gives the same bytes
  h.write('        ', 148); // the checksum counts its own field as spaces
  h.write(type, 156);
  h.write('ustar\u000000', 257);
  h.write(`${checksum(h).toString(8).padStart(6, '0')}\u0000 `, 148);
  return h;
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
  return sum;
}

function octal(h: Buffer, start: number, length: number): number {
  const text = h.toString('latin1', start, start + length).replace(/[\0 ]+$/, '');
  const n = parseInt(text === '' ? '0' : text, 8);
  if (!Number.isSafeInteger(n)) throw new Error(`tar: bad number field at ${start}`);
  return n;
}

function* entries(root: string, rel = ''): Generator<Buffer> {
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const full = path.join(root, relPath);
    const st = statSync(full);
    if (st.isDirectory()) {
      yield header(`${relPath}/`, '5', 0);
      yield* entries(root, relPath);
    } else if (st.isFile()) {
      yield header(relPath, '0', st.size);
      const data = readFileSync(full);
      yield data;
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad > 0) yield Buffer.alloc(pad);
    } else {
      throw new Error(`tar: not a file or directory: ${full}`);
    }
  }
}

/** Writes the directories and regular files under `dir` to a gzipped tar at `file`. */
export async function writeTarGz(dir: string, file: string): Promise<void> {
  async function* archive(): AsyncGenerator<Buffer> {
    yield* entries(dir);
    yield Buffer.alloc(2 * BLOCK);
  }
  await pipeline(Readable.from(archive()), createGzip({ level: 9 }), createWriteStream(file));
}

/**
 * Extracts a gzipped tar written by `writeTarGz` into `dir` (directories 0700, files 0600, each file
 * fsynced). Refuses names that leave `dir`, entry types other than files and directories, bad header
 * checksums and a truncated archive.
 */
export async function extractTarGz(file: string, dir: string): Promise<void> {
  const root = path.resolve(dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  let pending: Buffer = Buffer.alloc(0);
  let fd: number | undefined;
  let remaining = 0;
  let pad = 0;
  let ended = false;
  const finishFile = (): void => {
    if (fd === undefined) return;
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
  };
  try {
    for await (const chunk of createReadStream(file).pipe(createGunzip())) {
      const buf: Buffer = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
      let off = 0;
      while (off < buf.length && !ended) {
        if (remaining > 0) {
          const n = Math.min(remaining, buf.length - off);
          writeSync(fd as number, buf, off, n);
          off += n;
          remaining -= n;
          if (remaining === 0) finishFile();
          continue;
        }
        if (pad > 0) {
          const n = Math.min(pad, buf.length - off);
          off += n;
          pad -= n;
          continue;
        }
        if (buf.length - off < BLOCK) break;
        const h = buf.subarray(off, off + BLOCK);
        off += BLOCK;
        if (h.every((b) => b === 0)) {
          ended = true;
          break;
        }
        if (octal(h, 148, 8) !== checksum(h)) throw new Error(`tar: bad header checksum in ${file}`);
        const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
        const target = path.resolve(root, name);
        if (name === '' || !target.startsWith(root + path.sep)) throw new Error(`tar: unsafe name ${name}`);
        const type = String.fromCharCode(h[156] ?? 0);
        if (type === '5') {
          mkdirSync(target, { recursive: true, mode: 0o700 });
        } else if (type === '0' || type === '\0') {
          const size = octal(h, 124, 12);
          mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
          fd = openSync(target, 'wx', 0o600);
          remaining = size;
          pad = (BLOCK - (size % BLOCK)) % BLOCK;
          if (size === 0) finishFile();
        } else {
          throw new Error(`tar: unsupported entry type '${type}' for ${name}`);
        }
      }
      // Copy the unconsumed tail (less than a block) so the chunk it came from can be freed.
      pending = ended ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    }
    if (!ended || remaining > 0) throw new Error(`tar: ${file} is truncated`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
