import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { diskstatsCollector } from '../../../src/collectors/diskstats';
import { ConfigError } from '../../../src/errors';
import type { MetricFamily } from '../../../src/metrics/types';
import { collectOnce, family, FIXTURE_PATHS, valueOf } from '../../helpers/collect';
import { canonicalFamilies, canonicalLines, readGolden } from '../../helpers/node-exporter-golden';

function devices(families: readonly MetricFamily[]): string[] {
  return family(families, 'node_disk_info')
    .samples.map((s) => s.labels.device ?? '')
    .sort();
}

describe('diskstats collector', () => {
  it('matches node_exporter 1.5 on the fixture tree (names, help, types, labels, values)', async () => {
    const families = await collectOnce(diskstatsCollector);
    expect(canonicalFamilies(families)).toEqual(canonicalLines(readGolden('diskstats')));
  });

  it('converts sectors to bytes and milliseconds to seconds like node_exporter', async () => {
    const families = await collectOnce(diskstatsCollector);
    expect(valueOf(families, 'node_disk_written_bytes_total', { device: 'sda' })).toBe(8612607480 * 512);
    // Multiplied by 0.001 as Go does: 341876 ms -> 341.87600000000003 s, not 341.876.
    expect(valueOf(families, 'node_disk_read_time_seconds_total', { device: 'nvme0n1' })).toBe(
      341876 * 0.001,
    );
    // Discarded sectors stay sectors.
    expect(valueOf(families, 'node_disk_discarded_sectors_total', { device: 'sda' })).toBe(2097152);
  });

  it('exports discard counters only for 18+ fields and flush counters only for 20 fields', async () => {
    const families = await collectOnce(diskstatsCollector);
    const flushDevices = family(families, 'node_disk_flush_requests_total').samples.map(
      (s) => s.labels.device,
    );
    const discardDevices = family(families, 'node_disk_discards_completed_total').samples.map(
      (s) => s.labels.device,
    );
    expect(flushDevices).not.toContain('sda');
    expect(discardDevices).toContain('sda');
    expect(discardDevices).not.toContain('sdb');
    expect(valueOf(families, 'node_disk_io_time_weighted_seconds_total', { device: 'sdb' })).toBe(
      4410028 * 0.001,
    );
  });

  it('labels node_disk_info from udev: short serial, empty labels without a udev record', async () => {
    const families = await collectOnce(diskstatsCollector);
    const info = family(families, 'node_disk_info');
    expect(info.samples.find((s) => s.labels.device === 'sdb')?.labels).toEqual({
      device: 'sdb',
      major: '8',
      minor: '16',
      path: 'pci-0000:00:17.0-ata-2.0',
      wwn: '0x50014ee2b5c4d3e2',
      model: 'WDC_WD40EFRX-68N32N0',
      serial: 'WD-WCC7K1234567',
      revision: '82.00A82',
    });
    expect(info.samples.find((s) => s.labels.device === 'md0')?.labels.model).toBe('');
  });

  it('exports ATA gauges only for numeric values of ATA disks', async () => {
    const families = await collectOnce(diskstatsCollector);
    expect(valueOf(families, 'node_disk_ata_rotation_rate_rpm', { device: 'sdb' })).toBe(5400);
    expect(valueOf(families, 'node_disk_ata_write_cache_enabled', { device: 'sdb' })).toBe(0);
    // sr0 is ATA but its values are empty or "unknown"; nvme0n1 is not ATA.
    const rpmDevices = family(families, 'node_disk_ata_rotation_rate_rpm').samples.map(
      (s) => s.labels.device,
    );
    expect(rpmDevices.sort()).toEqual(['sda', 'sdb']);
  });

  it('excludes partitions, loop and ram devices by default', async () => {
    expect(devices(await collectOnce(diskstatsCollector))).toEqual([
      'dm-0',
      'md0',
      'nvme0n1',
      'sda',
      'sdb',
      'sr0',
    ]);
  });

  it('reports every device with an empty exclude', async () => {
    expect(devices(await collectOnce(diskstatsCollector, { 'device-exclude': '' }))).toHaveLength(10);
  });

  it('matches patterns unanchored, like Go regexps', async () => {
    expect(devices(await collectOnce(diskstatsCollector, { 'device-exclude': 'sd|dm' }))).toEqual([
      'loop0',
      'md0',
      'nvme0n1',
      'nvme0n1p1',
      'ram0',
      'sr0',
    ]);
  });

  it('uses device-include instead of the default exclude', async () => {
    expect(devices(await collectOnce(diskstatsCollector, { 'device-include': '^sda' }))).toEqual([
      'sda',
      'sda1',
    ]);
  });

  it('rejects an include together with a non-default exclude', async () => {
    await expect(
      collectOnce(diskstatsCollector, { 'device-include': 'sd', 'device-exclude': 'loop' }),
    ).rejects.toThrow(ConfigError);
  });

  it('works without a udev database', async () => {
    const udevData = path.join(mkdtempSync(path.join(tmpdir(), 'hostscope-udev-')), 'missing');
    const families = await collectOnce(diskstatsCollector, {}, { ...FIXTURE_PATHS, udevData });
    expect(devices(families)).toHaveLength(6);
    expect(family(families, 'node_disk_info').samples.every((s) => s.labels.serial === '')).toBe(true);
    expect(families.map((f) => f.name)).not.toContain('node_disk_filesystem_info');
  });

  it('fails when /proc/diskstats is missing', async () => {
    const procfs = mkdtempSync(path.join(tmpdir(), 'hostscope-diskstats-'));
    await expect(collectOnce(diskstatsCollector, {}, { ...FIXTURE_PATHS, procfs })).rejects.toThrow(/ENOENT/);
  });
});
