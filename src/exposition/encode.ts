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
  const keys = new Array<string>(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const s = samples[i] as Sample;
    const key = grouped ? seriesKey(s) : (s.suffix ?? '') + formatLabels(s.labels).text;
    keys[i] = key;
    if (sorted && i > 0 && key < (keys[i - 1] as string)) sorted = false;
  }
  if (sorted) return samples;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort(compareKeys(keys));
  return order.map((i) => samples[i] as Sample);
}

function openMetricsType(family: MetricFamily): string {
  return family.type === 'untyped' ? 'unknown' : family.type;
}

/** Writes the exposition piece by piece to `out` (see encode for the format). */
function writeExposition(
  families: readonly MetricFamily[],
  format: ExpositionFormat,
  out: (text: string) => void,
): void {
  const ordered = [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const family of ordered) {
    if (family.samples.length === 0) continue;
    if (format === 'text') {
      out(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`);
      for (const s of sortedSamples(family)) {
        // Piece by piece: the name and the (memoised) label text are written as they are, instead of
        // being copied into a new line string first.
        out(family.name);
        if (s.suffix !== undefined) out(s.suffix);
        const labels = formatLabels(s.labels).text;
        if (labels !== '') out(labels);
        out(
          s.timestampMs === undefined
            ? ` ${formatValue(s.value)}\n`
            : ` ${formatValue(s.value)} ${Math.round(s.timestampMs)}\n`,
        );
      }
    } else {
      // OpenMetrics names a counter family without `_total` and puts the suffix on its samples.
      const isCounter = family.type === 'counter';
      const base = isCounter && family.name.endsWith('_total') ? family.name.slice(0, -6) : family.name;
      const sampleName = isCounter ? `${base}_total` : base;
      out(
        `# TYPE ${base} ${openMetricsType(family)}\n# HELP ${base} ${escapeHelpOpenMetrics(family.help)}\n`,
      );
      for (const s of sortedSamples(family)) {
        const ts = s.timestampMs === undefined ? '' : ` ${(s.timestampMs / 1000).toString()}`;
        const name = s.suffix === undefined ? sampleName : `${base}${s.suffix}`;
        out(`${name}${formatLabels(s.labels).text} ${formatValue(s.value)}${ts}\n`);
      }
    }
  }
  if (format === 'openmetrics') out('# EOF\n');
}

/**
 * Encodes families as Prometheus text 0.0.4 or OpenMetrics 1.0. Output is sorted by family name and by
 * label set, so it is byte-stable for the same input.
 */
export function encode(families: readonly MetricFamily[], format: ExpositionFormat = 'text'): string {
  const parts: string[] = [];
  writeExposition(families, format, (text) => parts.push(text));
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
  writeExposition(families, format, (text) => {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (used + text.length * 3 > buf.length) {
      if (used > 0) chunks.push(buf.subarray(0, used));
      used = 0;
      if (text.length * 3 > CHUNK_BYTES) {
        chunks.push(Buffer.from(text, 'utf8'));
        buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
        return;
      }
      buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    }
    used += buf.write(text, used, 'utf8');
  });
  if (used > 0) chunks.push(buf.subarray(0, used));
  return chunks;
}
