import { isValidMetricName } from '../exposition/escape';
import { formatLabels } from '../exposition/labels';
import type { MetricFamily, Sample } from '../metrics/types';

export interface GatherProblem {
  readonly family: string;
  readonly problem: string;
}

interface Entry {
  readonly family: MetricFamily;
  /** Undefined while the one family of this name passes on unchanged (see gather). */
  samples: Sample[] | undefined;
  seen: Set<string> | undefined;
}

/**
 * Merges families of the same name and drops what would make the exposition invalid (as client_golang's
 * Gather does): a family whose type or help conflicts with an earlier one, invalid names, and a second
 * sample with the same series. Returns the problems so the caller can log them.
 *
 * Allocation matters here (it runs on every scrape over every sample): a family that appears once, with
 * valid label names and its series in strictly ascending order (so without duplicates), is passed on as
 * it is, without a copy and without a set of seen series.
 */
export function gather(input: readonly MetricFamily[]): {
  families: MetricFamily[];
  problems: GatherProblem[];
} {
  const problems: GatherProblem[] = [];
  const merged = new Map<string, Entry>();
  const addSamples = (entry: Entry, samples: readonly Sample[], seen: Set<string>, into: Sample[]): void => {
    for (const sample of samples) {
      const key = seriesId(sample);
      if (key === undefined) {
        problems.push({ family: entry.family.name, problem: 'invalid label name; sample dropped' });
        continue;
      }
      if (seen.has(key)) {
        problems.push({ family: entry.family.name, problem: `duplicate series ${key}; sample dropped` });
        continue;
      }
      seen.add(key);
      into.push(sample);
    }
  };
  for (const family of input) {
    if (!isValidMetricName(family.name)) {
      problems.push({ family: family.name, problem: 'invalid metric name' });
      continue;
    }
    let entry = merged.get(family.name);
    if (entry === undefined) {
      entry = { family, samples: undefined, seen: undefined };
      merged.set(family.name, entry);
      if (isCleanAndOrdered(family.samples)) continue;
    } else if (entry.family.type !== family.type) {
      problems.push({
        family: family.name,
        problem: `type ${family.type} conflicts with ${entry.family.type} collected earlier; dropped`,
      });
      continue;
    }
    if (entry.samples === undefined || entry.seen === undefined) {
      // First family of the name that needs checking: start from the earlier clean samples, if any.
      const seen = new Set<string>();
      const samples: Sample[] = [];
      if (entry.family !== family) {
        for (const sample of entry.family.samples) {
          seen.add(seriesId(sample) as string);
          samples.push(sample);
        }
      }
      entry.samples = samples;
      entry.seen = seen;
    }
    addSamples(entry, family.samples, entry.seen, entry.samples);
  }
  const families: MetricFamily[] = [];
  for (const { family, samples } of merged.values()) {
    families.push(samples === undefined ? family : { ...family, samples });
  }
  return { families, problems };
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
