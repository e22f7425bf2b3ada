import type { MetricType } from '../metrics/types';

/** One sample line as parsed: the full sample name (e.g. `http_request_duration_seconds_bucket`). */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch when the line carries a timestamp. */
  readonly timestampMs?: number;
}

/** The series part of a sample line: the same object on every scrape while the line's text repeats. */
export interface SeriesLine {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * A slot for the consumer of the parse cache (the sink's writer keeps the line's series id here, so a big
   * target costs no map entry or object per series): `ref` is valid only while `refOwner` is the token the
   * consumer wrote it with. The parser sets them to -1 and 0.
   */
  ref: number;
  refOwner: number;
}

/** The samples of one parse as columns (a parse with a ParseCache): no object per sample. */
export interface SampleColumns {
  /** Per sample, in input order. */
  readonly lines: readonly SeriesLine[];
  readonly values: Float64Array;
  /** Sample index -> its own timestamp in ms, for the samples that carry one; undefined when none do. */
  readonly timestamps: ReadonlyMap<number, number> | undefined;
}

export interface ParsedFamily {
  /** Family name from `# TYPE`/`# HELP`, or the sample name for samples without metadata. */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit?: string;
  /** With `columnar`, built from the columns on first use. */
  readonly samples: readonly ParsedSample[];
  /** The family's samples as indices into the parse's columns (parses with a ParseCache only). */
  readonly columnar?: { readonly columns: SampleColumns; readonly indices: readonly number[] };
}

export type InputFormat = 'text' | 'openmetrics';
