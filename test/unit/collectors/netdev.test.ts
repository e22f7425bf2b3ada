import * as path from 'node:path';
import { netdevCollector } from '../../../src/collectors/netdev';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

describe('netdev collector', () => {
  it('exports the 16 counters per device with node_exporter names, help and type', async () => {
    const families = await collectOnce(netdevCollector);
    const bytes = family(families, 'node_network_receive_bytes_total');
    expect(bytes.type).toBe('counter');
    expect(bytes.help).toBe('Network device statistic receive_bytes.');
    expect(bytes.samples.map((s) => s.labels.device).sort()).toEqual(['docker0', 'eth0', 'lo', 'wlan0']);
    expect(valueOf(families, 'node_network_receive_bytes_total', { device: 'eth0' })).toBe(2 ** 64); // 2^64-1 in the file, as a double
    expect(valueOf(families, 'node_network_receive_errs_total', { device: 'eth0' })).toBe(1);
    expect(valueOf(families, 'node_network_receive_drop_total', { device: 'eth0' })).toBe(2);
    expect(valueOf(families, 'node_network_receive_multicast_total', { device: 'wlan0' })).toBe(321);
    expect(valueOf(families, 'node_network_transmit_colls_total', { device: 'eth0' })).toBe(10);
    expect(valueOf(families, 'node_network_transmit_carrier_total', { device: 'eth0' })).toBe(11);
    expect(valueOf(families, 'node_network_transmit_compressed_total', { device: 'eth0' })).toBe(12);
    expect(families.filter((f) => f.name !== 'node_network_receive_nohandler_total')).toHaveLength(16);
  });

  it('adds receive_nohandler from sysfs where the device has it', async () => {
    const families = await collectOnce(netdevCollector);
    const nohandler = family(families, 'node_network_receive_nohandler_total');
    expect(nohandler.help).toBe('Network device statistic receive_nohandler.');
    expect(valueOf(families, 'node_network_receive_nohandler_total', { device: 'eth0' })).toBe(5);
    // docker0 has no statistics/rx_nohandler in the fixture: no sample rather than a made-up 0.
    expect(nohandler.samples.map((s) => s.labels.device).sort()).toEqual(['eth0', 'lo', 'wlan0']);
  });

  it('filters devices with unanchored include/exclude patterns', async () => {
    const excluded = await collectOnce(netdevCollector, { 'device-exclude': 'lo' });
    expect(
      family(excluded, 'node_network_receive_bytes_total')
        .samples.map((s) => s.labels.device)
        .sort(),
    ).toEqual(['docker0', 'eth0', 'wlan0']);
    const included = await collectOnce(netdevCollector, { 'device-include': '^(eth|wlan)' });
    expect(
      family(included, 'node_network_transmit_bytes_total')
        .samples.map((s) => s.labels.device)
        .sort(),
    ).toEqual(['eth0', 'wlan0']);
  });

  it('refuses include and exclude together, as node_exporter does', async () => {
    await expect(
      collectOnce(netdevCollector, { 'device-include': 'eth', 'device-exclude': 'lo' }),
    ).rejects.toThrow(/mutually exclusive/);
  });

  it('exports address info only when asked', async () => {
    const without = await collectOnce(netdevCollector);
    expect(without.find((f) => f.name === 'node_network_address_info')).toBeUndefined();
    const withInfo = await collectOnce(netdevCollector, { 'address-info': true });
    const info = family(withInfo, 'node_network_address_info');
    expect(info.help).toBe('node network address by device');
    // This host's own interfaces: the loopback address is always there.
    expect(info.samples).toContainEqual({
      labels: { device: 'lo', address: '127.0.0.1', netmask: '8', scope: 'link-local' },
      value: 1,
    });
  });

  it('fails when /proc/net/dev is missing', async () => {
    const paths = { ...FIXTURE_PATHS, procfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(netdevCollector, {}, paths)).rejects.toThrow(/ENOENT/);
  });
});
