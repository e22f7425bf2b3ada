import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { udpQueuesCollector } from '../../../src/collectors/udp_queues';
import { NoDataError } from '../../../src/errors';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT } from '../../helpers/collect';

describe('udp_queues collector', () => {
  it('exports node_udp_queues{ip,queue} for v4 and v6', async () => {
    const families = await collectOnce(udpQueuesCollector);
    const queues = family(families, 'node_udp_queues');
    expect(queues.type).toBe('gauge');
    expect(queues.help).toBe('Number of allocated memory in the kernel for UDP datagrams in bytes.');
    expect(queues.samples).toEqual([
      { labels: { queue: 'tx', ip: 'v4' }, value: 2560 },
      { labels: { queue: 'rx', ip: 'v4' }, value: 257 },
      { labels: { queue: 'tx', ip: 'v6' }, value: 16 },
      { labels: { queue: 'rx', ip: 'v6' }, value: 32 },
    ]);
  });

  it('reports IPv4 alone when udp6 is absent', async () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'udpq-'));
    mkdirSync(path.join(proc, 'net'));
    writeFileSync(path.join(proc, 'net', 'udp'), readFileSync(path.join(FIXTURE_PATHS.procfs, 'net', 'udp')));
    const families = await collectOnce(udpQueuesCollector, {}, { ...FIXTURE_PATHS, procfs: proc });
    expect(family(families, 'node_udp_queues').samples.map((s) => s.labels.ip)).toEqual(['v4', 'v4']);
  });

  it('has no data when neither file exists', async () => {
    const paths = { ...FIXTURE_PATHS, procfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(udpQueuesCollector, {}, paths)).rejects.toBeInstanceOf(NoDataError);
  });
});
