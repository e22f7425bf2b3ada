import type { ParsedFamily, ParsedSample } from '../expfmt/types';
import type { MetricType } from '../metrics/types';
import type { PendingScrape, Target } from '../sink/types';
import type { MetricMetadata, RemoteMetricType, TimeSeries, WriteRequest } from './prompb';

/**
 * Turns a decoded remote-write request into the sink's pending batches (pure, no I/O): one batch per
 * (job, instance) pair, since the writer keys series by target, with every sample carrying its own
 * timestamp. The stored series are exactly the sent ones: `job` and `instance` come from the series'
 * labels (absent ones stay absent), the metric name from `__name__`.
 */

export class InvalidWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidWriteError';
  }
}

/** What a request held besides the stored samples. */
export interface IngestStats {
  readonly series: number;
  readonly samples: number;
  /** Native histogram samples and exemplars: counted and not stored (not supported yet). */
  readonly histograms: number;
  readonly exemplars: number;
  /** Newest sample timestamp in the request (ms), or undefined without samples. */
  readonly newestMs: number | undefined;
}

export interface Ingested {
  readonly scrapes: PendingScrape[];
  readonly stats: IngestStats;
}

/** The hostscope metric type of a remote-write metadata type. */
export function metricTypeOf(type: RemoteMetricType): MetricType {
  switch (type) {
    case 'counter':
      return 'counter';
    case 'gauge':
    case 'info':
    case 'stateset':
    case 'gaugehistogram':
      return 'gauge';
    case 'histogram':
      return 'histogram';
    case 'summary':
      return 'summary';
    default:
      return 'untyped';
  }
}

const SUFFIXES = ['_total', '_bucket', '_count', '_sum', '_created', '_info'] as const;

/** The sample names a metadata family may stand for (text format and OpenMetrics naming alike). */
export function sampleNamesOf(family: string): string[] {
  return [family, ...SUFFIXES.map((s) => family + s)];
}

/** Family metadata known from remote-write metadata, by family name. */
export type MetadataCache = ReadonlyMap<string, MetricMetadata>;

/**
 * The family a sample name belongs to: from the metadata sent (its own name, or its name less a
 * histogram/summary/counter suffix), else by the `_total` naming convention (so hourly increase works
 * before the first metadata arrives; metadata corrects the type when it comes).
 */
export function familyOf(
  sampleName: string,
  metadata: MetadataCache,
): { name: string; type: MetricType; help: string; unit: string } {
  const own = metadata.get(sampleName);
  if (own !== undefined)
    return { name: sampleName, type: metricTypeOf(own.type), help: own.help, unit: own.unit };
  for (const s of SUFFIXES) {
    if (!sampleName.endsWith(s)) continue;
    const base = sampleName.slice(0, -s.length);
    const m = metadata.get(base);
    if (m !== undefined) return { name: base, type: metricTypeOf(m.type), help: m.help, unit: m.unit };
  }
  return {
    name: sampleName,
    type: sampleName.endsWith('_total') ? 'counter' : 'untyped',
    help: '',
    unit: '',
  };
}

interface MutableFamily extends ParsedFamily {
  readonly samples: ParsedSample[];
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Builds the pending batches of one request. Throws InvalidWriteError for a series Prometheus itself
 * would refuse (no metric name, an invalid or repeated label name): the request is malformed as a whole.
 */
export function ingestWriteRequest(
  req: WriteRequest,
  metadata: MetadataCache,
  nowMs: number,
  /** Called with each series' index in `req.timeseries` and its first sample. */
  onSeries?: (index: number, first: ParsedSample) => void,
): Ingested {
  const groups = new Map<string, { target: Target; families: Map<string, MutableFamily>; count: number }>();
  let samples = 0;
  let histograms = 0;
  let exemplars = 0;
  let newest: number | undefined;
  for (let index = 0; index < req.timeseries.length; index++) {
    const ts = req.timeseries[index] as TimeSeries;
    histograms += ts.histograms;
    exemplars += ts.exemplars;
    if (ts.values.length === 0) continue;
    let name: string | undefined;
    let job = '';
    let instance = '';
    const labels: Record<string, string> = {};
    const seen = new Set<string>();
    for (const [k, v] of ts.labels) {
      if (seen.has(k)) throw new InvalidWriteError(`series with the label ${JSON.stringify(k)} twice`);
      seen.add(k);
      if (k === '__name__') {
        name = v;
        continue;
      }
      if (!LABEL_NAME.test(k)) throw new InvalidWriteError(`invalid label name ${JSON.stringify(k)}`);
      if (v === '') continue; // an empty label is no label
      if (k === 'job') job = v;
      else if (k === 'instance') instance = v;
      else labels[k] = v;
    }
    if (name === undefined || name === '')
      throw new InvalidWriteError('series without a metric name (__name__)');
    const key = JSON.stringify([job, instance]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { target: { url: 'remote_write', job, instance }, families: new Map(), count: 0 };
      groups.set(key, group);
    }
    const fam = familyOf(name, metadata);
    let family = group.families.get(fam.name);
    if (family === undefined) {
      family = { name: fam.name, type: fam.type, help: fam.help, unit: fam.unit, samples: [] };
      group.families.set(fam.name, family);
    }
    for (let i = 0; i < ts.values.length; i++) {
      const t = ts.timestamps[i] as number;
      const sample = { name, labels, value: ts.values[i] as number, timestampMs: t };
      family.samples.push(sample);
      if (i === 0) onSeries?.(index, sample);
      if (newest === undefined || t > newest) newest = t;
    }
    group.count += ts.values.length;
    samples += ts.values.length;
  }
  const scrapes: PendingScrape[] = [];
  for (const g of groups.values())
    scrapes.push({
      target: g.target,
      timeMs: nowMs,
      families: [...g.families.values()],
      sampleCount: g.count,
      containerUsage: [],
    });
  return {
    scrapes,
    stats: { series: req.timeseries.length, samples, histograms, exemplars, newestMs: newest },
  };
}
