import { collectDefaultMetrics, Registry } from 'prom-client';
import { SelfMetrics } from '../../../src/exporter/self-metrics';
import type { MetricFamily } from '../../../src/metrics/types';

/** Keeps the event loop busy for `ms`: its delay histogram then records at least that delay. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

/**
 * Blocks the loop for `ms` between two ticks: a reset histogram records from its second timer tick on
 * (Node drops the first interval), and the delay is recorded at the tick after the block.
 */
async function blockBetweenTicks(ms: number): Promise<void> {
  await tick();
  block(ms);
  await tick();
}

function value(families: readonly MetricFamily[], name: string): number {
  const v = families.find((f) => f.name === name)?.samples[0]?.value;
  if (v === undefined) throw new Error(`${name} missing`);
  return v;
}

describe('exporter metrics about itself (prom-client defaults, event loop lag)', () => {
  it("serves prom-client's default families with its names, types and help, and client_golang's process_virtual_memory_max_bytes", async () => {
    const reference = new Registry();
    collectDefaultMetrics({ register: reference });
    const expected = [
      ...(await reference.getMetricsAsJSON()).map((m) => [m.name, String(m.type), m.help]),
      // prom-client lacks it; node_exporter (client_golang) has it (see test/e2e/node-exporter-oracle).
      ['process_virtual_memory_max_bytes', 'gauge', 'Maximum amount of virtual memory available in bytes.'],
    ];
    const ours = (await new SelfMetrics(true).collect())
      .filter((f) => f.name !== 'hostscope_build_info')
      .map((f) => [f.name, f.type, f.help]);
    const byName = (a: string[], b: string[]): number => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1);
    expect(ours.sort(byName)).toEqual(expected.sort(byName));
  });

  it('reports a blocked event loop in the max delay when computed at the scrape', async () => {
    const self = new SelfMetrics(true);
    await self.collect();
    await blockBetweenTicks(120);
    expect(value(await self.collect(), 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.1);
  });

  it('computes them after the response (afterScrape) for the next scrape, losing no delay', async () => {
    const self = new SelfMetrics(true);
    await self.collect();
    await blockBetweenTicks(120);
    self.afterScrape();
    await blockBetweenTicks(400);
    // The scrape serves what afterScrape() computed: the 120 ms block, not the later one.
    const served = await self.collect();
    expect(value(served, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.1);
    expect(value(served, 'nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.39);
    // The next one (no afterScrape in between) computes at the scrape, from afterScrape()'s reset on.
    expect(value(await self.collect(), 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.39);
  });
});
