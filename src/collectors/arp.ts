import { MetricSet } from '../metrics/metric-set';
import { parseArpEntries } from './arp.parse';
import { DeviceFilter } from './device-filter';
import type { CollectorDefinition } from './types';

export const arpCollector: CollectorDefinition = {
  name: 'arp',
  defaultEnabled: true,
  help: 'Exposes ARP statistics from /proc/net/arp.',
  options: [
    {
      name: 'device-include',
      kind: 'regex',
      help: 'Regexp of arp devices to include (mutually exclusive to device-exclude).',
      default: '',
    },
    {
      name: 'device-exclude',
      kind: 'regex',
      help: 'Regexp of arp devices to exclude (mutually exclusive to device-include).',
      default: '',
    },
  ],
  create: ({ fs, options }) => {
    // Unanchored, like Go's MatchString. node_exporter 1.5 does not reject both being set for arp: the
    // exclude pattern then wins.
    const filter = new DeviceFilter(options.string('device-exclude'), options.string('device-include'));
    return {
      async update() {
        const set = new MetricSet();
        for (const [device, count] of parseArpEntries(await fs.readText(fs.proc('net', 'arp')))) {
          if (!filter.ignored(device))
            set.gauge('node_arp_entries', 'ARP entries by device', count, { device });
        }
        return set.families();
      },
    };
  },
};
