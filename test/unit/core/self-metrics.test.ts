import { closeSync, openSync, readdirSync } from 'node:fs';
import { DEFAULT_METRICS } from '../../../src/exporter/prom-client-core';
import { openFds, SelfMetrics } from '../../../src/exporter/self-metrics';

const listed = (): number => readdirSync('/proc/self/fd').length - 1;

describe('SelfMetrics', () => {
  it('counts open descriptors as prom-client does (the /proc/self/fd listing)', () => {
    const before = openFds();
    expect(before).toBe(listed());
    const fds = Array.from({ length: 7 }, () => openSync('/proc/self/stat', 'r'));
    try {
      expect(openFds()).toBe(before + 7);
      expect(openFds()).toBe(listed());
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    expect(openFds()).toBe(before);
  });

  it('serves process_open_fds once, among the process and nodejs metrics', async () => {
    const families = await new SelfMetrics(true).collect();
    const fds = families.filter((f) => f.name === 'process_open_fds');
    expect(fds).toHaveLength(1);
    expect(fds[0]?.type).toBe('gauge');
    expect(fds[0]?.help).toBe('Number of open file descriptors.');
    expect(fds[0]?.samples.map((s) => s.value)).toEqual([listed()]);
    expect(families.some((f) => f.name === 'process_resident_memory_bytes')).toBe(true);
    expect(families.some((f) => f.name === 'nodejs_heap_size_used_bytes')).toBe(true);
    const off = await new SelfMetrics(false).collect();
    expect(off.map((f) => f.name)).toEqual(['hostscope_build_info']);
  });

  it("registers prom-client's default metrics, its CPU counters rewritten, counting from the process start", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { metricsList } = require('prom-client/lib/defaultMetrics') as { metricsList: string[] };
    expect(['processCpuTotal', ...DEFAULT_METRICS, 'eventLoopLag'].sort()).toEqual([...metricsList].sort());
    const families = await new SelfMetrics(true).collect();
    const value = (name: string): number | undefined =>
      families.find((f) => f.name === name)?.samples[0]?.value;
    const used = process.cpuUsage();
    const [user, system, total] = [
      value('process_cpu_user_seconds_total'),
      value('process_cpu_system_seconds_total'),
      value('process_cpu_seconds_total'),
    ];
    expect(user).toBeLessThanOrEqual(used.user / 1e6);
    expect(user).toBeGreaterThan(used.user / 1e6 - 0.5);
    expect(system).toBeLessThanOrEqual(used.system / 1e6);
    expect(total).toBeCloseTo((user ?? 0) + (system ?? 0), 6);
    expect(families.find((f) => f.name === 'process_cpu_seconds_total')?.type).toBe('counter');
  });
});
