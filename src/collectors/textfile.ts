import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe } from '../errors';
import { mapLimit } from '../map-limit';
import { parseExposition, ParseError } from '../expfmt/parse';
import type { ParsedFamily } from '../expfmt/types';
import type { MetricFamily } from '../metrics/types';
import {
  compileGlobSegment,
  convertTextfiles,
  GatherCheck,
  hasGlobMeta,
  type TextfileContent,
} from './textfile.parse';
import type { CollectorDefinition } from './types';

/** Files above this size are refused (logged, node_textfile_scrape_error 1) instead of read. */
export const MAX_TEXTFILE_BYTES = 16 * 1024 * 1024;
/** Files read at the same time; a directory with thousands of files must not exhaust descriptors. */
const READ_CONCURRENCY = 8;

const MTIME_HELP = 'Unixtime mtime of textfiles successfully read.';
const ERROR_HELP = '1 if there was an error opening or reading a file, 0 otherwise';

type FileOutcome =
  | { readonly kind: 'ok'; readonly families: ParsedFamily[]; readonly mtimeSeconds: number }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'vanished' };

/**
 * node_exporter 1.5's textfile collector: metrics from `*.prom` files (Prometheus text format) in
 * `--collector.textfile.directory`, which may be a Go glob matching several directories. The directory
 * is a path on the exporter's own filesystem (node_exporter does not put it under --path.rootfs either),
 * so it is read directly rather than through HostFs.
 *
 * Same output as node_exporter 1.5 (see textfile.parse.ts for the conversion rules): `*.prom` entries
 * of each directory in byte order, not recursing (a directory named `x.prom` counts as an empty file,
 * as in 1.5); a file that fails to open, read or parse, or has client-side timestamps, is skipped
 * whole and sets node_textfile_scrape_error 1; node_textfile_mtime_seconds{file="<dir>/<name>"} for the
 * others; an empty directory setting reads nothing and reports no error. Differences, where 1.5
 * misbehaves: a file with a `__`-prefixed label name or with samples of `# TYPE x gauge_histogram` makes
 * 1.5 panic and is refused here as a broken file; a file that disappears between listing and opening is
 * skipped without an error (1.5 reports scrape_error 1 for that scrape; a dangling symlink is still an
 * error); files over 16 MiB are refused; FIFOs and devices cannot hang a scrape (opened non-blocking,
 * read at most 16 MiB).
 */
export const textfileCollector: CollectorDefinition = {
  name: 'textfile',
  defaultEnabled: true,
  help: 'Expose statistics read from local disk.',
  options: [
    {
      name: 'directory',
      kind: 'string',
      help: 'Directory to read text files with metrics from.',
      default: '',
    },
  ],
  create: ({ logger, options }) => {
    const pattern = options.string('directory');
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const lenientDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

    const decode = (bytes: Uint8Array): { text: string; invalidUtf8: boolean } => {
      try {
        return { text: decoder.decode(bytes), invalidUtf8: false };
      } catch {
        return { text: lenientDecoder.decode(bytes), invalidUtf8: true };
      }
    };

    const readFile = async (file: string): Promise<FileOutcome> => {
      let handle: fsp.FileHandle;
      try {
        // Non-blocking, so a FIFO named *.prom cannot block the scrape in open().
        handle = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      } catch (err) {
        // Gone since the directory was listed (a cron job replacing it): nothing to report. A dangling
        // symlink is still there to see, and is an error as in node_exporter.
        if (errorCode(err) === 'ENOENT' && !(await exists(file))) return { kind: 'vanished' };
        return {
          kind: 'error',
          message: `failed to open textfile data file ${JSON.stringify(file)}: ${describe(err)}`,
        };
      }
      try {
        const stat = await handle.stat({ bigint: true });
        const mtimeSeconds = Number(stat.mtimeNs / 1_000_000_000n);
        // node_exporter 1.5 reads a directory named *.prom as an empty file and exports its mtime.
        if (stat.isDirectory()) return { kind: 'ok', families: [], mtimeSeconds };
        if (stat.size > BigInt(MAX_TEXTFILE_BYTES)) return tooLarge(file);
        const bytes = await readCapped(handle, Number(stat.size));
        if (bytes === undefined) return tooLarge(file);
        const { text, invalidUtf8 } = decode(bytes);
        let families: ParsedFamily[];
        try {
          families = parseExposition(text, 'text');
        } catch (err) {
          const detail = err instanceof ParseError ? err.message : describe(err);
          return {
            kind: 'error',
            message: `failed to parse textfile data from ${JSON.stringify(file)}: ${detail}`,
          };
        }
        const problem = checkFamilies(families, invalidUtf8);
        if (problem !== undefined)
          return { kind: 'error', message: `textfile ${JSON.stringify(file)} ${problem}` };
        return { kind: 'ok', families, mtimeSeconds };
      } catch (err) {
        return {
          kind: 'error',
          message: `failed to read textfile data file ${JSON.stringify(file)}: ${describe(err)}`,
        };
      } finally {
        await handle.close().catch(() => undefined);
      }
    };

    return {
      async update({ signal }): Promise<MetricFamily[]> {
        let errored = false;
        const files: string[] = [];
        for (const dir of await globDirectories(pattern)) {
          let names: string[];
          try {
            names = await fsp.readdir(dir);
          } catch (err) {
            // An empty directory setting disables the collector's file reading silently, as in Go.
            if (dir !== '') {
              errored = true;
              logger.error({ path: dir, err: describe(err) }, 'failed to read textfile collector directory');
            }
            continue;
          }
          for (const name of sortBytewise(names))
            if (name.endsWith('.prom')) files.push(path.join(dir, name));
        }

        const outcomes = await mapLimit(files, READ_CONCURRENCY, (file) =>
          signal.aborted ? Promise.resolve<FileOutcome>({ kind: 'vanished' }) : readFile(file),
        );
        const contents: TextfileContent[] = [];
        const mtimes = new Map<string, number>();
        outcomes.forEach((outcome, i) => {
          const file = files[i] as string;
          if (outcome.kind === 'error') {
            errored = true;
            logger.error({ file, err: outcome.message }, 'failed to collect textfile data');
          } else if (outcome.kind === 'vanished') {
            logger.debug({ file }, 'textfile disappeared before it could be read');
          } else {
            contents.push({ path: file, families: outcome.families });
            mtimes.set(file, outcome.mtimeSeconds);
          }
        });

        const check = new GatherCheck();
        convertTextfiles(contents, check);
        for (const file of sortBytewise([...mtimes.keys()])) {
          const labels = { file };
          check.add('node_textfile_mtime_seconds', MTIME_HELP, 'gauge', labels, [
            { labels, value: mtimes.get(file) ?? 0 },
          ]);
        }
        check.add('node_textfile_scrape_error', ERROR_HELP, 'gauge', {}, [
          { labels: {}, value: errored ? 1 : 0 },
        ]);
        for (const problem of check.problems)
          logger.error({ err: problem }, 'error gathering textfile metrics');
        return check.families();
      },
    };
  },
};

function tooLarge(file: string): FileOutcome {
  return {
    kind: 'error',
    message: `textfile ${JSON.stringify(file)} is larger than ${MAX_TEXTFILE_BYTES} bytes`,
  };
}

/** Reasons node_exporter 1.5 refuses (or would crash on) a parsed file; undefined when it is fine. */
function checkFamilies(families: readonly ParsedFamily[], invalidUtf8: boolean): string | undefined {
  for (const family of families) {
    for (const sample of family.samples) {
      if (sample.timestampMs !== undefined)
        return 'contains unsupported client-side timestamps, skipping entire file';
      for (const name of Object.keys(sample.labels)) {
        if (name.startsWith('__'))
          return `has a reserved label name ${JSON.stringify(name)} (names starting with __)`;
        // Go rejects label values that are not valid UTF-8 while parsing.
        if (invalidUtf8 && (sample.labels[name] ?? '').includes('\ufffd')) {
          return `has a label value that is not valid UTF-8 (${family.name})`;
        }
      }
    }
  }
  return undefined;
}

/** Reads the whole file, or returns undefined once it passes MAX_TEXTFILE_BYTES (it may grow meanwhile). */
async function readCapped(handle: fsp.FileHandle, sizeHint: number): Promise<Uint8Array | undefined> {
  let buffer = Buffer.allocUnsafe(Math.min(Math.max(sizeHint + 1, 4096), MAX_TEXTFILE_BYTES + 1));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (buffer.length > MAX_TEXTFILE_BYTES) return undefined;
      const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_TEXTFILE_BYTES + 1));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

/**
 * The directories to read, as node_exporter 1.5 computes them: Go's filepath.Glob of the setting, or the
 * setting itself when the glob is malformed or matches nothing.
 */
async function globDirectories(pattern: string): Promise<string[]> {
  const matches = await goGlob(pattern);
  return matches === undefined || matches.length === 0 ? [pattern] : matches;
}

/** Go's filepath.Glob on Unix; undefined for a malformed pattern. I/O errors just mean no match. */
async function goGlob(pattern: string): Promise<string[] | undefined> {
  const segments = pattern.split('/');
  if (segments.some((segment) => compileGlobSegment(segment) === undefined)) return undefined;
  if (!hasGlobMeta(pattern)) {
    try {
      await fsp.lstat(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const slash = pattern.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : pattern.slice(0, slash);
  const filePattern = pattern.slice(slash + 1);
  if (!hasGlobMeta(dir)) return globIn(dir, filePattern);
  if (dir === pattern) return undefined;
  const parents = await goGlob(dir);
  if (parents === undefined) return undefined;
  const out: string[] = [];
  for (const parent of parents) out.push(...(await globIn(parent, filePattern)));
  return out;
}

async function globIn(dir: string, filePattern: string): Promise<string[]> {
  const matcher = compileGlobSegment(filePattern);
  if (matcher === undefined) return [];
  try {
    if (!(await fsp.stat(dir)).isDirectory()) return [];
    const names = sortBytewise(await fsp.readdir(dir));
    return names.filter((name) => matcher.test(name)).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** Go sorts file names by their UTF-8 bytes. */
function sortBytewise(names: string[]): string[] {
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Whether the directory entry itself exists (lstat: a dangling symlink exists). */
async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}

function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err
    ? (err as { code: unknown }).code
    : undefined;
}
