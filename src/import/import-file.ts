/**
 * Imports one backfill file in two passes over it: the first parses and checks every line and writes
 * nothing, the second (only when the first found no error) parses again and writes. So a file is
 * all-or-nothing while never more than one piece of it (see split.ts) and one write batch are in memory.
 */
import { performance } from 'node:perf_hooks';
import { ParseError, parseExposition } from '../expfmt/parse';
import type { InputFormat, ParsedFamily, ParsedSample } from '../expfmt/types';
import type { Logger } from '../log/logger';
import type { PendingScrape, Target } from '../sink/types';
import type { SampleWriter } from '../sink/writer';
import { SampleChecker, type Verdict } from './check';
import { ExpositionSplitter, fileLine, slicePiece, type Piece } from './split';
import { LineTooLongError, lastLine, readLines, type Source } from './source';

export interface ImportOptions {
  /** `auto`: OpenMetrics when the last line is `# EOF`, else the text format. */
  readonly format: 'auto' | InputFormat;
  readonly nowMs: number;
  readonly retentionRawMs: number;
  /** How far past nowMs a sample may be and still be stored. */
  readonly futureMs: number;
  readonly instance: string;
  readonly job: string;
  readonly batchSamples: number;
  /** Errors listed in the report; the rest are only counted. */
  readonly maxErrors: number;
  /** Size of the pieces parsed at once (tests make it small). */
  readonly pieceChars?: number;
}

export interface TimeRange {
  from: number;
  to: number;
}

export interface FileReport {
  readonly file: string;
  format: InputFormat;
  /** Sample lines in the file. */
  samples: number;
  series: number;
  written: number;
  /** In the file and kept (within retention), whether newly written or already stored. */
  kept: number;
  keptRange?: TimeRange;
  /** Same series and timestamp as an earlier line: the first one is kept. */
  duplicates: number;
  outOfRetention: number;
  outOfRetentionRange?: TimeRange;
  readonly errors: string[];
  errorCount: number;
  /** Writing failed after some batches were stored (database error); re-importing completes it. */
  partial: boolean;
  /** Wall time of each pass, seconds. */
  checkSeconds: number;
  writeSeconds: number;
}

/** Grows `range` to include t. */
function widen(range: TimeRange | undefined, t: number): TimeRange {
  if (range === undefined) return { from: t, to: t };
  if (t < range.from) range.from = t;
  if (t > range.to) range.to = t;
  return range;
}

/** Samples of one write, grouped by (instance, job) as the writer takes them: one PendingScrape each. */
class Batch {
  private readonly byTarget = new Map<
    string,
    { target: Target; families: Map<ParsedFamily, ParsedSample[]> }
  >();
  size = 0;

  constructor(private readonly url: string) {}

  add(family: ParsedFamily, sample: ParsedSample, v: Extract<Verdict, { kind: 'ok' }>): void {
    const key = JSON.stringify([v.instance, v.job]);
    let t = this.byTarget.get(key);
    if (t === undefined) {
      t = { target: { url: this.url, instance: v.instance, job: v.job }, families: new Map() };
      this.byTarget.set(key, t);
    }
    let samples = t.families.get(family);
    if (samples === undefined) {
      samples = [];
      t.families.set(family, samples);
    }
    // The parsed sample itself when its labels needed no change (no instance/job of its own).
    samples.push(
      v.labels === sample.labels
        ? sample
        : { name: sample.name, labels: v.labels, value: sample.value, timestampMs: v.timeMs },
    );
    this.size++;
  }

  scrapes(timeMs: number): PendingScrape[] {
    const out: PendingScrape[] = [];
    for (const { target, families } of this.byTarget.values()) {
      let sampleCount = 0;
      const list: ParsedFamily[] = [];
      for (const [family, samples] of families) {
        sampleCount += samples.length;
        list.push({ ...family, samples });
      }
      out.push({ target, timeMs, families: list, sampleCount, containerUsage: [] });
    }
    return out;
  }
}

/** Cuts the kept samples into batches of `size`, ready to be written in order. */
class Batcher {
  private current: Batch;
  readonly ready: Batch[] = [];

  constructor(
    private readonly url: string,
    private readonly size: number,
  ) {
    this.current = new Batch(url);
  }

  add(family: ParsedFamily, sample: ParsedSample, v: Extract<Verdict, { kind: 'ok' }>): void {
    this.current.add(family, sample, v);
    if (this.current.size >= this.size) this.seal();
  }

  /** Makes the samples added so far a batch of their own (at the end of the input). */
  seal(): void {
    if (this.current.size === 0) return;
    this.ready.push(this.current);
    this.current = new Batch(this.url);
  }
}

type SampleVisitor = (family: ParsedFamily, sample: ParsedSample, verdict: Verdict, line: number) => void;

/**
 * One pass over the file: split, parse, check; `visit` sees every parsed sample with its verdict and
 * line, `afterBatch` runs between batches of lines (where pass 2 writes). Parse errors go to `fail`.
 */
async function runPass(
  source: Source,
  format: InputFormat,
  options: ImportOptions,
  checker: SampleChecker,
  visit: SampleVisitor,
  fail: (line: number, message: string) => void,
  afterBatch: () => Promise<void>,
): Promise<void> {
  const splitter = new ExpositionSplitter(format, options.pieceChars);
  let endedWithEof = false;
  let lines = 0;
  let listed = 0;
  /** Parses a piece and visits its samples; after a syntax error, the lines before and after it too. */
  const parsePiece = (piece: Piece): void => {
    let families: ParsedFamily[];
    try {
      families = parseExposition(piece.text, format);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      const h = piece.headerLines.length;
      const at = err.line - h - 1; // body index of the failed line (negative: in the header)
      // Stop splitting once enough errors are listed: each split parses the rest of the piece again.
      const more = ++listed < options.maxErrors && at >= 0 && at < piece.bodyLines;
      const before = more ? slicePiece(piece, 0, at, format) : undefined;
      if (before !== undefined) parsePiece(before);
      fail(fileLine(piece, err.line), err.detail);
      const after = more ? slicePiece(piece, at + 1, piece.bodyLines, format) : undefined;
      if (after !== undefined) parsePiece(after);
      return;
    }
    let k = 0;
    for (const family of families) {
      for (const sample of family.samples) {
        const line = piece.sampleLines[k++] ?? piece.firstLine;
        visit(family, sample, checker.check(sample), line);
      }
    }
  };
  const handle = (pieces: readonly Piece[]): void => {
    for (const piece of pieces) {
      endedWithEof = piece.endsWithEof;
      parsePiece(piece);
    }
  };
  try {
    for await (const batch of readLines(source)) {
      let no = batch.first;
      for (const line of batch.lines) handle(splitter.push(line, no++));
      lines = no - 1;
      await afterBatch();
    }
  } catch (err) {
    if (err instanceof LineTooLongError) {
      fail(err.line, err.message);
      return;
    }
    const zlib = zlibError(err);
    if (zlib !== undefined) {
      fail(lines + 1, zlib);
      return;
    }
    throw err;
  }
  handle(splitter.end());
  await afterBatch();
  if (format === 'openmetrics' && !endedWithEof)
    fail(Math.max(lines, 1), 'the input does not end with "# EOF" (OpenMetrics requires it)');
}

/** A decompression error (told by its code: zlib's errors are not always instances of this realm's Error). */
function zlibError(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err) || !('message' in err)) return undefined;
  return String(err.code).startsWith('Z_')
    ? `cannot decompress the gzip input: ${String(err.message)}`
    : undefined;
}

export function newReport(file: string, format: InputFormat): FileReport {
  return {
    file,
    format,
    samples: 0,
    series: 0,
    written: 0,
    kept: 0,
    duplicates: 0,
    outOfRetention: 0,
    errors: [],
    errorCount: 0,
    partial: false,
    checkSeconds: 0,
    writeSeconds: 0,
  };
}

export async function detectFormat(source: Source, format: ImportOptions['format']): Promise<InputFormat> {
  if (format !== 'auto') return format;
  return (await lastLine(source)) === '# EOF' ? 'openmetrics' : 'text';
}

function checkerFor(format: InputFormat, o: ImportOptions): SampleChecker {
  return new SampleChecker({
    format,
    oldestMs: o.nowMs - o.retentionRawMs,
    newestMs: o.nowMs + o.futureMs,
    instance: o.instance,
    job: o.job,
  });
}

/** Pass 1: every check, nothing written. Fills the report; its errors say whether the file may be written. */
export async function validateFile(source: Source, options: ImportOptions): Promise<FileReport> {
  let format: InputFormat;
  try {
    format = await detectFormat(source, options.format);
  } catch (err) {
    const zlib = zlibError(err);
    if (zlib === undefined) throw err;
    const report = newReport(source.name, options.format === 'auto' ? 'text' : options.format);
    report.errors.push(zlib);
    report.errorCount++;
    return report;
  }
  const started = performance.now();
  const report = newReport(source.name, format);
  const fail = (line: number, message: string): void => {
    if (report.errors.length < options.maxErrors) report.errors.push(`line ${line}: ${message}`);
    report.errorCount++;
  };
  const checker = checkerFor(format, options);
  await runPass(
    source,
    format,
    options,
    checker,
    (_family, _sample, v, line) => {
      report.samples++;
      switch (v.kind) {
        case 'error':
          fail(line, v.message);
          break;
        case 'duplicate':
          report.duplicates++;
          break;
        case 'old':
        case 'future':
          report.outOfRetention++;
          report.outOfRetentionRange = widen(report.outOfRetentionRange, v.timeMs);
          break;
        case 'ok':
          report.kept++;
          report.keptRange = widen(report.keptRange, v.timeMs);
          break;
      }
    },
    fail,
    async () => undefined,
  );
  report.series = checker.series;
  report.checkSeconds = (performance.now() - started) / 1000;
  return report;
}

/** Thrown when pass 2 meets an error pass 1 did not see (the file changed in between). */
export class ImportChangedError extends Error {
  constructor(line: number, message: string) {
    super(`the input changed while being imported: line ${line}: ${message}`);
  }
}

/**
 * Pass 2: writes the kept samples of a file that passed validateFile, in batches of about
 * `batchSamples`. Adds to report.written as batches are stored.
 */
export async function writeFile(
  source: Source,
  report: FileReport,
  options: ImportOptions,
  writer: SampleWriter,
  logger: Logger,
): Promise<void> {
  const checker = checkerFor(report.format, options);
  const batcher = new Batcher(`import:${source.name}`, options.batchSamples);
  const started = performance.now();
  let nextProgress = 1_000_000;
  // One write in flight while the next batch is parsed: the database and this process work side by side.
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  const flush = async (): Promise<void> => {
    for (let batch = batcher.ready.shift(); batch !== undefined; batch = batcher.ready.shift()) {
      await inFlight;
      if (failure !== undefined) throw failure.err;
      inFlight = writer.write(batch.scrapes(options.nowMs), options.nowMs).then(
        (r) => {
          report.written += r.written;
          if (report.written >= nextProgress) {
            logger.info({ file: source.name, written: report.written, of: report.kept }, 'importing');
            nextProgress += 1_000_000;
          }
        },
        (err: unknown) => {
          failure = { err };
        },
      );
    }
  };
  const fail = (line: number, message: string): never => {
    throw new ImportChangedError(line, message);
  };
  try {
    await runPass(
      source,
      report.format,
      options,
      checker,
      (family, sample, v, line) => {
        if (v.kind === 'ok') batcher.add(family, sample, v);
        else if (v.kind === 'error') fail(line, v.message);
      },
      fail,
      flush,
    );
    batcher.seal();
    await flush();
  } finally {
    // Never leave a write running (or its failure unobserved) past this file.
    await inFlight;
    report.writeSeconds = (performance.now() - started) / 1000;
  }
  if (failure !== undefined) throw failure.err;
}
