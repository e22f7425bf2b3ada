/**
 * Parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0.
 *
 * A hand-written scanner over the input string (no regex per line, no line splitting): the sink parses
 * hundreds of thousands of samples per second with it, and the textfile collector reads users' files.
 *
 * Text format: accepts exactly what Go's `expfmt.TextParser` (prometheus/common, as built into
 * node_exporter 1.5) accepts, so a `.prom` file that node_exporter rejects is rejected here too
 * (checked against the real binary on thousands of mutated files, error line numbers included):
 *   - blanks and tabs separate tokens, lines may start with blanks, blank lines are ignored;
 *   - `# HELP name text` (escapes `\\` and `\n`; `\"` and other escapes are errors), `# TYPE name type`
 *     (counter, gauge, histogram, summary, untyped; any letter case; Go drops backslashes from it),
 *     other `#` lines are comments (`# UNIT` too); a second HELP or TYPE for a family, or a TYPE after
 *     its samples, is an error; incomplete HELP/TYPE lines are ignored;
 *   - label sets may be empty (`{}`) and may end with a comma; label values escape `\\`, `\"`, `\n`;
 *   - an optional integer timestamp in milliseconds; nothing may follow it, not even a blank;
 *   - every line must end with `\n` (a CR before it is part of the value and fails);
 *   - `name_sum`/`name_count` go to a preceding summary `name`, `name_bucket`/`_sum`/`_count` to a
 *     preceding histogram `name` (Go's rules; `_created` is not special in this format);
 *   - samples of a family may be interleaved with other families; they are collected together;
 *   - one deliberate difference: Go accepts `# TYPE x gauge_histogram` but cannot represent its samples
 *     (node_exporter 1.5 panics); the TYPE line is accepted, a sample of it is a ParseError.
 *
 * OpenMetrics 1.0: syntax and structure are checked to the letter of the spec's ABNF: single spaces,
 * no blank lines, no other comments, metadata (`TYPE`, `HELP`, `UNIT`, each at most once) before the
 * family's samples, families not interleaved and no sample name in two families, sample names matching
 * their family's type (`<name>_total`/`_created` for counters, `_bucket`/`_count`/`_sum`/`_created` for
 * histograms, `_bucket`/`_gcount`/`_gsum` for gauge histograms, `<name>_info` for info, ...; a sample
 * that fits no declared family starts an `unknown` one), the UNIT a suffix of the name, required
 * `le`/`quantile`/state labels present, label names not starting with `__`, exemplars
 * (`# {labels} value [timestamp]`, at most 128 characters of labels, validated and dropped) only on
 * counter `_total` and `_bucket` samples, and `# EOF` last. One allowance, as Prometheus makes it: a
 * metadata name may come back for another family when the sample names differ, because client_golang
 * writes gauge `x` and counter `x_total` as two families named `x`. Timestamps are seconds (a real
 * number) and come out as whole milliseconds (rounded). Value-level rules (bucket order, +Inf bucket
 * present, counters non-negative, quantiles in [0, 1], info values 1) are not enforced: callers decide,
 * as for duplicate series.
 *
 * Both formats:
 *   - values: `[+-]digits[.digits][e[+-]digits]`, `[+-]Inf`/`Infinity`, `NaN` (any case), see float.ts;
 *   - `le` labels of histograms and `quantile` labels of summaries must be floats and are normalised to
 *     Prometheus' canonical text (`formatOpenMetricsFloat`: `le="1"` and `le="1.0"` both become `"1.0"`,
 *     `"+inf"` becomes `"+Inf"`, `"1000000"` becomes `"1e+06"`), as Prometheus 3 does on ingestion;
 *   - `__name__` is never a valid label name; duplicate label names in one sample are errors;
 *   - duplicate series are kept as they come; families without samples are dropped;
 *   - families come out in order of first appearance; samples in input order.
 *
 * Family names and types: text families are named as declared (samples without metadata make an untyped
 * family named after the sample). OpenMetrics `counter foo` becomes counter `foo_total` (the name its
 * samples carry, and node_exporter's naming), `info foo` becomes gauge `foo_info`; `unknown` is untyped,
 * `stateset` is a gauge, `gaugehistogram` a histogram (samples keep `_gcount`/`_gsum`). Every sample
 * keeps its full name, so a consumer never needs the family to know what the sample was called.
 *
 * Memory: label values without escapes are slices of the input, which V8 may keep alive as long as
 * the parsed samples are.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { HostscopeError } from '../errors';
import type { Labels, MetricType } from '../metrics/types';
import { formatOpenMetricsFloat, parseFloatText, parseFloatToken } from './float';
import type { InputFormat, ParsedFamily, ParsedSample, SampleColumns, SeriesLine } from './types';

/** Malformed exposition input; the message carries the 1-based line number. */
export class ParseError extends HostscopeError {
  constructor(
    readonly line: number,
    readonly detail: string,
    format: InputFormat,
  ) {
    super(
      'E_PARSE',
      `${format === 'text' ? 'text format' : 'OpenMetrics'} parsing error in line ${line}: ${detail}`,
    );
  }
}

const LF = 10;
const TAB = 9;
const SP = 32;
const HASH = 35;
const QUOTE = 34;
const BACKSLASH = 92;
const EQUALS = 61;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const PLUS = 43;
const MINUS = 45;
const CH_0 = 48;
const CH_9 = 57;
const CH_N = 110;

// Character classes for ASCII codes (anything >= 128 is in no class).
const METRIC_START = 1;
const METRIC_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;

function buildCharClasses(): Uint8Array {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
    const digit = c >= CH_0 && c <= CH_9;
    let bits = 0;
    if (letter || c === 58) bits |= METRIC_START | METRIC_CHAR; // ':' only in metric names
    if (digit) bits |= METRIC_CHAR | LABEL_CHAR;
    if (letter) bits |= LABEL_START | LABEL_CHAR;
    table[c] = bits;
  }
  return table;
}

const CHAR_CLASS = buildCharClasses();

function hasClass(c: number, cls: number): boolean {
  return c < 128 && ((CHAR_CLASS[c] as number) & cls) !== 0;
}

const NO_LABELS: Labels = Object.freeze({});

const hasOwn = Object.prototype.hasOwnProperty;

function setLabel(labels: Record<string, string>, name: string, value: string): void {
  // Plain objects keep V8's fast properties; only `__proto__` needs defining rather than assigning.
  if (name === '__proto__') {
    Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    labels[name] = value;
  }
}

/**
 * A copy of `text` that does not keep the string it was sliced from alive: a slice of a flattened
 * concatenation refers to that short flat string only. Cached pieces of one scrape must not pin its
 * whole body (tens of MB) for as long as the series exist.
 */
function detach(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

/** What the text of one sample line up to its value parsed to. */
interface CachedLine extends SeriesLine {
  readonly name: string;
  readonly labels: Labels;
  /** Type of the family at the time: `le`/`quantile` normalisation depends on it. */
  readonly type: MetricType;
}

/**
 * What the last parse of one source (a scrape target) learnt about its sample lines. Exporters write the
 * same series in the same order every time, so the next parse compares each line with the line at the
 * same position last time (by a keyed 64-bit hash of its text up to the value; the body itself is not
 * kept) and, when everything up to the value is identical, reuses that line's name and
 * labels object instead of scanning and allocating them again: only the value is parsed. Consumers see
 * the same objects for the same series, so they can compare labels by identity. A failed parse leaves
 * the cache as it was. Text format only (OpenMetrics parses in full).
 */
export class ParseCache {
  /** @internal Sample lines of the last successful parse, in order. */
  lines: readonly CachedLine[] = [];
  /**
   * @internal Per line of the last parse: the byte length of its text up to the value, and a 64-bit
   * keyed hash of that text (two 32-bit halves). The cache keeps these rather than the body: a big
   * target's body is tens of MB, which a scraper would otherwise hold twice.
   */
  lengths: Int32Array = new Int32Array(0);
  /** @internal */
  hashA: Int32Array = new Int32Array(0);
  /** @internal */
  hashB: Int32Array = new Int32Array(0);
  /** @internal The last sliced parse queued on this cache: they take turns (see parseExpositionSliced). */
  turn: Promise<unknown> = Promise.resolve();

  get size(): number {
    return this.lines.length;
  }

  /** @internal Keeps what a successful parse learnt. */
  keep(lines: readonly CachedLine[], lengths: Int32Array, hashA: Int32Array, hashB: Int32Array): void {
    this.lines = lines;
    this.lengths = lengths;
    this.hashA = hashA;
    this.hashB = hashB;
  }
}

/**
 * Keys of the line hashes, random per process, so that no exposition can be crafted to make two
 * different lines look alike to the cache (which would file one series' value under another).
 */
const [KEY_A, KEY_B] = ((): [number, number] => {
  // From the kernel directly: node:crypto would load OpenSSL's bindings (~1 MB resident) into an exporter
  // that has no other use for them.
  const b = Buffer.alloc(8);
  const fd = openSync('/dev/urandom', 'r');
  try {
    if (readSync(fd, b, 0, 8, null) !== 8) throw new Error('short read from /dev/urandom');
  } finally {
    closeSync(fd);
  }
  return [b.readInt32LE(0), b.readInt32LE(4)];
})();

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Two independent keyed 32-bit hashes of buf[from, to) (FNV-1a lanes, murmur3 finaliser). */
function lineHash(buf: Buffer, from: number, to: number, out: Int32Array, at: number): void {
  let a = KEY_A ^ 0x811c9dc5;
  let b = KEY_B ^ 0x050c5d1f;
  for (let i = from; i < to; i++) {
    const c = buf[i] as number;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  out[at] = fmix32(a ^ (to - from));
  out[at + 1] = fmix32(b + Math.imul(to - from, 0x27d4eb2d));
}

function quoteChar(c: number): string {
  if (Number.isNaN(c)) return 'end of input';
  if (c === LF) return "'\\n'";
  if (c === TAB) return "'\\t'";
  return `'${String.fromCharCode(c)}'`;
}

/** The OpenMetrics type as declared; `type` is what hostscope's model calls it. */
type OmType =
  'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

const OM_TYPES: ReadonlyMap<string, { om: OmType; type: MetricType; suffixes: readonly string[] }> = new Map([
  ['counter', { om: 'counter', type: 'counter', suffixes: ['_total', '_created'] }],
  ['gauge', { om: 'gauge', type: 'gauge', suffixes: [] }],
  ['histogram', { om: 'histogram', type: 'histogram', suffixes: ['_bucket', '_count', '_sum', '_created'] }],
  ['gaugehistogram', { om: 'gaugehistogram', type: 'histogram', suffixes: ['_bucket', '_gcount', '_gsum'] }],
  ['summary', { om: 'summary', type: 'summary', suffixes: ['_count', '_sum', '_created'] }],
  ['info', { om: 'info', type: 'gauge', suffixes: ['_info'] }],
  ['stateset', { om: 'stateset', type: 'gauge', suffixes: [] }],
  ['unknown', { om: 'unknown', type: 'untyped', suffixes: [] }],
]);

function acceptsBareName(om: OmType): boolean {
  return om === 'unknown' || om === 'gauge' || om === 'stateset' || om === 'summary';
}

const TEXT_TYPES: ReadonlyMap<string, MetricType> = new Map([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'untyped'],
]);

interface FamilyBuilder {
  /** Text: the family name. OpenMetrics: the name in the metadata (without `_total`/`_info`). */
  readonly name: string;
  type: MetricType;
  om: OmType;
  typeSet: boolean;
  help: string;
  helpSet: boolean;
  unit: string;
  unitSet: boolean;
  /** OpenMetrics: line of the metadata that reopened an earlier family's name (0 when it did not). */
  reopenedAtLine: number;
  readonly samples: ParsedSample[];
  /** Columnar parses: indices of this family's samples in the columns. */
  readonly indices: number[];
}

function newFamily(name: string): FamilyBuilder {
  return {
    name,
    type: 'untyped',
    om: 'unknown',
    typeSet: false,
    help: '',
    helpSet: false,
    unit: '',
    unitSet: false,
    reopenedAtLine: 0,
    samples: [],
    indices: [],
  };
}

/** A family of a columnar parse: `samples` is only built when someone asks for it. */
class ColumnarFamily implements ParsedFamily {
  private built: ParsedSample[] | undefined;
  readonly columnar: { readonly columns: SampleColumns; readonly indices: readonly number[] };

  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly help: string,
    readonly unit: string | undefined,
    columns: SampleColumns,
    indices: readonly number[],
  ) {
    this.columnar = { columns, indices };
  }

  get samples(): readonly ParsedSample[] {
    if (this.built === undefined) {
      const { lines, values, timestamps } = this.columnar.columns;
      this.built = this.columnar.indices.map((i) => {
        const line = lines[i] as SeriesLine;
        return {
          name: line.name,
          labels: line.labels,
          value: values[i] as number,
          timestampMs: timestamps?.get(i),
        };
      });
    }
    return this.built;
  }
}

/** Number of samples of parsed families, without building the samples of columnar ones. */
export function countSamples(families: readonly ParsedFamily[]): number {
  let n = 0;
  for (const f of families) n += f.columnar === undefined ? f.samples.length : f.columnar.indices.length;
  return n;
}

/** Shared scanning state and helpers of both parsers. */
abstract class Scanner {
  pos = 0;
  line = 1;
  protected n: number;
  protected readonly families: FamilyBuilder[] = [];
  /** The last sample name and its family: consecutive samples of one metric reuse both. */
  protected lastName = '';
  protected lastFamily: FamilyBuilder | undefined;
  /** Label names of the previous sample by position, reused instead of slicing a new string each time. */
  private readonly recentLabelNames: string[] = [];
  /** Columnar parses: see own(). */
  protected keepsStrings = false;
  private interned: Map<string, string> | undefined;

  constructor(
    protected s: string,
    protected readonly format: InputFormat,
  ) {
    this.n = s.length;
  }

  fail(detail: string, line = this.line): never {
    throw new ParseError(line, detail, this.format);
  }

  protected failEof(): never {
    return this.fail('unexpected end of input stream');
  }

  /** Skips blanks and tabs; returns the code at the new position (NaN at the end of input). */
  protected skipBlanks(): number {
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === SP || c === TAB) c = s.charCodeAt(++this.pos);
    return c;
  }

  /** Advances over a metric name starting at pos; returns its end (== pos when there is none). */
  protected scanMetricName(): number {
    return this.scanName(METRIC_START, METRIC_CHAR);
  }

  /** Advances over a label name starting at pos; returns its end (== pos when there is none). */
  protected scanLabelName(): number {
    return this.scanName(LABEL_START, LABEL_CHAR);
  }

  /** A name: one character of class `first`, then any of class `rest`. */
  private scanName(first: number, rest: number): number {
    const s = this.s;
    let i = this.pos;
    if (!hasClass(s.charCodeAt(i), first)) return i;
    i++;
    while (hasClass(s.charCodeAt(i), rest)) i++;
    this.pos = i;
    return i;
  }

  /**
   * A string kept beyond this parse (columnar parses keep names and labels in the cache): detached from
   * the text it was sliced from, and one string per distinct text within a parse, since label values
   * repeat across series (`info="PCI-MSI-edge"` on every interrupt line).
   */
  protected own(text: string): string {
    if (!this.keepsStrings) return detach(text);
    const interned = (this.interned ??= new Map<string, string>());
    const hit = interned.get(text);
    if (hit !== undefined) return hit;
    const copy = detach(text);
    interned.set(copy, copy);
    return copy;
  }

  /** The sample name in s[start, end), reusing the previous sample's string when it is the same. */
  protected sampleName(start: number, end: number): string {
    const last = this.lastName;
    if (last.length === end - start && this.s.startsWith(last, start)) return last;
    return this.s.slice(start, end);
  }

  /** The label name at index `index` of the current sample, reusing the previous sample's string. */
  protected labelName(index: number, start: number, end: number): string {
    const cached = this.recentLabelNames[index];
    if (cached !== undefined && cached.length === end - start && this.s.startsWith(cached, start))
      return cached;
    const name = this.own(this.s.slice(start, end));
    this.recentLabelNames[index] = name;
    return name;
  }

  /**
   * Reads a quoted label value; pos is on the opening quote and ends after the closing one.
   * Escapes: `\\`, `\"`, `\n`.
   */
  protected readLabelValue(): string {
    this.pos++;
    const value = this.readEscaped(QUOTE, true);
    this.pos++;
    return value;
  }

  /**
   * Reads the rest of the line as a HELP text with escapes (`\\`, `\n`, and `\"` when allowed); pos ends
   * on the line feed.
   */
  protected readHelp(allowQuoteEscape: boolean): string {
    return this.readEscaped(LF, allowQuoteEscape);
  }

  /**
   * Reads text with escapes from pos up to `end`: the closing quote of a label value (a line feed before
   * it is an error) or the line feed ending a HELP text. pos ends on `end`. The text is sliced whole when
   * it has no escapes (the common case), else decoded run by run.
   */
  private readEscaped(end: typeof QUOTE | typeof LF, quoteEscape: boolean): string {
    const s = this.s;
    const n = this.n;
    const help = end === LF;
    const start = this.pos;
    let i = start;
    let out: string | undefined;
    for (;;) {
      let j = i;
      let c = s.charCodeAt(j);
      while (j < n && c !== end && c !== BACKSLASH && c !== LF) c = s.charCodeAt(++j);
      if (j >= n) return this.failEof();
      out = out === undefined ? s.slice(start, j) : out + s.slice(i, j);
      if (c === end) {
        this.pos = j;
        return out;
      }
      if (c === LF) return this.fail(`label value ${JSON.stringify(out)} contains unescaped new-line`);
      // A backslash.
      i = j + 1;
      if (i >= n) return this.failEof();
      const e = s.charCodeAt(i);
      if (e === BACKSLASH) out += '\\';
      else if (e === CH_N) out += '\n';
      else if (e === QUOTE && quoteEscape) out += '"';
      else if (help && e === LF) return this.fail('HELP text ends with a backslash');
      else return this.fail(`invalid escape sequence '\\${String.fromCharCode(e)}'${help ? ' in HELP' : ''}`);
      i++;
    }
  }

  /** Index of the next line feed at or after pos, or fails with "unexpected end". */
  protected endOfLine(): number {
    const i = this.s.indexOf('\n', this.pos);
    if (i < 0) return this.failEof();
    return i;
  }

  /** Consumes the line feed at pos. */
  protected newline(): void {
    this.pos++;
    this.line++;
  }

  /** Checks and normalises `le` (histograms) and `quantile` (summaries) label values. */
  protected specialLabel(type: MetricType, name: string, value: string): string {
    if ((type === 'histogram' && name === 'le') || (type === 'summary' && name === 'quantile')) {
      const v = parseFloatText(value);
      if (v === undefined)
        return this.fail(`expected float as value for '${name}' label, got ${JSON.stringify(value)}`);
      return formatOpenMetricsFloat(v);
    }
    return value;
  }

  protected result(): ParsedFamily[] {
    const out: ParsedFamily[] = [];
    for (const f of this.families) {
      if (f.samples.length === 0) continue;
      let name = f.name;
      if (this.format === 'openmetrics') {
        if (f.om === 'counter') name += '_total';
        else if (f.om === 'info') name += '_info';
      }
      out.push(
        f.unit === ''
          ? { name, type: f.type, help: f.help, samples: f.samples }
          : { name, type: f.type, help: f.help, unit: f.unit, samples: f.samples },
      );
    }
    return out;
  }

  abstract parse(): ParsedFamily[];
}

class TextParser extends Scanner {
  private readonly byName = new Map<string, FamilyBuilder>();
  /** Columnar parses (with a cache): the sample lines, values and timestamps of this parse. */
  private readonly next: CachedLine[] | undefined;
  private values: Float64Array;
  private timestamps: Map<number, number> | undefined;
  /** Where the value of the last sample parsed by sample() starts in `s`. */
  private valueStart = 0;
  private nameStart = 0;

  constructor(s: string, columnar = false) {
    super(s, 'text');
    this.next = columnar ? [] : undefined;
    this.keepsStrings = columnar;
    this.values = new Float64Array(0);
  }

  parse(): ParsedFamily[] {
    this.parseString();
    return this.result();
  }

  private parseString(): void {
    const n = this.n;
    while (this.pos < n) {
      const c = this.skipBlanks();
      if (this.pos >= n) break;
      if (c === LF) this.newline();
      else if (c === HASH) this.comment();
      else this.sample();
    }
  }

  /**
   * Parses a body with a cache: line by line over the bytes. A sample line whose bytes up to the value
   * equal those of the line at the same place in the previous body (a few lines ahead too, for removed
   * series) takes its name and labels from that line, so only the value is read; every other line is
   * decoded on its own and goes through the full parser. Lines end at LF bytes, which UTF-8 never uses
   * inside a character, so decoding line by line gives the same text as decoding the whole body.
   */
  *parseBuffer(buf: Buffer, cache: ParseCache, sliceLines: number): Generator<void, ParsedFamily[], void> {
    const next = this.next;
    if (next === undefined) throw new Error('parseBuffer needs a columnar parser');
    const prev = cache.lines;
    const prevLengths = cache.lengths;
    const prevA = cache.hashA;
    const prevB = cache.hashB;
    let capacity = Math.max(1024, prev.length + 64);
    this.values = new Float64Array(capacity);
    let lengths: Int32Array = new Int32Array(capacity);
    let hashA: Int32Array = new Int32Array(capacity);
    let hashB: Int32Array = new Int32Array(capacity);
    const h = new Int32Array(2);
    const n = buf.length;
    let cursor = 0;
    let p = 0;
    let lines = 0;
    while (p < n) {
      if (++lines === sliceLines) {
        lines = 0;
        yield;
      }
      if (next.length === capacity) {
        capacity *= 2;
        lengths = grow(lengths, capacity);
        hashA = grow(hashA, capacity);
        hashB = grow(hashB, capacity);
        const values = new Float64Array(capacity);
        values.set(this.values);
        this.values = values;
      }
      const c = buf[p] as number;
      if (prev.length > 0 && c !== HASH && c !== LF && c !== SP && c !== TAB) {
        const limit = Math.min(prev.length, cursor + LOOKAHEAD);
        let done = -1;
        let hashedLen = -1;
        for (let j = cursor; j < limit; j++) {
          const len = prevLengths[j] as number;
          if (p + len >= n) continue;
          if (len !== hashedLen) {
            lineHash(buf, p, p + len, h, 0);
            hashedLen = len;
          }
          if (h[0] !== prevA[j] || h[1] !== prevB[j]) continue;
          done = this.repeatedSample(buf, p, p + len, prev[j] as CachedLine);
          if (done >= 0) {
            const at = next.length - 1;
            lengths[at] = len;
            hashA[at] = h[0] as number;
            hashB[at] = h[1] as number;
            cursor = j + 1;
          }
          break;
        }
        if (done >= 0) {
          p = done;
          continue;
        }
      }
      // The full parser, on this line alone.
      const lf = buf.indexOf(LF, p);
      const lineEnd = lf < 0 ? n : lf + 1;
      this.s = buf.toString('utf8', p, lineEnd);
      this.n = this.s.length;
      this.pos = 0;
      const count = next.length;
      this.parseString();
      if (next.length > count) {
        const ascii = this.s.length === lineEnd - p;
        const bytes = (chars: number): number =>
          ascii ? chars : Buffer.byteLength(this.s.slice(0, chars), 'utf8');
        const from = p + bytes(this.nameStart);
        const to = p + bytes(this.valueStart);
        lengths[count] = to - from;
        lineHash(buf, from, to, h, 0);
        hashA[count] = h[0] as number;
        hashB[count] = h[1] as number;
      }
      p = lineEnd;
    }
    const columns: SampleColumns = {
      lines: next,
      values: this.values.subarray(0, next.length),
      timestamps: this.timestamps,
    };
    const out: ParsedFamily[] = [];
    for (const f of this.families) {
      if (f.indices.length === 0) continue;
      out.push(
        new ColumnarFamily(f.name, f.type, f.help, f.unit === '' ? undefined : f.unit, columns, f.indices),
      );
    }
    cache.keep(next, lengths, hashA, hashB);
    return out;
  }

  /**
   * A sample line whose text up to the value (buf[start, valueAt)) is that of `hit`: reads the value and
   * timestamp and records the sample. Returns the position after the line, or -1 when anything is not
   * plainly valid (the full parser then takes the line and reports what is wrong).
   */
  private repeatedSample(buf: Buffer, start: number, valueAt: number, hit: CachedLine): number {
    const n = buf.length;
    let c = buf[valueAt] as number;
    if (c === SP || c === TAB || c === LF) return -1;
    let i = valueAt;
    while (i < n && c !== SP && c !== TAB && c !== LF) c = buf[++i] as number;
    if (i >= n) return -1;
    const value =
      decimalBytes(buf, valueAt, i) ?? parseFloatToken(buf.toString('latin1', valueAt, i), 0, i - valueAt);
    if (value === undefined) return -1;
    let timestampMs: number | undefined;
    if (c !== LF) {
      while (c === SP || c === TAB) c = buf[++i] as number;
      const tsAt = i;
      while (i < n && c !== SP && c !== TAB && c !== LF) c = buf[++i] as number;
      if (i >= n || c !== LF || i === tsAt) return -1;
      const text = buf.toString('latin1', tsAt, i);
      timestampMs = parseInt64(text, 0, text.length);
      if (timestampMs === undefined) return -1;
    }
    const family = this.sampleFamily(hit.name);
    if (family.om === 'gaugehistogram' || family.type !== hit.type) return -1;
    this.pushColumnar(family, hit, value, timestampMs);
    this.line++;
    return i + 1;
  }

  /**
   * The family of a sample named `name`: the previous sample's when the name repeats, else Go's
   * setOrCreateCurrentMF (familyFor). A family that had no TYPE line is untyped from its first sample on.
   */
  private sampleFamily(name: string): FamilyBuilder {
    let family = this.lastFamily;
    if (name !== this.lastName || family === undefined) {
      family = this.familyFor(name);
      this.lastName = name;
      this.lastFamily = family;
    }
    if (!family.typeSet) {
      family.type = 'untyped';
      family.typeSet = true;
    }
    return family;
  }

  /** Records a sample of a columnar parse (parseBuffer made room for it in `values`). */
  private pushColumnar(
    family: FamilyBuilder,
    line: CachedLine,
    value: number,
    timestampMs: number | undefined,
  ): void {
    const next = this.next as CachedLine[];
    const index = next.length;
    next.push(line);
    this.values[index] = value;
    if (timestampMs !== undefined) (this.timestamps ??= new Map()).set(index, timestampMs);
    family.indices.push(index);
  }

  /** Go's setOrCreateCurrentMF: exact name, else a summary/histogram this is a `_sum`/`_count`/`_bucket` of. */
  private familyFor(name: string): FamilyBuilder {
    let f = this.byName.get(name);
    if (f !== undefined) return f;
    const len = name.length;
    const isCount = len > 6 && name.endsWith('_count');
    const isSum = !isCount && len > 4 && name.endsWith('_sum');
    if (isCount || isSum) {
      f = this.byName.get(name.slice(0, len - (isCount ? 6 : 4)));
      if (f !== undefined && (f.type === 'summary' || f.type === 'histogram') && f.typeSet) return f;
    } else if (len > 7 && name.endsWith('_bucket')) {
      f = this.byName.get(name.slice(0, len - 7));
      if (f !== undefined && f.type === 'histogram' && f.typeSet) return f;
    }
    f = newFamily(name);
    this.byName.set(name, f);
    this.families.push(f);
    return f;
  }

  private comment(): void {
    const s = this.s;
    const n = this.n;
    this.pos++; // '#'
    let c = this.skipBlanks();
    if (this.pos >= n) return this.failEof();
    if (c === LF) return this.newline();
    const kwStart = this.pos;
    while (this.pos < n && c !== SP && c !== TAB && c !== LF) c = s.charCodeAt(++this.pos);
    if (this.pos >= n) return this.failEof();
    if (c === LF) return this.newline();
    const kwLen = this.pos - kwStart;
    const isHelp = kwLen === 4 && s.startsWith('HELP', kwStart);
    const isType = !isHelp && kwLen === 4 && s.startsWith('TYPE', kwStart);
    if (!isHelp && !isType) {
      this.pos = this.endOfLine();
      return this.newline();
    }
    this.skipBlanks();
    if (this.pos >= n) return this.failEof();
    const nameStart = this.pos;
    const nameEnd = this.scanMetricName();
    if (this.pos >= n) return this.failEof();
    c = s.charCodeAt(this.pos);
    if (c === LF) return this.newline();
    if (c !== SP && c !== TAB) return this.fail('invalid metric name in comment');
    const family = this.familyFor(s.slice(nameStart, nameEnd));
    c = this.skipBlanks();
    if (this.pos >= n) return this.failEof();
    if (c === LF) return this.newline();
    if (isHelp) {
      if (family.helpSet) return this.fail(`second HELP line for metric name ${JSON.stringify(family.name)}`);
      family.help = this.readHelp(false);
      family.helpSet = true;
    } else {
      if (family.typeSet) {
        return this.fail(
          `second TYPE line for metric name ${JSON.stringify(family.name)}, or TYPE reported after samples`,
        );
      }
      const end = this.endOfLine();
      // Go's reader drops backslashes from the rest of a TYPE line (`counter\` reads as `counter`).
      let word = s.slice(this.pos, end);
      if (word.includes('\\')) word = word.replace(/\\/g, '');
      const lower = word.toLowerCase();
      if (lower === 'gauge_histogram') {
        // Go knows this type but cannot parse samples of it; see sample().
        family.om = 'gaugehistogram';
      } else {
        const type = TEXT_TYPES.get(lower);
        if (type === undefined) return this.fail(`unknown metric type ${JSON.stringify(word)}`);
        family.type = type;
      }
      family.typeSet = true;
      this.pos = end;
    }
    this.newline();
  }

  private sample(): void {
    const s = this.s;
    const n = this.n;
    const nameStart = this.pos;
    const nameEnd = this.scanMetricName();
    if (nameEnd === nameStart) return this.fail('invalid metric name');
    if (this.pos >= n) return this.failEof();
    let name = this.sampleName(nameStart, nameEnd);
    if (this.next !== undefined && name !== this.lastName) name = this.own(name);
    // A gauge_histogram family always had a TYPE line (only a TYPE line makes one).
    const family = this.sampleFamily(name);
    if (family.om === 'gaugehistogram') {
      // Go's parser accepts `# TYPE x gauge_histogram` but has no sample representation for it
      // (node_exporter 1.5 then panics); refuse the sample instead.
      return this.fail(
        `unexpected type for metric name ${JSON.stringify(family.name)}: gauge_histogram samples are not supported in the text format`,
      );
    }
    let labels = NO_LABELS;
    let c = s.charCodeAt(this.pos);
    if (c === SP || c === TAB) c = this.skipBlanks();
    if (c === LBRACE) {
      labels = this.labels(family);
      this.skipBlanks();
    }
    // Value: up to the next blank, tab or line feed.
    const valueStart = this.pos;
    let i = valueStart;
    c = s.charCodeAt(i);
    while (i < n && c !== SP && c !== TAB && c !== LF) c = s.charCodeAt(++i);
    if (i >= n) return this.failEof();
    const value = parseFloatToken(s, valueStart, i);
    if (value === undefined)
      return this.fail(`expected float as value, got ${JSON.stringify(s.slice(valueStart, i))}`);
    this.pos = i;
    let timestampMs: number | undefined;
    if (c !== LF) {
      this.skipBlanks();
      const tsStart = this.pos;
      i = tsStart;
      c = s.charCodeAt(i);
      while (i < n && c !== SP && c !== TAB && c !== LF) c = s.charCodeAt(++i);
      if (i >= n) return this.failEof();
      timestampMs = parseInt64(s, tsStart, i);
      if (timestampMs === undefined)
        return this.fail(`expected integer as timestamp, got ${JSON.stringify(s.slice(tsStart, i))}`);
      this.pos = i;
      if (c !== LF) {
        const end = this.endOfLine();
        return this.fail(`spurious string after timestamp: ${JSON.stringify(s.slice(i, end))}`);
      }
    }
    if (this.next === undefined) {
      family.samples.push({ name, labels, value, timestampMs });
    } else {
      // parseBuffer() records where this sample sits in the body.
      this.pushColumnar(
        family,
        { name, labels, type: family.type, ref: -1, refOwner: 0 },
        value,
        timestampMs,
      );
      this.nameStart = nameStart;
      this.valueStart = valueStart;
    }
    this.newline();
  }

  /** Go's label-set rules: blanks anywhere between tokens, a trailing comma allowed. */
  private labels(family: FamilyBuilder): Labels {
    const s = this.s;
    const n = this.n;
    this.pos++; // '{'
    const labels: Record<string, string> = {};
    let index = 0;
    for (;;) {
      let c = this.skipBlanks();
      if (this.pos >= n) return this.failEof();
      if (c === RBRACE) {
        this.pos++;
        return labels;
      }
      const nameStart = this.pos;
      const nameEnd = this.scanLabelName();
      if (nameEnd === nameStart)
        return this.fail(`invalid label name for metric ${JSON.stringify(family.name)}`);
      c = s.charCodeAt(this.pos);
      if (c === SP || c === TAB) c = this.skipBlanks();
      if (this.pos >= n) return this.failEof();
      if (c !== EQUALS) return this.fail(`expected '=' after label name, found ${quoteChar(c)}`);
      const name = this.labelName(index, nameStart, nameEnd);
      if (name === '__name__') return this.fail('label name "__name__" is reserved');
      if (hasOwn.call(labels, name))
        return this.fail(`duplicate label names for metric ${JSON.stringify(family.name)}`);
      this.pos++;
      c = this.skipBlanks();
      if (this.pos >= n) return this.failEof();
      if (c !== QUOTE) return this.fail(`expected '"' at start of label value, found ${quoteChar(c)}`);
      let value = this.specialLabel(family.type, name, this.readLabelValue());
      if (this.next !== undefined) value = this.own(value);
      setLabel(labels, name, value);
      index++;
      c = this.skipBlanks();
      if (this.pos >= n) return this.failEof();
      if (c === COMMA) {
        this.pos++;
      } else if (c === RBRACE) {
        this.pos++;
        return labels;
      } else {
        return this.fail(`unexpected end of label value ${JSON.stringify(value)}`);
      }
    }
  }
}

/** How many lines of the previous parse a line is looked for in (lines removed since then). */
const LOOKAHEAD = 4;

function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];
const DOT = 46;

/**
 * `[+-]digits[.digits][(e|E)[+-]digits]` with at most 15 significant digits and a power of ten within
 * 1e+-22, straight from the bytes: both factors are exact doubles, so one multiplication or division
 * rounds correctly. Anything else is undefined (parseFloatToken decides).
 */
function decimalBytes(b: Buffer, start: number, end: number): number | undefined {
  let i = start;
  let c = b[i] as number;
  const negative = c === MINUS;
  if (c === MINUS || c === PLUS) c = b[++i] as number;
  let mantissa = 0;
  let digits = 0;
  let exp = 0;
  const intStart = i;
  while (i < end && c >= CH_0 && c <= CH_9) {
    if (mantissa !== 0 || c !== CH_0) {
      mantissa = mantissa * 10 + (c - CH_0);
      digits++;
    }
    c = b[++i] as number;
  }
  if (i === intStart) return undefined;
  if (i < end && c === DOT) {
    c = b[++i] as number;
    const fracStart = i;
    while (i < end && c >= CH_0 && c <= CH_9) {
      if (mantissa !== 0 || c !== CH_0) {
        mantissa = mantissa * 10 + (c - CH_0);
        digits++;
      }
      exp--;
      c = b[++i] as number;
    }
    if (i === fracStart) return undefined;
  }
  if (i < end && (c === 101 || c === 69)) {
    c = b[++i] as number;
    const expNegative = c === MINUS;
    if (c === MINUS || c === PLUS) c = b[++i] as number;
    const expStart = i;
    let e = 0;
    while (i < end && c >= CH_0 && c <= CH_9 && i - expStart < 4) {
      e = e * 10 + (c - CH_0);
      c = b[++i] as number;
    }
    if (i === expStart) return undefined;
    exp += expNegative ? -e : e;
  }
  if (i !== end || digits > 15 || exp < -22 || exp > 22) return undefined;
  const v = exp < 0 ? mantissa / (POW10[-exp] as number) : mantissa * (POW10[exp] as number);
  return negative ? -v : v;
}

/** Go's strconv.ParseInt(s, 10, 64) over s[start, end). */
function parseInt64(s: string, start: number, end: number): number | undefined {
  let i = start;
  let negative = false;
  const first = s.charCodeAt(i);
  if (first === PLUS || first === MINUS) {
    negative = first === MINUS;
    i++;
  }
  if (i >= end) return undefined;
  while (i < end && s.charCodeAt(i) === CH_0) i++;
  const digitsStart = i;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < CH_0 || c > CH_9) return undefined;
  }
  const digits = end - digitsStart;
  if (digits > 19) return undefined;
  if (digits === 19) {
    const limit = negative ? '9223372036854775808' : '9223372036854775807';
    if (s.slice(digitsStart, end) > limit) return undefined;
  }
  const value = digits === 0 ? 0 : Number(s.slice(digitsStart, end));
  return negative ? -value : value;
}

const EXEMPLAR_MAX_RUNES = 128;

class OpenMetricsParser extends Scanner {
  /** Every sample name seen -> the family it belongs to. */
  private readonly claims = new Map<string, FamilyBuilder>();
  /** Names of every family started so far. */
  private readonly familyNames = new Set<string>();
  private current: FamilyBuilder | undefined;

  constructor(s: string) {
    super(s, 'openmetrics');
  }

  parse(): ParsedFamily[] {
    const s = this.s;
    for (;;) {
      if (this.pos >= this.n) return this.fail('missing "# EOF" at the end of the input');
      const c = s.charCodeAt(this.pos);
      if (c === HASH) {
        if (this.metadata()) {
          for (const f of this.families) {
            if (f.reopenedAtLine > 0 && f.samples.length === 0) {
              this.fail(
                `metadata for metric family ${JSON.stringify(f.name)} after its samples`,
                f.reopenedAtLine,
              );
            }
          }
          return this.result();
        }
      } else if (c === LF) {
        this.fail('unexpected blank line');
      } else {
        this.sample();
      }
    }
  }

  /** Handles a `#` line; returns true on `# EOF`. */
  private metadata(): boolean {
    const s = this.s;
    const n = this.n;
    const p = this.pos;
    if (s.charCodeAt(p + 1) === SP && s.startsWith('EOF', p + 2)) {
      const after = p + 5;
      if (after === n || (s.charCodeAt(after) === LF && after + 1 === n)) {
        this.pos = n;
        return true;
      }
      if (s.charCodeAt(after) === LF) this.fail('unexpected content after "# EOF"', this.line + 1);
    }
    let kind: 'TYPE' | 'HELP' | 'UNIT';
    if (s.startsWith('# TYPE ', p)) kind = 'TYPE';
    else if (s.startsWith('# HELP ', p)) kind = 'HELP';
    else if (s.startsWith('# UNIT ', p)) kind = 'UNIT';
    else
      return this.fail(
        'invalid line: comments other than "# TYPE", "# HELP", "# UNIT" and "# EOF" are not allowed',
      );
    this.pos = p + 7;
    const nameStart = this.pos;
    const nameEnd = this.scanMetricName();
    if (nameEnd === nameStart) return this.fail(`invalid metric name in # ${kind} line`);
    if (s.charCodeAt(this.pos) !== SP) {
      if (this.pos >= n) return this.failEof();
      return this.fail(
        `expected a space after the metric name in # ${kind} line, found ${quoteChar(s.charCodeAt(this.pos))}`,
      );
    }
    const family = this.familyForMetadata(s.slice(nameStart, nameEnd));
    this.pos++;
    if (kind === 'HELP') {
      if (family.helpSet)
        return this.fail(`second HELP line for metric family ${JSON.stringify(family.name)}`);
      family.help = this.readHelp(true);
      family.helpSet = true;
    } else {
      const end = this.endOfLine();
      const word = s.slice(this.pos, end);
      if (kind === 'TYPE') this.setType(family, word);
      else this.setUnit(family, word);
      this.pos = end;
    }
    this.newline();
    return false;
  }

  private familyForMetadata(name: string): FamilyBuilder {
    const current = this.current;
    if (current !== undefined && current.name === name && current.samples.length === 0) return current;
    // A name seen before starts a new family rather than failing right away: client_golang writes a
    // gauge `x` and a counter `x_total` as two families both called `x`, which Prometheus accepts as
    // their sample names differ. Sample names that really clash fail (see claim() and familyForSample),
    // and so does such metadata when no sample follows it (see parse()).
    const reopened = this.familyNames.has(name);
    const family = this.startFamily(name);
    if (reopened) family.reopenedAtLine = this.line;
    return family;
  }

  private startFamily(name: string): FamilyBuilder {
    const family = newFamily(name);
    this.families.push(family);
    this.familyNames.add(name);
    this.current = family;
    return family;
  }

  /** Records that `sampleName` belongs to `family`; fails when another family has it. */
  private claim(sampleName: string, family: FamilyBuilder): void {
    const owner = this.claims.get(sampleName);
    if (owner === undefined) this.claims.set(sampleName, family);
    else if (owner !== family) {
      if (family.reopenedAtLine > 0 && owner.name === family.name) {
        this.fail(`metadata for metric family ${JSON.stringify(family.name)} after its samples`);
      }
      this.fail(this.clash(sampleName, owner));
    }
  }

  private setType(family: FamilyBuilder, word: string): void {
    if (family.typeSet) this.fail(`second TYPE line for metric family ${JSON.stringify(family.name)}`);
    const spec = OM_TYPES.get(word);
    if (spec === undefined) return this.fail(`unknown metric type ${JSON.stringify(word)}`);
    family.om = spec.om;
    family.type = spec.type;
    family.typeSet = true;
    // The type reserves its sample names, used or not (as the OpenMetrics reference parser does).
    if (acceptsBareName(spec.om)) this.claim(family.name, family);
    for (const suffix of spec.suffixes) this.claim(family.name + suffix, family);
    if (family.unit !== '' && (spec.om === 'info' || spec.om === 'stateset'))
      this.fail(`a ${word} metric family cannot have a unit`);
  }

  private setUnit(family: FamilyBuilder, unit: string): void {
    if (family.unitSet) this.fail(`second UNIT line for metric family ${JSON.stringify(family.name)}`);
    for (let i = 0; i < unit.length; i++) {
      if (!hasClass(unit.charCodeAt(i), METRIC_CHAR)) this.fail(`invalid unit ${JSON.stringify(unit)}`);
    }
    if (unit !== '' && !family.name.endsWith(`_${unit}`)) {
      this.fail(
        `unit ${JSON.stringify(unit)} is not a suffix of metric family name ${JSON.stringify(family.name)}`,
      );
    }
    if (unit !== '' && (family.om === 'info' || family.om === 'stateset'))
      this.fail(`a ${family.om} metric family cannot have a unit`);
    family.unit = unit;
    family.unitSet = true;
  }

  /** Whether `name` is a sample name of `family` given its type. */
  private accepts(family: FamilyBuilder, name: string): boolean {
    const base = family.name;
    if (name === base) return acceptsBareName(family.om);
    if (name.length <= base.length || !name.startsWith(base)) return false;
    const spec = OM_TYPES.get(family.om);
    if (spec === undefined) return false;
    for (const suffix of spec.suffixes) {
      if (name.length === base.length + suffix.length && name.endsWith(suffix)) return true;
    }
    return false;
  }

  /**
   * The family of a sample: the current one when the name fits its type, else a new `unknown` family
   * named after the sample. Each sample name belongs to one family only; seeing it again under another
   * family means interleaved families or clashing names.
   */
  private familyForSample(name: string): FamilyBuilder {
    const current = this.current;
    if (current !== undefined && name === this.lastName && this.lastFamily === current) return current;
    if (current !== undefined && this.accepts(current, name)) {
      this.claim(name, current);
      return current;
    }
    if (current !== undefined && current.name === name) {
      return this.fail(
        `sample name ${JSON.stringify(name)} does not fit the ${current.om} metric family ${JSON.stringify(name)}`,
      );
    }
    const owner = this.claims.get(name);
    if (owner !== undefined) return this.fail(this.clash(name, owner));
    const family = this.startFamily(name);
    this.claims.set(name, family);
    return family;
  }

  private clash(name: string, owner: FamilyBuilder): string {
    return `sample ${JSON.stringify(name)} already appeared in an earlier metric family ${JSON.stringify(owner.name)} (families must not be interleaved or share sample names)`;
  }

  private sample(): void {
    const s = this.s;
    const n = this.n;
    const nameStart = this.pos;
    const nameEnd = this.scanMetricName();
    if (nameEnd === nameStart) return this.fail('invalid metric name');
    const name = this.sampleName(nameStart, nameEnd);
    const family = this.familyForSample(name);
    this.lastName = name;
    this.lastFamily = family;
    let labels = NO_LABELS;
    if (s.charCodeAt(this.pos) === LBRACE) labels = this.labels(family.type, false);
    this.checkRequiredLabels(family, name, labels);
    if (s.charCodeAt(this.pos) !== SP) {
      if (this.pos >= n) return this.failEof();
      return this.fail(`expected a space before the value, found ${quoteChar(s.charCodeAt(this.pos))}`);
    }
    this.pos++;
    const value = this.number(true, 'value');
    let timestampMs: number | undefined;
    if (s.charCodeAt(this.pos) === SP) {
      this.pos++;
      if (s.charCodeAt(this.pos) !== HASH) {
        timestampMs = Math.round(this.number(false, 'timestamp') * 1000);
        if (s.charCodeAt(this.pos) === SP) {
          this.pos++;
          if (s.charCodeAt(this.pos) !== HASH) return this.fail('unexpected content after the timestamp');
        }
      }
      if (s.charCodeAt(this.pos) === HASH) this.exemplar(family, name);
    }
    if (s.charCodeAt(this.pos) !== LF) {
      if (this.pos >= n) return this.failEof();
      return this.fail(`unexpected ${quoteChar(s.charCodeAt(this.pos))} at the end of the sample`);
    }
    family.samples.push({ name, labels, value, timestampMs });
    this.newline();
  }

  /** Reads a number token up to a space or line feed. */
  private number(allowSpecial: boolean, what: string): number {
    const s = this.s;
    const n = this.n;
    const start = this.pos;
    let i = start;
    let c = s.charCodeAt(i);
    while (i < n && c !== SP && c !== LF) c = s.charCodeAt(++i);
    if (i >= n) return this.failEof();
    const v = parseFloatToken(s, start, i, allowSpecial);
    if (v === undefined) return this.fail(`invalid ${what} ${JSON.stringify(s.slice(start, i))}`);
    this.pos = i;
    return v;
  }

  private checkRequiredLabels(family: FamilyBuilder, name: string, labels: Labels): void {
    switch (family.om) {
      case 'histogram':
      case 'gaugehistogram':
        if (
          !hasOwn.call(labels, 'le') &&
          name.length === family.name.length + 7 &&
          name.endsWith('_bucket')
        ) {
          this.fail(`bucket sample ${JSON.stringify(name)} has no "le" label`);
        }
        break;
      case 'summary':
        if (name === family.name && !hasOwn.call(labels, 'quantile'))
          this.fail(`summary sample ${JSON.stringify(name)} has no "quantile" label`);
        break;
      case 'stateset':
        if (!hasOwn.call(labels, family.name))
          this.fail(`stateset sample ${JSON.stringify(name)} has no ${JSON.stringify(family.name)} label`);
        break;
      default:
        break;
    }
  }

  /** `# {labels} value [timestamp]`: validated, then dropped. pos is on the '#'. */
  private exemplar(family: FamilyBuilder, name: string): void {
    const s = this.s;
    const allowed =
      (family.om === 'counter' && name.endsWith('_total')) ||
      ((family.om === 'histogram' || family.om === 'gaugehistogram') && name.endsWith('_bucket'));
    if (!allowed) this.fail('exemplars are only allowed on counter _total and histogram _bucket samples');
    if (s.charCodeAt(this.pos + 1) !== SP || s.charCodeAt(this.pos + 2) !== LBRACE)
      this.fail('invalid exemplar: expected "# {"');
    this.pos += 2;
    const labels = this.labels('untyped', true);
    let runes = 0;
    for (const key of Object.keys(labels)) runes += countRunes(key) + countRunes(labels[key] ?? '');
    if (runes > EXEMPLAR_MAX_RUNES)
      this.fail(`exemplar labels are longer than ${EXEMPLAR_MAX_RUNES} characters`);
    if (s.charCodeAt(this.pos) !== SP)
      return this.fail('invalid exemplar: expected a space before its value');
    this.pos++;
    this.number(true, 'exemplar value');
    if (s.charCodeAt(this.pos) === SP) {
      this.pos++;
      this.number(false, 'exemplar timestamp');
    }
  }

  /** OpenMetrics label set: no blanks, no trailing comma. pos is on '{'. */
  private labels(type: MetricType, exemplar: boolean): Labels {
    const s = this.s;
    const n = this.n;
    this.pos++; // '{'
    if (s.charCodeAt(this.pos) === RBRACE) {
      this.pos++;
      return NO_LABELS;
    }
    const labels: Record<string, string> = {};
    let index = 0;
    for (;;) {
      const nameStart = this.pos;
      const nameEnd = this.scanLabelName();
      if (nameEnd === nameStart) {
        if (this.pos >= n) return this.failEof();
        return this.fail(`invalid label name, found ${quoteChar(s.charCodeAt(this.pos))}`);
      }
      if (s.charCodeAt(this.pos) !== EQUALS) {
        if (this.pos >= n) return this.failEof();
        return this.fail(`expected '=' after label name, found ${quoteChar(s.charCodeAt(this.pos))}`);
      }
      const name = exemplar ? s.slice(nameStart, nameEnd) : this.labelName(index, nameStart, nameEnd);
      if (name.startsWith('__')) return this.fail(`label name ${JSON.stringify(name)} is reserved`);
      if (hasOwn.call(labels, name)) return this.fail(`duplicate label name ${JSON.stringify(name)}`);
      this.pos++;
      if (s.charCodeAt(this.pos) !== QUOTE) {
        if (this.pos >= n) return this.failEof();
        return this.fail(`expected '"' at start of label value, found ${quoteChar(s.charCodeAt(this.pos))}`);
      }
      setLabel(labels, name, this.specialLabel(type, name, this.readLabelValue()));
      index++;
      const c = s.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos++;
        if (s.charCodeAt(this.pos) === RBRACE) return this.fail('trailing comma in label set');
      } else if (c === RBRACE) {
        this.pos++;
        return labels;
      } else {
        if (this.pos >= n) return this.failEof();
        return this.fail(`expected ',' or '}' after label value, found ${quoteChar(c)}`);
      }
    }
  }
}

function countRunes(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by its low surrogate is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/**
 * Parses a whole exposition. Throws ParseError (and nothing else) on malformed input; see the module
 * comment for the exact rules of each format.
 */
export function parseExposition(
  input: string | Buffer,
  format: InputFormat,
  cache?: ParseCache,
): ParsedFamily[] {
  if (format === 'text' && cache !== undefined) {
    const parser = new TextParser('', true);
    const steps = parser.parseBuffer(
      typeof input === 'string' ? Buffer.from(input, 'utf8') : input,
      cache,
      0,
    );
    return guard(parser, format, () => {
      for (;;) {
        const step = steps.next();
        if (step.done === true) return step.value;
      }
    });
  }
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const parser = format === 'openmetrics' ? new OpenMetricsParser(text) : new TextParser(text);
  return guard(parser, format, () => parser.parse());
}

/**
 * parseExposition, giving the event loop a turn every `sliceLines` lines of a cached text parse: a
 * 300k-line scrape then never holds the loop for more than a few milliseconds at a time. Parses sharing a
 * cache (a target's scrape, and replays of its scrapes buffered on disk) run one after the other.
 */
export function parseExpositionSliced(
  input: Buffer,
  format: InputFormat,
  cache: ParseCache,
  sliceLines = 16_384,
): Promise<ParsedFamily[]> {
  const run = cache.turn.then(async () => {
    if (format !== 'text') return parseExposition(input, format, cache);
    const parser = new TextParser('', true);
    const steps = parser.parseBuffer(input, cache, sliceLines);
    for (;;) {
      const step = guard(parser, format, () => steps.next());
      if (step.done === true) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  });
  cache.turn = run.catch(() => undefined);
  return run;
}

function guard<T>(parser: Scanner, format: InputFormat, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ParseError) throw err;
    // Defensive: nothing else is expected, but callers rely on only ever seeing ParseError.
    const detail = err instanceof Error ? err.message : String(err);
    throw new ParseError(parser.line, `internal parser error: ${detail}`, format);
  }
}
