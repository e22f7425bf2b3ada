import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { entropyCollector } from '../../../src/collectors/entropy';
import { collectOnce, FIXTURE_PATHS, valueOf } from '../../helpers/collect';
import { canonicalFamilies, canonicalLines, readGolden } from '../../helpers/node-exporter-golden';

describe('entropy collector', () => {
  it('matches node_exporter 1.5 on the fixture tree', async () => {
    const families = await collectOnce(entropyCollector);
    expect(canonicalFamilies(families)).toEqual(canonicalLines(readGolden('entropy')));
    expect(valueOf(families, 'node_entropy_available_bits')).toBe(3754);
    expect(valueOf(families, 'node_entropy_pool_size_bits')).toBe(4096);
  });

  it('fails when poolsize is missing, as node_exporter does', async () => {
    const procfs = mkdtempSync(path.join(tmpdir(), 'hostscope-entropy-'));
    mkdirSync(path.join(procfs, 'sys/kernel/random'), { recursive: true });
    writeFileSync(path.join(procfs, 'sys/kernel/random/entropy_avail'), '256\n');
    await expect(collectOnce(entropyCollector, {}, { ...FIXTURE_PATHS, procfs })).rejects.toThrow(/poolsize/);
  });
});
