import { countSamples, parseExposition, parseExpositionSliced, type ParseCache } from '../expfmt/parse';
import type { ParsedFamily } from '../expfmt/types';
import type { ScrapeRecord } from './buffer/record';
import { syntheticFamilies } from './scrape';
import type { PendingScrape } from './types';

/**
 * The pending batch of one scrape: its parsed families (undefined when it failed) plus the synthetic
 * `up`, `scrape_duration_seconds` and `scrape_samples_scraped`, with the usage rows and inventory
 * computed when it was scraped.
 */
export function pendingScrape(
  record: ScrapeRecord,
  families: readonly ParsedFamily[] | undefined,
): PendingScrape {
  const outcome = {
    target: record.target,
    timeMs: record.timeMs,
    durationSeconds: record.durationSeconds,
    ...(families === undefined ? {} : { families }),
  };
  const all = [...(families ?? []), ...syntheticFamilies(outcome)];
  // countSamples, not f.samples.length: reading `samples` of a columnar family (parse cache) builds one
  // object per sample, which the writer's fast path exists to avoid.
  const sampleCount = countSamples(all);
  return {
    target: record.target,
    timeMs: record.timeMs,
    families: all,
    sampleCount,
    containerUsage: record.containerUsage,
    ...(record.hostUsage === undefined ? {} : { hostUsage: record.hostUsage }),
    ...(record.inventory === undefined ? {} : { inventory: record.inventory }),
  };
}

/**
 * Rebuilds a scrape read back from the disk buffer: the body parses as it did when it was scraped. With
 * the target's parse cache (the one its scrapes use) a replayed scrape reuses the cached lines, so the
 * writer finds its series by line identity as it does for a live scrape.
 */
export async function replayScrape(record: ScrapeRecord, cache?: ParseCache): Promise<PendingScrape> {
  if (record.error !== undefined) return pendingScrape(record, undefined);
  if (record.body === undefined && record.families !== undefined)
    return pendingScrape(record, record.families);
  const body =
    typeof record.body === 'string' ? Buffer.from(record.body, 'utf8') : (record.body ?? Buffer.alloc(0));
  const format = record.format ?? 'text';
  const families =
    cache === undefined ? parseExposition(body, format) : await parseExpositionSliced(body, format, cache);
  return pendingScrape(record, families);
}
