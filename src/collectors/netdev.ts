import { networkInterfaces } from 'node:os';
import { ConfigError } from '../errors';
import type { HostFs } from '../host/host-fs';
import { readSysfsFile } from '../host/sysfs-read';
import { MetricSet } from '../metrics/metric-set';
import { DeviceFilter } from './device-filter';
import { addressInfo, NET_DEV_FIELDS, parseNetDev } from './netdev.parse';
import type { CollectorDefinition } from './types';

const FAMILIES = NET_DEV_FIELDS.map(
  (f) => [`node_network_${f}_total`, `Network device statistic ${f}.`] as const,
);
const NOHANDLER = 'node_network_receive_nohandler_total';
const NOHANDLER_HELP = 'Network device statistic receive_nohandler.';

/**
 * rx_nohandler of one device from sysfs, or undefined. node_exporter 1.5 reads device stats over netlink
 * by default, and receive_nohandler exists only there; sysfs exposes the same kernel counter, so reading
 * it keeps the family set equal to node_exporter's without a netlink socket.
 */
async function readNoHandler(fs: HostFs, device: string): Promise<number | undefined> {
  try {
    const text = await readSysfsFile(fs.sys('class', 'net', device, 'statistics', 'rx_nohandler'));
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

export const netdevCollector: CollectorDefinition = {
  name: 'netdev',
  defaultEnabled: true,
  help: 'Exposes network interface statistics such as bytes transferred.',
  options: [
    {
      name: 'device-include',
      kind: 'regex',
      help: 'Regexp of net devices to include (mutually exclusive to device-exclude).',
      default: '',
    },
    {
      name: 'device-exclude',
      kind: 'regex',
      help: 'Regexp of net devices to exclude (mutually exclusive to device-include).',
      default: '',
    },
    { name: 'address-info', kind: 'boolean', help: 'Collect address-info for every device', default: false },
  ],
  create: ({ fs, options }) => {
    // Read as strings and compiled unanchored: node_exporter matches these with MatchString.
    const include = options.string('device-include');
    const exclude = options.string('device-exclude');
    if (include !== '' && exclude !== '') {
      throw new ConfigError([
        '--collector.netdev.device-include and --collector.netdev.device-exclude are mutually exclusive',
      ]);
    }
    const filter = new DeviceFilter(exclude, include);
    const withAddressInfo = options.boolean('address-info');
    return {
      async update() {
        const devices = parseNetDev(await fs.readText(fs.proc('net', 'dev'))).filter(
          (d) => !filter.ignored(d.device),
        );
        const noHandler = await Promise.all(devices.map((d) => readNoHandler(fs, d.device)));
        const set = new MetricSet();
        devices.forEach((dev, i) => {
          const labels = { device: dev.device };
          FAMILIES.forEach(([name, help], f) => set.counter(name, help, dev.values[f] as number, labels));
          const nh = noHandler[i];
          if (nh !== undefined) set.counter(NOHANDLER, NOHANDLER_HELP, nh, labels);
        });
        if (withAddressInfo) {
          // Like node_exporter: every interface of this network namespace, not filtered by device.
          for (const a of addressInfo(networkInterfaces())) {
            set.gauge('node_network_address_info', 'node network address by device', 1, {
              device: a.device,
              address: a.address,
              netmask: a.netmask,
              scope: a.scope,
            });
          }
        }
        return set.families();
      },
    };
  },
};
