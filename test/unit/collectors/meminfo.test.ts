import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { meminfoCollector } from '../../../src/collectors/meminfo';
import { collectOnce, family, FIXTURE_PATHS, valueOf } from '../../helpers/collect';
import { canonicalFamilies, canonicalLines, readGolden } from '../../helpers/node-exporter-golden';

describe('meminfo collector', () => {
  it('matches node_exporter 1.5 on the fixture tree (names, help, types, values)', async () => {
    const families = await collectOnce(meminfoCollector);
    expect(canonicalFamilies(families)).toEqual(canonicalLines(readGolden('meminfo')));
  });

  it('exports gauges in bytes and unit-less counts', async () => {
    const families = await collectOnce(meminfoCollector);
    expect(valueOf(families, 'node_memory_MemAvailable_bytes')).toBe(9874532 * 1024);
    expect(valueOf(families, 'node_memory_HugePages_Free')).toBe(60);
    expect(family(families, 'node_memory_Active_anon_bytes').type).toBe('gauge');
  });

  it('fails when /proc/meminfo is missing', async () => {
    const procfs = mkdtempSync(path.join(tmpdir(), 'hostscope-meminfo-'));
    await expect(collectOnce(meminfoCollector, {}, { ...FIXTURE_PATHS, procfs })).rejects.toThrow(/ENOENT/);
  });
});
