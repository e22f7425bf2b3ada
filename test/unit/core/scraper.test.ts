import { CollectorRunner } from '../../../src/collectors/runner';
import { Scraper } from '../../../src/exporter/scraper';
import { silentLogger } from '../../../src/log/logger';
import { MetricSet } from '../../../src/metrics/metric-set';
import type { MetricFamily } from '../../../src/metrics/types';

describe('Scraper', () => {
  it('shares one in-flight collection between concurrent scrapes, and starts a new one afterwards', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const slow = {
      update: async (): Promise<MetricFamily[]> => {
        calls++;
        await new Promise<void>((r) => (release = r));
        return new MetricSet().gauge('slow_value', 'v', calls).families();
      },
    };
    const scraper = new Scraper(
      new CollectorRunner([{ name: 'slow', collector: slow }], 5000, silentLogger()),
      [],
      silentLogger(),
    );
    const a = scraper.scrape();
    const b = scraper.scrape();
    await new Promise((r) => setImmediate(r));
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(calls).toBe(1);
    expect(ra).toBe(rb);
    const c = scraper.scrape();
    await new Promise((r) => setImmediate(r));
    release();
    await c;
    expect(calls).toBe(2);
  });

  it('drops a textfile family that clashes with a collector family instead of serving invalid output', async () => {
    const collector = { update: async () => new MetricSet().gauge('node_load1', 'load', 1).families() };
    const clash = { collect: async () => new MetricSet().counter('node_load1', 'clash', 2).families() };
    const scraper = new Scraper(
      new CollectorRunner([{ name: 'loadavg', collector }], 5000, silentLogger()),
      [clash],
      silentLogger(),
    );
    const families = await scraper.scrape();
    const load = families.filter((f) => f.name === 'node_load1');
    expect(load).toHaveLength(1);
    expect(load[0]?.type).toBe('gauge');
  });
});
