import { ConfigError, describe } from '../errors';
import { isNotFound, type HostFs } from '../host/host-fs';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import { DeviceFilter } from './device-filter';
import { parseDiskStats, parseUdevProperties } from './diskstats.parse';
import type { CollectorDefinition } from './types';

/** node_exporter 1.5's default: partitions, ramdisks, loop and floppy devices. */
export const DISKSTATS_DEFAULT_DEVICE_EXCLUDE = '^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$';

/** The kernel counts I/O in 512-byte sectors whatever the device's block size. */
const SECTOR_BYTES = 512;
/** Milliseconds to seconds, multiplied (not divided) to give node_exporter's exact float64 values. */
const SECONDS_PER_MS = 0.001;

interface CounterSpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly scale: number;
}

const counter = (name: string, help: string, scale = 1): CounterSpec => ({
  name,
  help,
  type: 'counter',
  scale,
});

/** One spec per /proc/diskstats counter, in kernel field order (index = field - 4). */
const STAT_SPECS: readonly CounterSpec[] = [
  counter('node_disk_reads_completed_total', 'The total number of reads completed successfully.'),
  counter('node_disk_reads_merged_total', 'The total number of reads merged.'),
  counter('node_disk_read_bytes_total', 'The total number of bytes read successfully.', SECTOR_BYTES),
  counter(
    'node_disk_read_time_seconds_total',
    'The total number of seconds spent by all reads.',
    SECONDS_PER_MS,
  ),
  counter('node_disk_writes_completed_total', 'The total number of writes completed successfully.'),
  counter('node_disk_writes_merged_total', 'The number of writes merged.'),
  counter('node_disk_written_bytes_total', 'The total number of bytes written successfully.', SECTOR_BYTES),
  counter(
    'node_disk_write_time_seconds_total',
    'This is the total number of seconds spent by all writes.',
    SECONDS_PER_MS,
  ),
  { name: 'node_disk_io_now', help: 'The number of I/Os currently in progress.', type: 'gauge', scale: 1 },
  counter('node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', SECONDS_PER_MS),
  counter(
    'node_disk_io_time_weighted_seconds_total',
    'The weighted # of seconds spent doing I/Os.',
    SECONDS_PER_MS,
  ),
  counter('node_disk_discards_completed_total', 'The total number of discards completed successfully.'),
  counter('node_disk_discards_merged_total', 'The total number of discards merged.'),
  // node_exporter reports discarded sectors as sectors, not bytes.
  counter('node_disk_discarded_sectors_total', 'The total number of sectors discarded successfully.'),
  counter(
    'node_disk_discard_time_seconds_total',
    'This is the total number of seconds spent by all discards.',
    SECONDS_PER_MS,
  ),
  counter('node_disk_flush_requests_total', 'The total number of flush requests completed successfully'),
  counter(
    'node_disk_flush_requests_time_seconds_total',
    'This is the total number of seconds spent by all flush requests.',
    SECONDS_PER_MS,
  ),
];

/** udev properties exported as gauges for ATA disks (only when ID_ATA is set and the value is numeric). */
const ATA_SPECS: readonly { readonly property: string; readonly name: string; readonly help: string }[] = [
  { property: 'ID_ATA_WRITE_CACHE', name: 'node_disk_ata_write_cache', help: 'ATA disk has a write cache.' },
  {
    property: 'ID_ATA_WRITE_CACHE_ENABLED',
    name: 'node_disk_ata_write_cache_enabled',
    help: 'ATA disk has its write cache enabled.',
  },
  {
    property: 'ID_ATA_ROTATION_RATE_RPM',
    name: 'node_disk_ata_rotation_rate_rpm',
    help: 'ATA disk rotation rate in RPMs (0 for SSDs).',
  },
];

/** What Go's strconv.ParseFloat accepts in practice for udev values (no hex, inf or nan there). */
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Like node_exporter, the patterns are unanchored Go-style regexps (the default anchors itself). node_exporter
 * 1.5 refuses to start when both are given; since an option left at its default can't be told apart from
 * one set to it here, an include pattern replaces the default exclude, as in later node_exporter versions.
 */
function diskFilter(exclude: string, include: string): DeviceFilter {
  if (include !== '' && exclude !== '' && exclude !== DISKSTATS_DEFAULT_DEVICE_EXCLUDE) {
    throw new ConfigError([
      '--collector.diskstats.device-exclude and --collector.diskstats.device-include are mutually exclusive',
    ]);
  }
  return new DeviceFilter(include !== '' ? '' : exclude, include);
}

/** The device's udev properties, or an empty map when udev has no record of it (or no database at all). */
async function udevProperties(
  fs: HostFs,
  logger: Logger,
  major: number,
  minor: number,
): Promise<Map<string, string>> {
  const file = fs.udev(`b${major}:${minor}`);
  try {
    return parseUdevProperties(await fs.readText(file));
  } catch (err) {
    if (!isNotFound(err)) logger.debug({ file, err: describe(err) }, 'Failed to parse udev info');
    return new Map();
  }
}

export const diskstatsCollector: CollectorDefinition = {
  name: 'diskstats',
  defaultEnabled: true,
  help: 'Exposes disk I/O statistics from /proc/diskstats, with udev device properties.',
  options: [
    {
      name: 'device-exclude',
      kind: 'regex',
      help: 'Regexp of diskstats devices to exclude (mutually exclusive to device-include).',
      default: DISKSTATS_DEFAULT_DEVICE_EXCLUDE,
    },
    {
      name: 'device-include',
      kind: 'regex',
      help: 'Regexp of diskstats devices to include (mutually exclusive to device-exclude).',
      default: '',
    },
  ],
  create: ({ fs, logger, options }) => {
    const filter = diskFilter(options.string('device-exclude'), options.string('device-include'));
    return {
      async update() {
        const disks = parseDiskStats(await fs.readText(fs.proc('diskstats'))).filter(
          (d) => !filter.ignored(d.device),
        );
        const props = await Promise.all(disks.map((d) => udevProperties(fs, logger, d.major, d.minor)));
        const metrics = new MetricSet();
        disks.forEach((disk, i) => {
          const info = props[i] ?? new Map<string, string>();
          const prop = (key: string): string => info.get(key) ?? '';
          const device = disk.device;
          metrics.gauge('node_disk_info', 'Info of /sys/block/<block_device>.', 1, {
            device,
            major: String(disk.major),
            minor: String(disk.minor),
            path: prop('ID_PATH'),
            wwn: prop('ID_WWN'),
            model: prop('ID_MODEL'),
            // node_exporter 1.5 uses the short serial only (SCSI_IDENT_SERIAL came in a later version).
            serial: prop('ID_SERIAL_SHORT'),
            revision: prop('ID_REVISION'),
          });
          disk.stats.forEach((raw, index) => {
            const spec = STAT_SPECS[index];
            if (spec !== undefined)
              metrics.add(spec.name, spec.type, spec.help, raw * spec.scale, { device });
          });
          if (prop('ID_FS_TYPE') !== '') {
            metrics.gauge('node_disk_filesystem_info', 'Info about disk filesystem.', 1, {
              device,
              type: prop('ID_FS_TYPE'),
              usage: prop('ID_FS_USAGE'),
              uuid: prop('ID_FS_UUID'),
              version: prop('ID_FS_VERSION'),
            });
          }
          if (prop('DM_NAME') !== '') {
            metrics.gauge('node_disk_device_mapper_info', 'Info about disk device mapper.', 1, {
              device,
              name: prop('DM_NAME'),
              uuid: prop('DM_UUID'),
              vg_name: prop('DM_VG_NAME'),
              lv_name: prop('DM_LV_NAME'),
              lv_layer: prop('DM_LV_LAYER'),
            });
          }
          if (prop('ID_ATA') !== '') {
            for (const ata of ATA_SPECS) {
              const value = info.get(ata.property);
              if (value !== undefined && FLOAT.test(value))
                metrics.gauge(ata.name, ata.help, Number(value), { device });
            }
          }
        });
        return metrics.families();
      },
    };
  },
};
