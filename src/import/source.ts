/**
 * Reading backfill input: a file or stdin (spooled to a temporary file, since an import reads its input
 * twice), gzip-compressed or not (told by its magic bytes, whatever the name), as batches of lines.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { HostscopeError } from '../errors';

/** A line longer than this fails the file: pieces stay bounded even on a file without line feeds. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export class LineTooLongError extends HostscopeError {
  constructor(readonly line: number) {
    super('E_LINE_TOO_LONG', `line ${line} is longer than ${MAX_LINE_CHARS} characters`);
  }
}

export interface Source {
  /** As given on the command line (`-` for stdin). */
  readonly name: string;
  /** The file read (for stdin, the spool file). */
  readonly path: string;
  readonly gzip: boolean;
  /** Removes the spool file of stdin; nothing for a file. */
  close(): Promise<void>;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Opens `name` (a path, or `-` for `stdin`, which is copied to a temporary file first). */
export async function openSource(name: string, stdin: Readable = process.stdin): Promise<Source> {
  if (name !== '-') return { name, path: name, gzip: await isGzip(name), close: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hostscope-import-'));
  const file = path.join(dir, 'stdin');
  const close = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(stdin, createWriteStream(file));
    return { name, path: file, gzip: await isGzip(file), close };
  } catch (err) {
    await close();
    throw err;
  }
}

function textStream(source: Source): Readable {
  const raw = createReadStream(source.path, { highWaterMark: 1024 * 1024 });
  const stream = source.gzip ? raw.pipe(createGunzip()) : raw;
  if (source.gzip) raw.once('error', (err) => stream.destroy(err));
  stream.setEncoding('utf8');
  return stream;
}

/**
 * The lines of a source (without their line feeds; a CR before one is kept, as the parsers want to see
 * it), in batches. `first` is the 1-based number of a batch's first line. A last line without a line feed
 * still counts.
 */
export async function* readLines(source: Source): AsyncGenerator<{ lines: string[]; first: number }> {
  let rest = '';
  let next = 1;
  for await (const chunk of textStream(source)) {
    const text = rest + (chunk as string);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    if (rest.length > MAX_LINE_CHARS) throw new LineTooLongError(next + lines.length);
    if (lines.length > 0) {
      yield { lines, first: next };
      next += lines.length;
    }
  }
  if (rest !== '') yield { lines: [rest], first: next };
}

/** The last line that is not blank, or '' (to tell OpenMetrics, which ends with `# EOF`, from text). */
export async function lastLine(source: Source): Promise<string> {
  if (!source.gzip) {
    // The end of the file is enough.
    const fh = await open(source.path, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return lastNonBlank(buf.toString('utf8'));
    } finally {
      await fh.close();
    }
  }
  let tail = '';
  for await (const chunk of textStream(source)) tail = (tail + (chunk as string)).slice(-64 * 1024);
  return lastNonBlank(tail);
}

function lastNonBlank(text: string): string {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = (lines[i] as string).trim();
    if (l !== '') return l;
  }
  return '';
}
