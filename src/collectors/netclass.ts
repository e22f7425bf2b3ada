import { promises as fsp } from 'node:fs';
import { NoDataError } from '../errors';
import type { HostFs } from '../host/host-fs';
import { errnoCode, readSysfsFileSync } from '../host/sysfs-read';
import { MetricSet } from '../metrics/metric-set';
import {
  NETCLASS_ATTRS,
  NETCLASS_NUMERIC_ATTRS,
  netClassSpeedBytes,
  parseNetClassIface,
  type NetClassAttr,
  type NetClassIface,
} from './netclass.parse';
import type { CollectorDefinition } from './types';

/**
 * Read errors procfs treats as "attribute not there" (util.SysReadFile + class_net.go): missing, no
 * permission, "operation not supported", "invalid argument" (e.g. `speed`/`duplex` of a down link).
 * Anything else fails the scrape, as in node_exporter.
 */
const SKIPPED = new Set(['ENOENT', 'EACCES', 'EPERM', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL']);

/** procfs reads at most 128 bytes of an attribute; longer values (a long ifalias) are cut the same way. */
const ATTR_MAX_BYTES = 128;

function readAttr(file: string): string | undefined {
  try {
    return readSysfsFileSync(file, ATTR_MAX_BYTES);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== undefined && SKIPPED.has(code)) return undefined;
    throw new Error(`failed to read file ${JSON.stringify(file)}`, { cause: err });
  }
}

/** Reads a device's attributes one after another (see readSysfsFile for why synchronously). */
function readIface(fs: HostFs, device: string): NetClassIface {
  const raw: Partial<Record<NetClassAttr, string>> = {};
  for (const attr of NETCLASS_ATTRS) {
    const value = readAttr(fs.sys('class', 'net', device, attr));
    if (value !== undefined) raw[attr] = value;
  }
  return parseNetClassIface(device, raw);
}

/** Device names under /sys/class/net: its links/dirs; regular files such as bonding_masters are skipped. */
async function listDevices(fs: HostFs): Promise<string[]> {
  const dir = fs.sys('class', 'net');
  try {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => !e.isFile()).map((e) => e.name);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') {
      throw new NoDataError(`could not read ${dir}`, { cause: err });
    }
    throw err;
  }
}

const NUMERIC = NETCLASS_NUMERIC_ATTRS.map(
  ([attr, metric]) =>
    [
      attr,
      `node_network_${metric}`,
      `Network device property: ${metric}`,
      metric.endsWith('_total') ? 'counter' : 'gauge',
    ] as const,
);

export const netclassCollector: CollectorDefinition = {
  name: 'netclass',
  defaultEnabled: true,
  help: 'Exposes network interface info from /sys/class/net/.',
  options: [
    {
      name: 'ignored-devices',
      kind: 'regex',
      help: 'Regexp of net devices to ignore for netclass collector.',
      default: '^$',
    },
    {
      name: 'ignore-invalid-speed',
      kind: 'boolean',
      help: 'Ignore devices where the speed is invalid. This will be the default behavior in 2.x.',
      default: false,
    },
  ],
  create: ({ fs, options }) => {
    // Unanchored like Go's MatchString; the default `^$` anchors itself.
    const ignored = new RegExp(options.string('ignored-devices'));
    const ignoreInvalidSpeed = options.boolean('ignore-invalid-speed');
    return {
      async update() {
        const devices = (await listDevices(fs)).filter((d) => !ignored.test(d));
        const ifaces = devices.map((d) => readIface(fs, d));
        const set = new MetricSet();
        for (const iface of ifaces) {
          const { device, text, numeric } = iface;
          const labels = { device };
          set.gauge(
            'node_network_up',
            "Value is 1 if operstate is 'up', 0 otherwise.",
            text.operstate === 'up' ? 1 : 0,
            labels,
          );
          set.gauge(
            'node_network_info',
            'Non-numeric data from /sys/class/net/<iface>, value is always 1.',
            1,
            {
              device,
              address: text.address,
              broadcast: text.broadcast,
              duplex: text.duplex,
              ifalias: text.ifalias,
              operstate: text.operstate,
            },
          );
          for (const [attr, name, help, type] of NUMERIC) {
            let value = numeric[attr];
            if (value === undefined) continue;
            if (attr === 'speed') {
              // Some devices report -1 when the speed is unknown.
              if (value < 0 && ignoreInvalidSpeed) continue;
              value = netClassSpeedBytes(value);
            }
            set.add(name, type, help, value, labels);
          }
        }
        return set.families();
      },
    };
  },
};
