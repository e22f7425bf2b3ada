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

/**
 * Samples in series order. Plain families sort by their formatted label text; histograms and summaries by
 * the labels without `le`/`quantile`, keeping bucket order as given (a stable sort).
 */
function sortedSamples(family: MetricFamily): readonly Sample[] {
  const samples = family.samples;
  if (samples.length < 2) return samples;
  if (family.type === 'histogram' || family.type === 'summary') {
    const keyed = samples.map((sample, index) => ({ sample, index, key: seriesKey(sample) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
    return keyed.map((k) => k.sample);
  }
  const keyed = samples.map((sample) => ({
    sample,
    key: (sample.suffix ?? '') + formatLabels(sample.labels).text,
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.sample);
}

function openMetricsType(family: MetricFamily): string {
  return family.type === 'untyped' ? 'unknown' : family.type;
}

/**
 * Encodes families as Prometheus text 0.0.4 or OpenMetrics 1.0. Output is sorted by family name and by
 * label set, so it is byte-stable for the same input.
 */
export function encode(families: readonly MetricFamily[], format: ExpositionFormat = 'text'): string {
  const ordered = [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: string[] = [];
  for (const family of ordered) {
    if (family.samples.length === 0) continue;
    if (format === 'text') {
      parts.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`);
      for (const s of sortedSamples(family)) {
        const ts = s.timestampMs === undefined ? '' : ` ${Math.round(s.timestampMs)}`;
        parts.push(
          `${family.name}${s.suffix ?? ''}${formatLabels(s.labels).text} ${formatValue(s.value)}${ts}\n`,
        );
      }
    } else {
      // OpenMetrics names a counter family without `_total` and puts the suffix on its samples.
      const isCounter = family.type === 'counter';
      const base = isCounter && family.name.endsWith('_total') ? family.name.slice(0, -6) : family.name;
      const sampleName = isCounter ? `${base}_total` : base;
      parts.push(
        `# TYPE ${base} ${openMetricsType(family)}\n# HELP ${base} ${escapeHelpOpenMetrics(family.help)}\n`,
      );
      for (const s of sortedSamples(family)) {
        const ts = s.timestampMs === undefined ? '' : ` ${(s.timestampMs / 1000).toString()}`;
        const name = s.suffix === undefined ? sampleName : `${base}${s.suffix}`;
        parts.push(`${name}${formatLabels(s.labels).text} ${formatValue(s.value)}${ts}\n`);
      }
    }
  }
  if (format === 'openmetrics') parts.push('# EOF\n');
  return parts.join('');
}
