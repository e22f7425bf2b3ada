import { Writable } from 'node:stream';
import { getHeapSpaceStatistics } from 'node:v8';
import { DEFAULT_TRIM_POLICY, MemoryTrimmer, shouldTrim } from '../../../src/exporter/memory-trim';
import { createLogger } from '../../../src/log/logger';
import type { MetricFamily } from '../../../src/metrics/types';

const MiB = 1024 * 1024;

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

function value(families: readonly MetricFamily[], name: string): number | undefined {
  return families.find((f) => f.name === name)?.samples[0]?.value;
}

const quietLogger = createLogger(
  { level: 'warn', format: 'json' },
  new Writable({ write: (_chunk, _enc, done) => done() }),
);

describe('shouldTrim', () => {
  const base = {
    oldUsed: 10 * MiB,
    baseline: 7 * MiB,
    nowMs: 100_000,
    lastTrimMs: 0,
    previousScrapeMs: 99_000,
  };

  it('trims once the old generation has grown enough, outside bursts, not too often', () => {
    expect(shouldTrim(base, DEFAULT_TRIM_POLICY)).toBe(true);
    // Grown by less than 2 MiB.
    expect(shouldTrim({ ...base, oldUsed: 8.5 * MiB }, DEFAULT_TRIM_POLICY)).toBe(false);
    // In a burst: the previous scrape ended 100 ms ago.
    expect(shouldTrim({ ...base, previousScrapeMs: 99_900 }, DEFAULT_TRIM_POLICY)).toBe(false);
    // Trimmed 10 s ago.
    expect(shouldTrim({ ...base, lastTrimMs: 90_000 }, DEFAULT_TRIM_POLICY)).toBe(false);
  });
});

describe('MemoryTrimmer', () => {
  it("gives back what the old generation held once it is garbage (a real collection of this process's heap)", async () => {
    const trimmer = new MemoryTrimmer(quietLogger, {
      growthBytes: 2 * MiB,
      minIntervalMs: 0,
      quietMs: 0,
      delayMs: 0,
    });
    // ~8 MB of arrays that live through enough young collections to be promoted to the old generation.
    let kept: number[][] | undefined = [];
    for (let i = 0; i < 2000; i++) {
      kept.push(Array.from({ length: 500 }, (_, j) => i * j + 0.5));
      for (let k = 0; k < 20; k++) void Array.from({ length: 500 }, () => ({ k }));
    }
    expect(kept.length).toBe(2000);
    const grown = oldSpaceUsed();
    kept = undefined;
    trimmer.afterScrape();
    // The collection runs as a task of this thread, after the call.
    for (let i = 0; i < 50 && value(await trimmer.collect(), 'hostscope_memory_trims_total') === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const families = await trimmer.collect();
    expect(value(families, 'hostscope_memory_trims_total')).toBe(1);
    expect(value(families, 'hostscope_memory_trim_seconds_total')).toBeGreaterThan(0);
    expect(grown - oldSpaceUsed()).toBeGreaterThan(4 * MiB);
  });

  it('does nothing while the old generation has not grown', async () => {
    const trimmer = new MemoryTrimmer(quietLogger, {
      growthBytes: 64 * MiB,
      minIntervalMs: 0,
      quietMs: 0,
      delayMs: 0,
    });
    trimmer.afterScrape();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(value(await trimmer.collect(), 'hostscope_memory_trims_total')).toBe(0);
  });

  const always = { growthBytes: Number.NEGATIVE_INFINITY, minIntervalMs: 0, quietMs: 0, delayMs: 50 };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

  it('trims after the delay when no scrape came in between (the control of the next two)', async () => {
    const trimmer = new MemoryTrimmer(quietLogger, always);
    trimmer.afterScrape();
    await settle();
    expect(value(await trimmer.collect(), 'hostscope_memory_trims_total')).toBe(1);
  });

  it('does not trim when another scrape ends within the delay (a burst starting)', async () => {
    const trimmer = new MemoryTrimmer(quietLogger, { ...always, quietMs: 60_000 });
    trimmer.afterScrape();
    trimmer.afterScrape();
    await settle();
    expect(value(await trimmer.collect(), 'hostscope_memory_trims_total')).toBe(0);
  });

  it('does not trim while a scrape is under way', async () => {
    const trimmer = new MemoryTrimmer(quietLogger, always, () => true);
    trimmer.afterScrape();
    await settle();
    expect(value(await trimmer.collect(), 'hostscope_memory_trims_total')).toBe(0);
  });
});
