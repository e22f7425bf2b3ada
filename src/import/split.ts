/**
 * Cuts a backfill file, fed line by line, into pieces that `parseExposition` can parse one at a time, so
 * a file of any size is held in memory one bounded piece at a time, and parse errors keep their line
 * numbers in the file.
 *
 * A piece is cut:
 *   - when it has grown past `maxChars`, before the next sample or the next family's metadata; when the
 *     cut falls inside a family, that family's metadata lines (`# HELP`/`# TYPE`/`# UNIT`) are repeated
 *     at the head of the next piece, so its samples keep their type;
 *   - before a family that already appeared in the piece: that is the next scrape of a file of several
 *     scrapes concatenated (the parsers reject a family's second HELP/TYPE, and OpenMetrics rejects
 *     interleaved families), so each piece holds every family once and in one run of lines;
 *   - after an OpenMetrics `# EOF`: what follows is another exposition. Other OpenMetrics pieces get a
 *     synthetic `# EOF` appended.
 *
 * Because every family is one run of lines in a piece, the parser's output (families in order of first
 * appearance, samples in input order) lists the samples in file order, and `sampleLines` gives each its
 * line. Which family a line belongs to follows each parser's own rules (Go's for the text format, the
 * OpenMetrics type suffixes); the parser still validates everything.
 */
import type { InputFormat } from '../expfmt/types';

export interface Piece {
  /** Exposition text for the parser. */
  readonly text: string;
  /** File lines of the repeated metadata lines at the head of `text`. */
  readonly headerLines: readonly number[];
  /** File line of the first line after the header; the body's lines follow it one for one. */
  readonly firstLine: number;
  readonly bodyLines: number;
  /** File line of every sample line of the body, in order. */
  readonly sampleLines: readonly number[];
  /** OpenMetrics: true when the body ends with the file's own `# EOF` (else one was appended). */
  readonly endsWithEof: boolean;
}

/** The file line of a 1-based line number of `piece.text`. */
export function fileLine(piece: Piece, pieceLine: number): number {
  const h = piece.headerLines.length;
  if (pieceLine <= h) return piece.headerLines[pieceLine - 1] ?? piece.firstLine;
  const body = pieceLine - h;
  // Past the body: the appended `# EOF`, or the end of the input; both belong to the last line.
  return piece.firstLine + Math.min(body, Math.max(piece.bodyLines, 1)) - 1;
}

/**
 * Body lines [start, end) (0-based) of `piece`, under the same header: used to check the lines before and
 * after a syntax error too. An OpenMetrics slice without the file's `# EOF` gets one appended.
 */
export function slicePiece(piece: Piece, start: number, end: number, format: InputFormat): Piece | undefined {
  if (start >= end) return undefined;
  const h = piece.headerLines.length;
  const lines = piece.text.split('\n');
  const firstLine = piece.firstLine + start;
  const lastLine = piece.firstLine + end - 1;
  const endsWithEof = piece.endsWithEof && end === piece.bodyLines;
  let text = [...lines.slice(0, h), ...lines.slice(h + start, h + end)].join('\n') + '\n';
  if (format === 'openmetrics' && !endsWithEof) text += '# EOF\n';
  return {
    text,
    headerLines: piece.headerLines,
    firstLine,
    bodyLines: end - start,
    sampleLines: piece.sampleLines.filter((l) => l >= firstLine && l <= lastLine),
    endsWithEof,
  };
}

type LineKind =
  | { readonly kind: 'blank' }
  | { readonly kind: 'comment' }
  | { readonly kind: 'eof' }
  | { readonly kind: 'meta'; readonly name: string; readonly type?: string }
  | { readonly kind: 'sample'; readonly name: string };

const BLANK: LineKind = { kind: 'blank' };
const COMMENT: LineKind = { kind: 'comment' };
const EOF: LineKind = { kind: 'eof' };

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function isMetricChar(c: number, first: boolean): boolean {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;
  return letter || (!first && c >= 48 && c <= 57);
}

function metricNameAt(line: string, start: number): string {
  let i = start;
  while (i < line.length && isMetricChar(line.charCodeAt(i), i === start)) i++;
  return line.slice(start, i);
}

/** Classifies a line as each parser reads it: what matters here is which family it belongs to. */
export function classifyLine(line: string, format: InputFormat): LineKind {
  let i = 0;
  if (format === 'text') while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  if (i >= line.length) return BLANK;
  if (line.charCodeAt(i) !== 35) return { kind: 'sample', name: metricNameAt(line, i) };
  if (format === 'openmetrics') {
    if (line === '# EOF') return EOF;
    const m = /^# (TYPE|HELP|UNIT) /.exec(line);
    if (m === null) return COMMENT;
    const name = metricNameAt(line, 7);
    if (name === '') return COMMENT;
    return m[1] === 'TYPE'
      ? { kind: 'meta', name, type: line.slice(8 + name.length) }
      : { kind: 'meta', name };
  }
  // Text: `#`, blanks, HELP or TYPE, blanks, the name, blanks, the rest (Go's TextParser).
  const m = /^#[ \t]*(HELP|TYPE)[ \t]+/.exec(line.slice(i));
  if (m === null) return COMMENT;
  const start = i + m[0].length;
  const name = metricNameAt(line, start);
  if (name === '') return COMMENT;
  if (m[1] !== 'TYPE') return { kind: 'meta', name };
  const type = line
    .slice(start + name.length)
    .replace(/\\/g, '')
    .trim()
    .toLowerCase();
  return { kind: 'meta', name, type };
}

/** OpenMetrics sample-name suffixes per declared type (the bare name where `bare`). */
const OM_SUFFIXES: ReadonlyMap<string, { bare: boolean; suffixes: readonly string[] }> = new Map([
  ['counter', { bare: false, suffixes: ['_total', '_created'] }],
  ['gauge', { bare: true, suffixes: [] }],
  ['histogram', { bare: false, suffixes: ['_bucket', '_count', '_sum', '_created'] }],
  ['gaugehistogram', { bare: false, suffixes: ['_bucket', '_gcount', '_gsum'] }],
  ['summary', { bare: true, suffixes: ['_count', '_sum', '_created'] }],
  ['info', { bare: false, suffixes: ['_info'] }],
  ['stateset', { bare: true, suffixes: [] }],
  ['unknown', { bare: true, suffixes: [] }],
]);

function omFits(family: string, type: string, sample: string): boolean {
  const spec = OM_SUFFIXES.get(type);
  if (spec === undefined) return sample === family;
  if (sample === family) return spec.bare;
  return sample.startsWith(family) && spec.suffixes.includes(sample.slice(family.length));
}

interface Group {
  readonly name: string;
  type: string;
  hasSamples: boolean;
  /** The group's metadata lines (text, file line) before its first sample. */
  readonly header: { text: string; line: number }[];
}

export class ExpositionSplitter {
  private lines: string[] = [];
  private chars = 0;
  private headerLines: number[] = [];
  private firstLine = 0;
  private bodyLines = 0;
  private sampleLines: number[] = [];
  private current: Group | undefined;
  /** Families of the current piece. */
  private groups = new Set<string>();
  /** Text format: declared types of the current piece's families (Go resolves `_sum` etc. with them). */
  private types = new Map<string, string>();
  private readonly out: Piece[] = [];

  constructor(
    readonly format: InputFormat,
    private readonly maxChars = 4 * 1024 * 1024,
  ) {}

  /** Adds one line (without its line feed); returns the pieces completed by it. */
  push(line: string, lineNo: number): Piece[] {
    const k = classifyLine(line, this.format);
    if (k.kind === 'sample' || k.kind === 'meta') {
      const family = this.familyOf(k.name);
      const current = this.current;
      const continues =
        current !== undefined && current.name === family && (k.kind === 'sample' || !current.hasSamples);
      if (!continues && this.groups.has(family)) {
        this.cut(false); // the next scrape, or an interleaved family
      } else if (
        this.chars >= this.maxChars &&
        this.sampleLines.length > 0 &&
        (k.kind === 'sample' || !continues)
      ) {
        // Never a piece of metadata alone: a cut needs a sample before it.
        this.cut(continues);
      }
      if (!continues || this.current === undefined) {
        this.current = { name: family, type: '', hasSamples: false, header: [] };
        this.groups.add(family);
      }
      const group = this.current;
      if (k.kind === 'meta') {
        if (k.type !== undefined) {
          group.type = k.type;
          this.types.set(family, k.type);
        }
        group.header.push({ text: line, line: lineNo });
      } else {
        group.hasSamples = true;
        this.sampleLines.push(lineNo);
      }
    }
    this.append(line, lineNo);
    if (k.kind === 'eof') {
      this.emit(true);
      this.reset();
    }
    const done = this.out.splice(0);
    return done;
  }

  /** Ends the input; returns the last piece, if any line is left. */
  end(): Piece[] {
    if (this.bodyLines > 0) this.emit(false);
    return this.out.splice(0);
  }

  private append(line: string, lineNo: number): void {
    if (this.bodyLines === 0) this.firstLine = lineNo;
    this.lines.push(line);
    this.chars += line.length + 1;
    this.bodyLines++;
  }

  /** Which family a sample or metadata name belongs to, by the parser's rules. */
  private familyOf(name: string): string {
    if (this.format === 'openmetrics') {
      const c = this.current;
      return c !== undefined && omFits(c.name, c.type === '' ? 'unknown' : c.type, name) ? c.name : name;
    }
    // Go's setOrCreateCurrentMF: an existing family of that exact name, else the summary or histogram
    // this is a `_count`/`_sum`/`_bucket` of, else a family of its own.
    if (this.groups.has(name)) return name;
    const suffix = /_(count|sum|bucket)$/.exec(name);
    if (suffix !== null) {
      const base = name.slice(0, -suffix[0].length);
      const type = this.types.get(base);
      if (type === 'histogram' || (type === 'summary' && suffix[1] !== 'bucket')) return base;
    }
    return name;
  }

  /** Ends the current piece before the line being pushed; `repeatHeader` when that line continues a family. */
  private cut(repeatHeader: boolean): void {
    if (this.bodyLines > 0) this.emit(false);
    const group = this.current;
    this.reset();
    if (repeatHeader && group !== undefined) {
      this.current = group;
      this.groups.add(group.name);
      if (group.type !== '') this.types.set(group.name, group.type);
      for (const h of group.header) {
        this.lines.push(h.text);
        this.chars += h.text.length + 1;
        this.headerLines.push(h.line);
      }
    }
  }

  private emit(endsWithEof: boolean): void {
    let text = this.lines.join('\n') + '\n';
    if (this.format === 'openmetrics' && !endsWithEof) text += '# EOF\n';
    this.out.push({
      text,
      headerLines: this.headerLines,
      firstLine: this.firstLine,
      bodyLines: this.bodyLines,
      sampleLines: this.sampleLines,
      endsWithEof,
    });
  }

  private reset(): void {
    this.lines = [];
    this.chars = 0;
    this.headerLines = [];
    this.firstLine = 0;
    this.bodyLines = 0;
    this.sampleLines = [];
    this.current = undefined;
    this.groups = new Set();
    this.types = new Map();
  }
}
