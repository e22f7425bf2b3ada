/** Plain, typed metric data: what collectors return and what the exposition layer encodes. */

export type MetricType = 'counter' | 'gauge' | 'untyped' | 'histogram' | 'summary';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  /** Suffix appended to the family name, e.g. `_bucket`, `_sum`, `_count` for histograms and summaries. */
  readonly suffix?: string;
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds since the epoch; only set for samples that carry their own timestamp (textfile). */
  readonly timestampMs?: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}
