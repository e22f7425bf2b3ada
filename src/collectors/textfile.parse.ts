/**
 * Pure parts of the textfile collector: turning the families parsed from `.prom` files into metric
 * families exactly as node_exporter 1.5 exports them, and Go's glob pattern matching.
 *
 * node_exporter 1.5 semantics reproduced here (checked against the real binary):
 *   - a family without HELP gets "Metric read from <file>, <file>" listing every file (full paths, in
 *     read order) that has a family of that name;
 *   - within one file's family, a label missing from some samples is exported with an empty value on
 *     them (`extra=""`), because Go builds one descriptor with the union of the label names;
 *   - histograms and summaries are rebuilt as client_golang's const metrics: series grouped by their
 *     labels without `le`/`quantile`; buckets and quantiles sorted, a later duplicate bound winning;
 *     `le`/`quantile` printed in Go's float format (`1`, `0.25`, `1e+06`); a `+Inf` bucket added with
 *     the count when absent; missing `_sum`/`_count` are 0; counts and bucket values go through Go's
 *     float64 -> uint64 conversion (`2.7` -> 2, `-1` -> 18446744073709551615, `NaN` -> 2^63);
 *     summary/histogram samples without a usable `quantile`/`le` (missing or NaN) are dropped;
 *   - families of the same name from several files merge; as client_golang's registry does when it
 *     gathers, a metric whose help or type differs from the first one of that name, or whose label set
 *     was already exported under that name, is dropped with an error log (node_textfile_scrape_error is
 *     not affected: node_exporter only logs these too).
 */
import { formatGoFloat, parseFloatText } from '../expfmt/float';
import type { ParsedFamily, ParsedSample } from '../expfmt/types';
import type { Labels, MetricFamily, MetricType, Sample } from '../metrics/types';

export interface TextfileContent {
  /** Full path of the file, as node_exporter prints it (directory joined with the file name). */
  readonly path: string;
  readonly families: readonly ParsedFamily[];
}

const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

/** Go's `uint64(f)` on amd64, then back to float64 as client_golang exports it. */
export function goUint64(f: number): number {
  if (f < TWO_63) {
    const t = Math.max(Math.trunc(f), -TWO_63);
    return t < 0 ? TWO_64 + t : t + 0; // `+ 0` turns -0 into 0
  }
  // Also NaN: int64(f - 2^63) | 2^63, where an out-of-range int64 conversion gives 2^63.
  return f - TWO_63 < TWO_63 ? f : TWO_63;
}

/** client_golang's registry checks while gathering: first help/type wins, no duplicate series. */
export class GatherCheck {
  private readonly byName = new Map<
    string,
    { family: MetricFamily & { samples: Sample[] }; keys: Set<string> }
  >();
  readonly problems: string[] = [];

  /** Adds one metric (one series: a single sample, or a histogram/summary's samples). */
  add(name: string, help: string, type: MetricType, labels: Labels, samples: readonly Sample[]): void {
    let entry = this.byName.get(name);
    if (entry !== undefined) {
      if (entry.family.help !== help) {
        this.problems.push(
          `collected metric ${name}${formatLabels(labels)} has help ${JSON.stringify(help)} but should have ${JSON.stringify(entry.family.help)}`,
        );
        return;
      }
      if (entry.family.type !== type) {
        this.problems.push(
          `collected metric ${name}${formatLabels(labels)} should be of type ${entry.family.type}, not ${type}`,
        );
        return;
      }
    } else {
      const collision = this.suffixCollision(name, type);
      if (collision !== undefined) {
        this.problems.push(`collected metric ${name}${formatLabels(labels)} ${collision}`);
        return;
      }
      entry = { family: { name, help, type, samples: [] }, keys: new Set() };
      this.byName.set(name, entry);
    }
    const key = seriesKey(labels);
    if (entry.keys.has(key)) {
      this.problems.push(
        `collected metric ${name}${formatLabels(labels)} was collected before with the same name and label values`,
      );
      return;
    }
    entry.keys.add(key);
    entry.family.samples.push(...samples);
  }

  /** client_golang's checkSuffixCollisions, run when a family name is first seen. */
  private suffixCollision(name: string, type: MetricType): string | undefined {
    const suffix = ['_count', '_sum', '_bucket'].find((s) => name.endsWith(s));
    if (suffix !== undefined) {
      const base = name.slice(0, name.length - suffix.length);
      const existing = this.byName.get(base)?.family.type;
      if ((existing === 'summary' && suffix !== '_bucket') || existing === 'histogram') {
        return `collides with previously collected ${existing} named ${JSON.stringify(base)}`;
      }
    }
    const taken = (
      type === 'histogram' ? ['_count', '_sum', '_bucket'] : type === 'summary' ? ['_count', '_sum'] : []
    )
      .map((s) => name + s)
      .find((n) => this.byName.has(n));
    return taken === undefined
      ? undefined
      : `(a ${type}) collides with previously collected metric named ${JSON.stringify(taken)}`;
  }

  families(): MetricFamily[] {
    return [...this.byName.values()].map((e) => e.family);
  }
}

function seriesKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let key = '';
  for (const name of names) key += `${name}\u0000${labels[name] ?? ''}\u0001`;
  return key;
}

function formatLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return names.length === 0
    ? ''
    : `{${names.map((n) => `${n}=${JSON.stringify(labels[n] ?? '')}`).join(',')}}`;
}

/** Copies the given label names into a fresh object, '' where absent (safe for a `__proto__` label). */
function fillLabels(from: Labels, allNames: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of allNames) {
    const value = Object.prototype.hasOwnProperty.call(from, name) ? (from[name] as string) : '';
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

interface Group {
  readonly labels: Record<string, string>;
  readonly bounds: Map<number, number>;
  sum: number;
  count: number;
}

/** Converts one file's family into metrics and feeds them to `check`, like node_exporter's convertMetricFamily. */
function convertFamily(family: ParsedFamily, help: string, check: GatherCheck): void {
  const { name, type } = family;
  const skip = type === 'histogram' ? 'le' : type === 'summary' ? 'quantile' : undefined;
  const nameSet = new Set<string>();
  for (const s of family.samples)
    for (const label of Object.keys(s.labels)) if (label !== skip) nameSet.add(label);
  const allNames = [...nameSet];

  if (skip === undefined) {
    for (const s of family.samples) {
      const labels = fillLabels(s.labels, allNames);
      check.add(name, help, type, labels, [{ labels, value: s.value }]);
    }
    return;
  }

  // Group by the raw label set without le/quantile, as Go's parser does (before empty labels are added).
  const groups = new Map<string, Group>();
  for (const s of family.samples) {
    const raw = withoutLabel(s, skip);
    const key = seriesKey(raw);
    let group = groups.get(key);
    if (group === undefined) {
      group = { labels: fillLabels(raw, allNames), bounds: new Map(), sum: 0, count: 0 };
      groups.set(key, group);
    }
    if (s.name === `${name}_sum`) {
      group.sum = s.value;
    } else if (s.name === `${name}_count`) {
      group.count = goUint64(s.value);
    } else {
      const text = s.labels[skip];
      const bound = text === undefined ? undefined : parseFloatText(text);
      if (bound === undefined || Number.isNaN(bound)) continue;
      group.bounds.set(bound, type === 'histogram' ? goUint64(s.value) : s.value);
    }
  }
  for (const group of groups.values()) {
    const bounds = [...group.bounds.keys()].sort((a, b) => a - b);
    const samples: Sample[] = [];
    const suffix = type === 'histogram' ? '_bucket' : undefined;
    for (const bound of bounds) {
      samples.push({
        suffix,
        labels: { ...group.labels, [skip]: formatGoFloat(bound) },
        value: group.bounds.get(bound) ?? 0,
      });
    }
    if (type === 'histogram' && bounds[bounds.length - 1] !== Infinity) {
      samples.push({ suffix, labels: { ...group.labels, le: '+Inf' }, value: group.count });
    }
    samples.push({ suffix: '_sum', labels: group.labels, value: group.sum });
    samples.push({ suffix: '_count', labels: group.labels, value: group.count });
    check.add(name, help, type, group.labels, samples);
  }
}

function withoutLabel(sample: ParsedSample, skip: string): Labels {
  if (!Object.prototype.hasOwnProperty.call(sample.labels, skip)) return sample.labels;
  const out: Record<string, string> = {};
  for (const label of Object.keys(sample.labels)) {
    if (label === skip) continue;
    Object.defineProperty(out, label, {
      value: sample.labels[label],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Converts the families of every successfully read file (in read order) into metrics, merging same-name
 * families across files and adding node_exporter's default help. Problems are the registry errors
 * node_exporter would log for dropped metrics.
 */
export function convertTextfiles(files: readonly TextfileContent[], check: GatherCheck): void {
  const filesByName = new Map<string, string[]>();
  for (const file of files) {
    for (const family of file.families) {
      const list = filesByName.get(family.name);
      if (list === undefined) filesByName.set(family.name, [file.path]);
      else list.push(file.path);
    }
  }
  for (const file of files) {
    for (const family of file.families) {
      // Go's parser never yields an empty HELP, so '' means "no HELP line".
      const help =
        family.help !== ''
          ? family.help
          : `Metric read from ${(filesByName.get(family.name) ?? []).join(', ')}`;
      convertFamily(family, help, check);
    }
  }
}

/** Whether a path contains Go glob syntax (`*`, `?`, `[`, `\`). */
export function hasGlobMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

/**
 * Compiles one path segment of a Go `filepath.Match` pattern into an anchored RegExp, or returns
 * undefined for a malformed pattern (Go's ErrBadPattern).
 */
export function compileGlobSegment(pattern: string): RegExp | undefined {
  let out = '^';
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern.charAt(i);
    if (c === '*') {
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= n) return undefined;
      const next = String.fromCodePoint(pattern.codePointAt(i + 1) ?? 0);
      out += escapeRegExp(next);
      i += 1 + next.length;
    } else if (c === '[') {
      i++;
      let cls = '[';
      if (pattern.charAt(i) === '^') {
        cls += '^';
        i++;
      }
      let ranges = 0;
      for (;;) {
        if (i >= n) return undefined;
        if (pattern.charAt(i) === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar(pattern, i);
        if (lo === undefined) return undefined;
        i = lo.next;
        let hi = lo;
        if (pattern.charAt(i) === '-') {
          const h = classChar(pattern, i + 1);
          if (h === undefined) return undefined;
          hi = h;
          i = h.next;
        }
        // Go accepts an inverted range and simply never matches it; a RegExp would throw.
        if ((hi.char.codePointAt(0) ?? 0) >= (lo.char.codePointAt(0) ?? 0)) {
          cls += `${escapeClassChar(lo.char)}-${escapeClassChar(hi.char)}`;
        }
        ranges++;
      }
      out += `${cls}]`;
    } else {
      const char = String.fromCodePoint(pattern.codePointAt(i) ?? 0);
      out += escapeRegExp(char);
      i += char.length;
    }
  }
  return new RegExp(`${out}$`, 'u');
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeClassChar(c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

/** One character of a bracket expression (Go's getEsc): `-` and `]` must be escaped there. */
function classChar(pattern: string, i: number): { char: string; next: number } | undefined {
  let c = pattern.charAt(i);
  if (c === '' || c === '-' || c === ']') return undefined;
  if (c === '\\') {
    i++;
    c = pattern.charAt(i);
    if (c === '') return undefined;
  }
  const cp = pattern.codePointAt(i) ?? 0;
  const char = String.fromCodePoint(cp);
  return { char, next: i + char.length };
}
