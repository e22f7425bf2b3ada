import { isValidMetricName } from '../exposition/escape';
import { formatLabels } from '../exposition/labels';
import type { MetricFamily, Sample } from '../metrics/types';

export interface GatherProblem {
  readonly family: string;
  readonly problem: string;
}

/**
 * Merges families of the same name and drops what would make the exposition invalid (as client_golang's
 * Gather does): a family whose type or help conflicts with an earlier one, invalid names, and a second
 * sample with the same series. Returns the problems so the caller can log them.
 */
export function gather(input: readonly MetricFamily[]): {
  families: MetricFamily[];
  problems: GatherProblem[];
} {
  const problems: GatherProblem[] = [];
  const merged = new Map<string, { family: MetricFamily; samples: Sample[]; seen: Set<string> }>();
  for (const family of input) {
    if (!isValidMetricName(family.name)) {
      problems.push({ family: family.name, problem: 'invalid metric name' });
      continue;
    }
    let entry = merged.get(family.name);
    if (entry === undefined) {
      entry = { family, samples: [], seen: new Set() };
      merged.set(family.name, entry);
    } else if (entry.family.type !== family.type) {
      problems.push({
        family: family.name,
        problem: `type ${family.type} conflicts with ${entry.family.type} collected earlier; dropped`,
      });
      continue;
    }
    for (const sample of family.samples) {
      const key = seriesId(sample);
      if (key === undefined) {
        problems.push({ family: family.name, problem: 'invalid label name; sample dropped' });
        continue;
      }
      if (entry.seen.has(key)) {
        problems.push({ family: family.name, problem: `duplicate series ${key}; sample dropped` });
        continue;
      }
      entry.seen.add(key);
      entry.samples.push(sample);
    }
  }
  const families = [...merged.values()].map(({ family, samples }) => ({ ...family, samples }));
  return { families, problems };
}

function seriesId(sample: Sample): string | undefined {
  const labels = formatLabels(sample.labels);
  return labels.valid ? (sample.suffix ?? '') + labels.text : undefined;
}
