import type { MetricType } from '../metrics/types';

/** One sample line as parsed: the full sample name (e.g. `http_request_duration_seconds_bucket`). */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch when the line carries a timestamp. */
  readonly timestampMs?: number;
}

export interface ParsedFamily {
  /** Family name from `# TYPE`/`# HELP`, or the sample name for samples without metadata. */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit?: string;
  readonly samples: readonly ParsedSample[];
}

export type InputFormat = 'text' | 'openmetrics';
