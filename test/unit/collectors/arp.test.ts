import * as path from 'node:path';
import { arpCollector } from '../../../src/collectors/arp';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT } from '../../helpers/collect';

describe('arp collector', () => {
  it('exports node_arp_entries per device', async () => {
    const entries = family(await collectOnce(arpCollector), 'node_arp_entries');
    expect(entries.type).toBe('gauge');
    expect(entries.help).toBe('ARP entries by device');
    expect(entries.samples).toEqual([
      { labels: { device: 'eth0' }, value: 3 },
      { labels: { device: 'wlan0' }, value: 1 },
      { labels: { device: 'docker0' }, value: 1 },
    ]);
  });

  it('filters devices; with both patterns the exclude wins', async () => {
    const devices = async (opts: Record<string, string>): Promise<string[]> =>
      family(await collectOnce(arpCollector, opts), 'node_arp_entries').samples.map(
        (s) => s.labels.device ?? '',
      );
    expect(await devices({ 'device-exclude': 'docker' })).toEqual(['eth0', 'wlan0']);
    expect(await devices({ 'device-include': '^eth' })).toEqual(['eth0']);
    expect(await devices({ 'device-include': '0$', 'device-exclude': 'wlan' })).toEqual(['eth0', 'docker0']);
  });

  it('fails when /proc/net/arp is missing', async () => {
    const paths = { ...FIXTURE_PATHS, procfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(arpCollector, {}, paths)).rejects.toThrow(/ENOENT/);
  });
});
