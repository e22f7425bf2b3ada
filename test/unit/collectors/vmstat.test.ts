import { vmstatCollector } from '../../../src/collectors/vmstat';
import { collectOnce, family, valueOf } from '../../helpers/collect';

describe('vmstat collector', () => {
  it("exports the fields of node_exporter's default pattern as untyped metrics", async () => {
    const families = await collectOnce(vmstatCollector);
    expect(families.map((f) => f.name)).toEqual([
      'node_vmstat_pgpgin',
      'node_vmstat_pgpgout',
      'node_vmstat_pswpin',
      'node_vmstat_pswpout',
      'node_vmstat_pgfault',
      'node_vmstat_pgmajfault',
      'node_vmstat_oom_kill',
    ]);
    expect(family(families, 'node_vmstat_pgmajfault')).toEqual({
      name: 'node_vmstat_pgmajfault',
      help: '/proc/vmstat information field pgmajfault.',
      type: 'untyped',
      samples: [{ labels: {}, value: 786 }],
    });
    expect(valueOf(families, 'node_vmstat_pswpout')).toBe(34);
  });

  it('matches the fields option unanchored, as Go regexp.MatchString does', async () => {
    const families = await collectOnce(vmstatCollector, { fields: 'zone_.*anon' });
    expect(families.map((f) => f.name)).toEqual(['node_vmstat_nr_zone_inactive_anon']);
  });
});
