import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cpufreqCollector } from '../../../src/collectors/cpufreq';
import { collectOnce, family, FIXTURE_PATHS, valueOf } from '../../helpers/collect';

describe('cpufreq collector', () => {
  it('exports the readable frequencies of each CPU with a cpufreq directory, in hertz', async () => {
    const families = await collectOnce(cpufreqCollector);
    expect(families.map((f) => f.name).sort()).toEqual([
      'node_cpu_frequency_hertz',
      'node_cpu_frequency_max_hertz',
      'node_cpu_frequency_min_hertz',
      'node_cpu_scaling_frequency_hertz',
      'node_cpu_scaling_frequency_max_hertz',
      'node_cpu_scaling_frequency_min_hertz',
    ]);
    expect(families.every((f) => f.type === 'gauge')).toBe(true);
    expect(family(families, 'node_cpu_frequency_hertz').help).toBe('Current cpu thread frequency in hertz.');
    expect(family(families, 'node_cpu_scaling_frequency_hertz').help).toBe(
      'Current scaled CPU thread frequency in hertz.',
    );
    // cpu1 has no (root-only) cpuinfo_cur_freq; cpu2 (offline) and cpu3 have no cpufreq directory.
    expect(family(families, 'node_cpu_frequency_hertz').samples).toEqual([
      { labels: { cpu: '0' }, value: 2596158000 },
    ]);
    expect(valueOf(families, 'node_cpu_scaling_frequency_hertz', { cpu: '1' })).toBe(1.8e9);
    expect(valueOf(families, 'node_cpu_frequency_max_hertz', { cpu: '1' })).toBe(3.7e9);
    expect(valueOf(families, 'node_cpu_scaling_frequency_min_hertz', { cpu: '0' })).toBe(1.5e9);
    expect(family(families, 'node_cpu_scaling_frequency_max_hertz').samples).toHaveLength(2);
  });

  it('succeeds with no samples on a host without cpufreq (like a VM)', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'hostscope-cpufreq-'));
    try {
      await expect(collectOnce(cpufreqCollector, {}, { ...FIXTURE_PATHS, sysfs: empty })).resolves.toEqual(
        [],
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
