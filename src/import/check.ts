/**
 * The rules every imported sample is held to, after the parser accepted its piece: it has a timestamp in
 * the format's unit, its series ends up with an `instance` and a `job`, and each series goes forward in
 * time. Both passes of an import run the same checks over the same file, so they agree on every sample.
 */
import type { InputFormat, ParsedSample } from '../expfmt/types';
import { sameLabels } from '../metrics/same-labels';
import { pgSafe } from '../sink/series-key';

/** Before 1973-03-03 in milliseconds, or in seconds read as milliseconds: a unit mistake. */
const MIN_PLAUSIBLE_MS = 1e11;
/** After the year 5138: seconds that were milliseconds. */
const MAX_PLAUSIBLE_MS = 1e14;

export interface CheckOptions {
  readonly format: InputFormat;
  /** Samples before this (ms) are kept out of the database: past retention. */
  readonly oldestMs: number;
  /** Samples after this (ms) are kept out: too far in the future. */
  readonly newestMs: number;
  /** `instance` and `job` for samples without them ('' when there is no default). */
  readonly instance: string;
  readonly job: string;
}

export type Verdict =
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'duplicate' | 'old' | 'future'; readonly timeMs: number }
  | {
      readonly kind: 'ok';
      readonly timeMs: number;
      readonly instance: string;
      readonly job: string;
      /** The sample's labels without `instance` and `job`. */
      readonly labels: Readonly<Record<string, string>>;
    };

function formatTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/**
 * Identity of a stored series (metric, labels without empty values, sorted), NUL-separated as
 * canonicalKey() does, so two lines that would be stored as one series are ordered as one.
 */
function seriesKey(
  name: string,
  labels: Readonly<Record<string, string>>,
  instance: string,
  job: string,
): string {
  const names = Object.keys(labels)
    .filter((k) => k !== 'instance' && k !== 'job' && labels[k] !== '')
    .concat('instance', 'job')
    .sort();
  let key = pgSafe(name);
  for (const k of names) {
    const v = k === 'instance' ? instance : k === 'job' ? job : (labels[k] as string);
    key += `\u0000${pgSafe(k)}\u0000${pgSafe(v)}`;
  }
  return key;
}

function withoutTargetLabels(labels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (!hasOwn.call(labels, 'instance') && !hasOwn.call(labels, 'job')) return labels;
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels)) {
    if (k === 'instance' || k === 'job') continue;
    // A label may be called __proto__: define it rather than assign it.
    if (k === '__proto__')
      Object.defineProperty(out, k, {
        value: labels[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[k] = labels[k] as string;
  }
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Per stored series: its last timestamp. */
interface SeriesState {
  last: number;
}

export class SampleChecker {
  /** Every series seen so far, by its stored identity. */
  private readonly byKey = new Map<string, SeriesState>();
  /**
   * The same states by the sample's name and labels as written (label order as in the file, before
   * defaults): most lines find their series here without sorting labels.
   */
  private readonly byLine = new Map<string, SeriesState>();

  constructor(private readonly options: CheckOptions) {}

  /** Number of distinct series seen. */
  get series(): number {
    return this.byKey.size;
  }

  /** The previous sample's series: a backfill file usually lists a series' samples one after another. */
  private lastName = '';
  private lastLabels: Readonly<Record<string, string>> = {};
  private lastState: SeriesState | undefined;

  private state(
    name: string,
    labels: Readonly<Record<string, string>>,
    instance: string,
    job: string,
  ): SeriesState {
    if (this.lastState !== undefined && name === this.lastName && sameLabels(labels, this.lastLabels))
      return this.lastState;
    const state = this.lookup(name, labels, instance, job);
    this.lastName = name;
    this.lastLabels = labels;
    this.lastState = state;
    return state;
  }

  private lookup(
    name: string,
    labels: Readonly<Record<string, string>>,
    instance: string,
    job: string,
  ): SeriesState {
    const line = `${name}${JSON.stringify(labels)}`;
    let state = this.byLine.get(line);
    if (state === undefined) {
      const key = seriesKey(name, labels, instance, job);
      state = this.byKey.get(key);
      if (state === undefined) {
        state = { last: -Infinity };
        this.byKey.set(key, state);
      }
      this.byLine.set(line, state);
    }
    return state;
  }

  check(sample: ParsedSample): Verdict {
    const o = this.options;
    const ts = sample.timestampMs;
    if (ts === undefined) {
      return {
        kind: 'error',
        message: `sample ${sample.name} has no timestamp: every imported sample needs one (${o.format === 'openmetrics' ? 'OpenMetrics: seconds since the epoch' : 'text format: milliseconds since the epoch'})`,
      };
    }
    if (o.format === 'openmetrics' && ts > MAX_PLAUSIBLE_MS) {
      return {
        kind: 'error',
        message: `timestamp ${ts / 1000} of ${sample.name} is in the year ${new Date(Math.min(ts, 8.64e15)).getUTCFullYear()} read as seconds: OpenMetrics timestamps are seconds, this looks like milliseconds`,
      };
    }
    if (o.format === 'text' && ts < MIN_PLAUSIBLE_MS && ts > -MIN_PLAUSIBLE_MS) {
      return {
        kind: 'error',
        message: `timestamp ${ts} of ${sample.name} is ${formatTime(ts)} read as milliseconds: text format timestamps are milliseconds, this looks like seconds (OpenMetrics input, which takes seconds, ends with "# EOF")`,
      };
    }
    const labels = sample.labels;
    const instance = labels.instance !== undefined && labels.instance !== '' ? labels.instance : o.instance;
    const job = labels.job !== undefined && labels.job !== '' ? labels.job : o.job;
    if (instance === '' || job === '') {
      const missing = [instance === '' ? 'instance' : '', job === '' ? 'job' : ''].filter((m) => m !== '');
      return {
        kind: 'error',
        message: `sample ${sample.name} has no ${missing.join(' and ')} label: give ${missing.map((m) => `--label.${m}`).join(' and ')} for samples without one`,
      };
    }
    const state = this.state(sample.name, labels, instance, job);
    const prev = state.last;
    if (ts <= prev) {
      if (ts === prev) return { kind: 'duplicate', timeMs: ts };
      return {
        kind: 'error',
        message: `sample of ${sample.name} goes back in time: ${formatTime(ts)} after ${formatTime(prev)}; samples of a series must be in time order`,
      };
    }
    state.last = ts;
    if (ts < o.oldestMs) return { kind: 'old', timeMs: ts };
    if (ts > o.newestMs) return { kind: 'future', timeMs: ts };
    return { kind: 'ok', timeMs: ts, instance, job, labels: withoutTargetLabels(labels) };
  }
}
