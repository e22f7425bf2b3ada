import type { CollectorRunner } from '../collectors/runner';
import type { Logger } from '../log/logger';
import type { MetricFamily } from '../metrics/types';
import { gather } from './gather';

export interface FamilySource {
  collect(): Promise<MetricFamily[]>;
}

/**
 * One scrape = every collector, the inventory snapshot and the exporter's own metrics, gathered into a
 * valid set. Concurrent scrapes share the one collection in flight instead of reading /proc twice.
 */
export class Scraper {
  private inFlight: Promise<MetricFamily[]> | undefined;
  private readonly reported = new Set<string>();

  constructor(
    private readonly runner: CollectorRunner,
    private readonly extraSources: readonly FamilySource[],
    private readonly logger: Logger,
  ) {}

  scrape(): Promise<MetricFamily[]> {
    if (this.inFlight === undefined) {
      this.inFlight = this.collectAll().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  private async collectAll(): Promise<MetricFamily[]> {
    const parts = await Promise.all([this.runner.collect(), ...this.extraSources.map((s) => s.collect())]);
    const { families, problems } = gather(parts.flat());
    for (const p of problems) {
      // Log each distinct problem once: the same bad textfile would otherwise log on every scrape.
      const key = `${p.family}: ${p.problem}`;
      if (this.reported.has(key)) continue;
      if (this.reported.size < 1000) this.reported.add(key);
      this.logger.warn({ family: p.family }, `invalid metric dropped: ${p.problem}`);
    }
    return families;
  }
}
