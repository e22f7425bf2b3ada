import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { netclassCollector } from '../../../src/collectors/netclass';
import { NoDataError } from '../../../src/errors';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

const devicesOf = (families: Awaited<ReturnType<typeof collectOnce>>, name: string): string[] =>
  family(families, name)
    .samples.map((s) => s.labels.device ?? '')
    .sort();

describe('netclass collector', () => {
  it('exports info and up per device, skipping regular files such as bonding_masters', async () => {
    const families = await collectOnce(netclassCollector);
    const info = family(families, 'node_network_info');
    expect(info.help).toBe('Non-numeric data from /sys/class/net/<iface>, value is always 1.');
    expect(info.samples).toContainEqual({
      labels: {
        device: 'eth0',
        address: '52:54:00:12:34:56',
        broadcast: 'ff:ff:ff:ff:ff:ff',
        duplex: 'full',
        ifalias: 'uplink to core',
        operstate: 'up',
      },
      value: 1,
    });
    // A down device has no duplex file readable: an empty label, as in node_exporter.
    expect(info.samples).toContainEqual({
      labels: {
        device: 'docker0',
        address: '02:42:8a:1b:2c:3d',
        broadcast: 'ff:ff:ff:ff:ff:ff',
        duplex: '',
        ifalias: '',
        operstate: 'down',
      },
      value: 1,
    });
    expect(devicesOf(families, 'node_network_up')).toEqual(['docker0', 'eth0', 'lo', 'wlan0']);
    expect(family(families, 'node_network_up').help).toBe("Value is 1 if operstate is 'up', 0 otherwise.");
    expect(valueOf(families, 'node_network_up', { device: 'eth0' })).toBe(1);
    expect(valueOf(families, 'node_network_up', { device: 'lo' })).toBe(0);
  });

  it('exports the numeric properties with node_exporter names, types and help', async () => {
    const families = await collectOnce(netclassCollector);
    const flags = family(families, 'node_network_flags');
    expect(flags.type).toBe('gauge');
    expect(flags.help).toBe('Network device property: flags');
    expect(valueOf(families, 'node_network_flags', { device: 'eth0' })).toBe(0x1003);
    expect(valueOf(families, 'node_network_iface_id', { device: 'wlan0' })).toBe(3);
    expect(valueOf(families, 'node_network_mtu_bytes', { device: 'lo' })).toBe(65536);
    expect(valueOf(families, 'node_network_protocol_type', { device: 'lo' })).toBe(772);
    expect(valueOf(families, 'node_network_address_assign_type', { device: 'docker0' })).toBe(3);
    expect(valueOf(families, 'node_network_iface_link_mode', { device: 'wlan0' })).toBe(1);
    expect(valueOf(families, 'node_network_transmit_queue_length', { device: 'docker0' })).toBe(0);
    const changes = family(families, 'node_network_carrier_changes_total');
    expect(changes.type).toBe('counter');
    expect(changes.help).toBe('Network device property: carrier_changes_total');
    expect(valueOf(families, 'node_network_carrier_up_changes_total', { device: 'wlan0' })).toBe(9);
    expect(valueOf(families, 'node_network_carrier_down_changes_total', { device: 'wlan0' })).toBe(8);
  });

  it('skips attributes a device does not have (down link: no carrier, dormant, speed)', async () => {
    const families = await collectOnce(netclassCollector);
    expect(devicesOf(families, 'node_network_carrier')).toEqual(['eth0', 'lo', 'wlan0']);
    expect(devicesOf(families, 'node_network_dormant')).toEqual(['eth0', 'lo', 'wlan0']);
    expect(devicesOf(families, 'node_network_name_assign_type')).toEqual(['eth0', 'lo', 'wlan0']);
    expect(devicesOf(families, 'node_network_speed_bytes')).toEqual(['eth0', 'wlan0']);
  });

  it('exports speed in bytes, -1 Mbit/s as -125000 unless ignore-invalid-speed', async () => {
    const families = await collectOnce(netclassCollector);
    expect(valueOf(families, 'node_network_speed_bytes', { device: 'eth0' })).toBe(125000000);
    expect(valueOf(families, 'node_network_speed_bytes', { device: 'wlan0' })).toBe(-125000);
    const ignoring = await collectOnce(netclassCollector, { 'ignore-invalid-speed': true });
    expect(devicesOf(ignoring, 'node_network_speed_bytes')).toEqual(['eth0']);
  });

  it('ignores devices matching ignored-devices (unanchored)', async () => {
    const families = await collectOnce(netclassCollector, { 'ignored-devices': 'lo|docker' });
    expect(devicesOf(families, 'node_network_up')).toEqual(['eth0', 'wlan0']);
  });

  it('has no data without /sys/class/net', async () => {
    const paths = { ...FIXTURE_PATHS, sysfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(netclassCollector, {}, paths)).rejects.toBeInstanceOf(NoDataError);
  });

  it('fails on a read error other than the ones procfs skips', async () => {
    const sys = mkdtempSync(path.join(tmpdir(), 'netclass-'));
    cpSync(path.join(FIXTURE_PATHS.sysfs, 'class', 'net', 'lo'), path.join(sys, 'class', 'net', 'lo'), {
      recursive: true,
    });
    // A directory where an attribute should be: reading it gives EISDIR.
    mkdirSync(path.join(sys, 'class', 'net', 'lo', 'speed'));
    await expect(collectOnce(netclassCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).rejects.toThrow(
      /failed to read file .*speed/,
    );
  });
});
