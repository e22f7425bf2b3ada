import { isValidMetricName } from '../exposition/escape';
import { formatLabels } from '../exposition/labels';
import type { MetricFamily, Sample } from '../metrics/types';

export interface GatherProblem {
  readonly family: string;
  readonly problem: string;
}

/**
 * Merges families of the same name and drops what would make the exposition invalid (as client_golang's
 * Gather does): a family whose type conflicts with an earlier one of its name, invalid names, and a second
 * sample with the same series. Returns the families sorted by name (the exposition's order), and the
 * problems so the caller can log them.
 *
 * Allocation matters here (it runs on every scrape over every sample): families are grouped by a stable
 * sort on the name rather than a map, and a family that appears once, with valid label names and its
 * series in strictly ascending order (so without duplicates), is passed on as it is, without a copy and
 * without a set of seen series.
 */
export function gather(input: readonly MetricFamily[]): {
  families: MetricFamily[];
  problems: GatherProblem[];
} {
  const problems: GatherProblem[] = [];
  // Stable: families of one name stay in the order they were collected, so "earlier" means collected first.
  const sorted = input.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const families: MetricFamily[] = [];
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i] as MetricFamily;
    let end = i + 1;
    while (end < sorted.length && (sorted[end] as MetricFamily).name === first.name) end++;
    if (!isValidMetricName(first.name)) {
      for (let k = i; k < end; k++) problems.push({ family: first.name, problem: 'invalid metric name' });
    } else if (end === i + 1 && isCleanAndOrdered(first.samples)) {
      families.push(first);
    } else if (end === i + 1 && first.type !== 'histogram' && first.type !== 'summary') {
      families.push(sortUnique(first, problems));
    } else {
      families.push(merge(sorted, i, end, problems));
    }
    i = end;
  }
  return { families, problems };
}

/** One family from families[from, to) of the same name: the first one's type, each series once. */
function merge(
  families: readonly MetricFamily[],
  from: number,
  to: number,
  problems: GatherProblem[],
): MetricFamily {
  const first = families[from] as MetricFamily;
  const seen = new Set<string>();
  const samples: Sample[] = [];
  for (let k = from; k < to; k++) {
    const family = families[k] as MetricFamily;
    if (family.type !== first.type) {
      problems.push({
        family: family.name,
        problem: `type ${family.type} conflicts with ${first.type} collected earlier; dropped`,
      });
      continue;
    }
    for (const sample of family.samples) {
      const key = seriesId(sample);
      if (key === undefined) {
        problems.push({ family: family.name, problem: 'invalid label name; sample dropped' });
        continue;
      }
      if (seen.has(key)) {
        problems.push({ family: family.name, problem: `duplicate series ${key}; sample dropped` });
        continue;
      }
      seen.add(key);
      samples.push(sample);
    }
  }
  return { ...first, samples };
}

/**
 * A family of plain samples whose series are out of order (a collector's file order: `lo` before `eth0`):
 * its samples sorted by series, which is the exposition's order, so the encoder need not sort them again.
 * Of samples with the same series the first collected is kept, as merge keeps it. (Histograms and
 * summaries keep their bucket order and go through merge.)
 */
function sortUnique(family: MetricFamily, problems: GatherProblem[]): MetricFamily {
  const keys = family.samples.map(seriesId);
  const order: number[] = [];
  keys.forEach((key, i) => {
    if (key === undefined)
      problems.push({ family: family.name, problem: 'invalid label name; sample dropped' });
    else order.push(i);
  });
  // Ties keep collection order: Array.prototype.sort is stable.
  order.sort((a, b) => {
    const ka = keys[a] as string;
    const kb = keys[b] as string;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const samples: Sample[] = [];
  let previous: string | undefined;
  for (const i of order) {
    const key = keys[i] as string;
    if (key === previous) {
      problems.push({ family: family.name, problem: `duplicate series ${key}; sample dropped` });
      continue;
    }
    previous = key;
    samples.push(family.samples[i] as Sample);
  }
  return { ...family, samples };
}

/** True if every sample's labels are valid and the series ids strictly ascend (so none repeats). */
function isCleanAndOrdered(samples: readonly Sample[]): boolean {
  let previous: string | undefined;
  for (const sample of samples) {
    const key = seriesId(sample);
    if (key === undefined) return false;
    if (previous !== undefined && key <= previous) return false;
    previous = key;
  }
  return true;
}

function seriesId(sample: Sample): string | undefined {
  const labels = formatLabels(sample.labels);
  if (!labels.valid) return undefined;
  return sample.suffix === undefined ? labels.text : sample.suffix + labels.text;
}
