import { parseExposition } from '../../src/expfmt/parse';
import { syntheticFamilies } from '../../src/sink/scrape';
import type { PendingScrape, Target } from '../../src/sink/types';

export const target: Target = { url: 'http://h1:9100/metrics', instance: 'h1:9100', job: 'node' };

/** A parsed scrape of `body` at `timeMs`, with Prometheus' synthetic series, as the sink buffers it. */
export function scrape(body: string, timeMs: number, t: Target = target): PendingScrape {
  const families = [
    ...parseExposition(body, 'text'),
    ...syntheticFamilies({ target: t, timeMs, durationSeconds: 0.01, families: [] }),
  ];
  return {
    target: t,
    timeMs,
    families,
    sampleCount: families.reduce((a, f) => a + f.samples.length, 0),
    containerUsage: [],
  };
}
