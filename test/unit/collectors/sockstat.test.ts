import * as path from 'node:path';
import { PAGE_SIZE, sockstatCollector } from '../../../src/collectors/sockstat';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

describe('sockstat collector', () => {
  it('exports node_exporter 1.5 sockstat gauges for IPv4 and IPv6', async () => {
    const families = await collectOnce(sockstatCollector);
    expect(families.map((f) => f.name).sort()).toEqual(
      [
        'FRAG6_inuse',
        'FRAG6_memory',
        'FRAG_inuse',
        'FRAG_memory',
        'RAW6_inuse',
        'RAW_inuse',
        'TCP6_inuse',
        'TCP_alloc',
        'TCP_inuse',
        'TCP_mem',
        'TCP_mem_bytes',
        'TCP_orphan',
        'TCP_tw',
        'UDP6_inuse',
        'UDPLITE6_inuse',
        'UDPLITE_inuse',
        'UDP_inuse',
        'UDP_mem',
        'UDP_mem_bytes',
        'sockets_used',
      ]
        .map((n) => `node_sockstat_${n}`)
        .sort(),
    );
    expect(families.every((f) => f.type === 'gauge')).toBe(true);
    expect(family(families, 'node_sockstat_sockets_used').help).toBe('Number of IPv4 sockets in use.');
    expect(family(families, 'node_sockstat_TCP_mem_bytes').help).toBe(
      'Number of TCP sockets in state mem_bytes.',
    );
    expect(valueOf(families, 'node_sockstat_sockets_used')).toBe(229);
    expect(valueOf(families, 'node_sockstat_TCP_tw')).toBe(3);
    expect(valueOf(families, 'node_sockstat_TCP_mem_bytes')).toBe(7 * 4096);
    expect(valueOf(families, 'node_sockstat_UDP_mem_bytes')).toBe(2 * PAGE_SIZE);
    expect(valueOf(families, 'node_sockstat_TCP6_inuse')).toBe(5);
  });

  it('reports nothing, without failing, when both files are absent', async () => {
    const paths = { ...FIXTURE_PATHS, procfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(sockstatCollector, {}, paths)).resolves.toEqual([]);
  });
});
