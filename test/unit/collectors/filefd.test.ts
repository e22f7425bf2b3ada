import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { filefdCollector } from '../../../src/collectors/filefd';
import { collectOnce, FIXTURE_PATHS } from '../../helpers/collect';
import { canonicalFamilies, canonicalLines, readGolden } from '../../helpers/node-exporter-golden';

describe('filefd collector', () => {
  it('matches node_exporter 1.5 on the fixture tree', async () => {
    expect(canonicalFamilies(await collectOnce(filefdCollector))).toEqual(
      canonicalLines(readGolden('filefd')),
    );
  });

  it('fails when file-nr is missing', async () => {
    const procfs = mkdtempSync(path.join(tmpdir(), 'hostscope-filefd-'));
    await expect(collectOnce(filefdCollector, {}, { ...FIXTURE_PATHS, procfs })).rejects.toThrow(/ENOENT/);
  });
});
