import type { MetricFamily, Sample } from '../metrics/types';
import { escapeHelp, escapeHelpOpenMetrics, formatValue } from './escape';
import { formatLabels } from './labels';

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** Picks the exposition format from an HTTP Accept header, as client_golang's promhttp does. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept !== undefined && /application\/openmetrics-text/i.test(accept)) return 'openmetrics';
  return 'text';
}

/** Sort key of a sample's series, ignoring `le`/`quantile` so histogram buckets stay in their given order. */
function seriesKey(sample: Sample): string {
  const names = Object.keys(sample.labels).sort();
  let key = '';
  for (const name of names) {
    if (name === 'le' || name === 'quantile') continue;
    key += `${name}\u0000${sample.labels[name] as string}\u0001`;
  }
  return key;
}

function compareKeys(keys: readonly string[]): (a: number, b: number) => number {
  return (a, b) => {
    const ka = keys[a] as string;
    const kb = keys[b] as string;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  };
}

/**
 * Samples in series order. Plain families sort by their formatted label text; histograms and summaries by
 * the labels without `le`/`quantile`, keeping bucket order as given (a stable sort). Most collectors already
 * emit in order, so a family whose keys are already ascending is returned as it is, without sorting.
 */
function sortedSamples(family: MetricFamily): readonly Sample[] {
  const samples = family.samples;
  const n = samples.length;
  if (n < 2) return samples;
  const grouped = family.type === 'histogram' || family.type === 'summary';
  // First see whether the keys already ascend, without keeping them (a plain sample's key is usually its
  // memoised label text, so this allocates nothing).
  let previous = sampleKey(samples[0] as Sample, grouped);
  for (let i = 1; i < n; i++) {
    const key = sampleKey(samples[i] as Sample, grouped);
    if (key < previous) return sortByKeys(samples, grouped);
    previous = key;
  }
  return samples;
}

function sampleKey(sample: Sample, grouped: boolean): string {
  if (grouped) return seriesKey(sample);
  const labels = formatLabels(sample.labels).text;
  return sample.suffix === undefined ? labels : sample.suffix + labels;
}

function sortByKeys(samples: readonly Sample[], grouped: boolean): Sample[] {
  const keys = samples.map((s) => sampleKey(s, grouped));
  const order = Array.from({ length: samples.length }, (_, i) => i);
  order.sort(compareKeys(keys));
  return order.map((i) => samples[i] as Sample);
}

/** Families by name, without a copy when they already are (gather returns them sorted). */
function byName(families: readonly MetricFamily[]): readonly MetricFamily[] {
  for (let i = 1; i < families.length; i++) {
    if ((families[i] as MetricFamily).name < (families[i - 1] as MetricFamily).name) {
      return [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  }
  return families;
}

/**
 * The `# HELP` and `# TYPE` lines of each family name, per format: they are the same scrape after scrape,
 * and building them was a third of the exposition's garbage. Bounded, since textfile and container
 * families come and go.
 */
const headers = { text: new Map<string, Header>(), openmetrics: new Map<string, Header>() };
const HEADER_LIMIT = 10_000;

interface Header {
  readonly help: string;
  readonly type: string;
  readonly text: string;
}

function header(family: MetricFamily, format: ExpositionFormat): string {
  const memo = headers[format];
  const cached = memo.get(family.name);
  if (cached !== undefined && cached.help === family.help && cached.type === family.type) return cached.text;
  const text = format === 'text' ? textHeader(family) : openMetricsHeader(family);
  if (memo.size >= HEADER_LIMIT) memo.clear();
  memo.set(family.name, { help: family.help, type: family.type, text });
  return text;
}

function textHeader(family: MetricFamily): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
}

function openMetricsHeader(family: MetricFamily): string {
  const base = openMetricsBase(family);
  return `# TYPE ${base} ${openMetricsType(family)}\n# HELP ${base} ${escapeHelpOpenMetrics(family.help)}\n`;
}

/** OpenMetrics names a counter family without `_total` and puts the suffix on its samples. */
function openMetricsBase(family: MetricFamily): string {
  return family.type === 'counter' && family.name.endsWith('_total') ? family.name.slice(0, -6) : family.name;
}

function openMetricsType(family: MetricFamily): string {
  return family.type === 'untyped' ? 'unknown' : family.type;
}

/**
 * Where writeExposition puts its output: strings, and single ASCII bytes and sample values written as they
 * are, so a sample's line costs no string of its own (the exposition runs over every sample per scrape).
 */
interface ExpositionOut {
  text(text: string): void;
  byte(code: number): void;
  value(value: number): void;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** Writes the exposition piece by piece to `out` (see encode for the format). */
function writeExposition(
  families: readonly MetricFamily[],
  format: ExpositionFormat,
  out: ExpositionOut,
): void {
  for (const family of byName(families)) {
    if (family.samples.length === 0) continue;
    if (format === 'text') {
      out.text(header(family, 'text'));
      for (const s of sortedSamples(family)) {
        // The name and the (memoised) label text are written as they are, not copied into a line first.
        out.text(family.name);
        if (s.suffix !== undefined) out.text(s.suffix);
        const labels = formatLabels(s.labels).text;
        if (labels !== '') out.text(labels);
        out.byte(SPACE);
        out.value(s.value);
        if (s.timestampMs !== undefined) {
          out.byte(SPACE);
          out.value(Math.round(s.timestampMs));
        }
        out.byte(NEWLINE);
      }
    } else {
      const base = openMetricsBase(family);
      const sampleName = family.type === 'counter' ? `${base}_total` : base;
      out.text(header(family, 'openmetrics'));
      for (const s of sortedSamples(family)) {
        out.text(s.suffix === undefined ? sampleName : `${base}${s.suffix}`);
        out.text(formatLabels(s.labels).text);
        out.byte(SPACE);
        out.value(s.value);
        if (s.timestampMs !== undefined) out.text(` ${(s.timestampMs / 1000).toString()}`);
        out.byte(NEWLINE);
      }
    }
  }
  if (format === 'openmetrics') out.text('# EOF\n');
}

/**
 * Encodes families as Prometheus text 0.0.4 or OpenMetrics 1.0. Output is sorted by family name and by
 * label set, so it is byte-stable for the same input.
 */
export function encode(families: readonly MetricFamily[], format: ExpositionFormat = 'text'): string {
  const parts: string[] = [];
  writeExposition(families, format, {
    text: (text) => parts.push(text),
    byte: (code) => parts.push(String.fromCharCode(code)),
    value: (value) => parts.push(formatValue(value)),
  });
  return parts.join('');
}

/** Size of each Buffer the exposition is written into. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The same bytes as `encode`, as UTF-8 Buffer chunks of up to 64 kB, each piece written straight into the
 * current chunk. A scrape of thousands of series would otherwise build one string of the whole body: a V8
 * large object that only a full (old-generation) GC frees, so each scrape's body stayed resident until
 * then. Chunk Buffers live outside the JS heap and are freed as soon as their small wrappers die young.
 */
export function encodeChunks(families: readonly MetricFamily[], format: ExpositionFormat = 'text'): Buffer[] {
  const chunks: Buffer[] = [];
  let buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  let used = 0;
  /** Makes room for `bytes` more bytes, starting a new chunk if needed. */
  const reserve = (bytes: number): void => {
    if (used + bytes <= buf.length) return;
    if (used > 0) chunks.push(buf.subarray(0, used));
    buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    used = 0;
  };
  writeExposition(families, format, {
    text(text) {
      // A UTF-16 code unit takes at most 3 bytes in UTF-8.
      if (text.length * 3 > CHUNK_BYTES) {
        reserve(CHUNK_BYTES);
        chunks.push(Buffer.from(text, 'utf8'));
        return;
      }
      reserve(text.length * 3);
      used += buf.write(text, used, 'utf8');
    },
    byte(code) {
      reserve(1);
      buf[used++] = code;
    },
    value(value) {
      reserve(MAX_DIGITS);
      used = writeValue(buf, used, value);
    },
  });
  if (used > 0) chunks.push(buf.subarray(0, used));
  return chunks;
}

/** Room for any value formatValue writes: 17 significant digits, sign, point and exponent fit in 32. */
const MAX_DIGITS = 32;

/**
 * Writes formatValue(value) at `at`, returning the new end. Integers below 2^53 (most counters and
 * gauges) are written digit by digit without making a string; other values go through formatValue.
 */
function writeValue(buf: Buffer, at: number, value: number): number {
  if (!Number.isSafeInteger(value)) return at + buf.write(formatValue(value), at, 'latin1');
  let n = value;
  if (n < 0) {
    buf[at++] = 0x2d;
    n = -n;
  }
  let end = at;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) end++;
  for (let i = end; i >= at; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end + 1;
}
