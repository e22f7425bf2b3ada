import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { conntrackCollector } from '../../../src/collectors/conntrack';
import { NoDataError } from '../../../src/errors';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

describe('conntrack collector', () => {
  it('exports entries, limit and the summed statistics as gauges', async () => {
    const families = await collectOnce(conntrackCollector);
    expect(families.map((f) => f.name).sort()).toEqual([
      'node_nf_conntrack_entries',
      'node_nf_conntrack_entries_limit',
      'node_nf_conntrack_stat_drop',
      'node_nf_conntrack_stat_early_drop',
      'node_nf_conntrack_stat_found',
      'node_nf_conntrack_stat_ignore',
      'node_nf_conntrack_stat_insert',
      'node_nf_conntrack_stat_insert_failed',
      'node_nf_conntrack_stat_invalid',
      'node_nf_conntrack_stat_search_restart',
    ]);
    expect(families.every((f) => f.type === 'gauge')).toBe(true);
    expect(family(families, 'node_nf_conntrack_entries').help).toBe(
      'Number of currently allocated flow entries for connection tracking.',
    );
    expect(family(families, 'node_nf_conntrack_stat_early_drop').help).toBe(
      'Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.',
    );
    expect(valueOf(families, 'node_nf_conntrack_entries')).toBe(123);
    expect(valueOf(families, 'node_nf_conntrack_entries_limit')).toBe(262144);
    expect(valueOf(families, 'node_nf_conntrack_stat_ignore')).toBe(256);
    expect(valueOf(families, 'node_nf_conntrack_stat_search_restart')).toBe(20);
  });

  it('has no data when the conntrack module is not loaded', async () => {
    const paths = { ...FIXTURE_PATHS, procfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(conntrackCollector, {}, paths)).rejects.toBeInstanceOf(NoDataError);
  });

  it('fails (not "no data") when only the statistics file is missing, like node_exporter', async () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'conntrack-'));
    mkdirSync(path.join(proc, 'sys', 'net', 'netfilter'), { recursive: true });
    writeFileSync(path.join(proc, 'sys', 'net', 'netfilter', 'nf_conntrack_count'), '1\n');
    writeFileSync(path.join(proc, 'sys', 'net', 'netfilter', 'nf_conntrack_max'), '2\n');
    const result = collectOnce(conntrackCollector, {}, { ...FIXTURE_PATHS, procfs: proc });
    await expect(result).rejects.toThrow(/ENOENT/);
    await expect(result).rejects.not.toBeInstanceOf(NoDataError);
  });
});
