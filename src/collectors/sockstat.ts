import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { parseSockstat, SOCKSTAT_FIELDS, type Sockstat } from './sockstat.parse';
import type { CollectorDefinition } from './types';

/**
 * Bytes per page for `mem` (counted in pages). node_exporter uses os.Getpagesize(); Node has no such
 * call, and it is 4096 on Linux x86_64 (and on the common arm64 kernels). Kernels with 16K/64K pages
 * (some arm64/ppc64le builds) would need this changed.
 */
export const PAGE_SIZE = 4096;

function optional(read: Promise<string>): Promise<string | undefined> {
  return read.catch((err: unknown) => {
    if (isNotFound(err)) return undefined; // IPv4 or IPv6 disabled on this kernel.
    throw err;
  });
}

function addStats(set: MetricSet, stat: Sockstat, ipv6: boolean): void {
  if (!ipv6 && stat.used !== undefined) {
    set.gauge('node_sockstat_sockets_used', 'Number of IPv4 sockets in use.', stat.used);
  }
  for (const { protocol, values } of stat.protocols) {
    const add = (field: string, value: number): void => {
      set.gauge(
        `node_sockstat_${protocol}_${field}`,
        `Number of ${protocol} sockets in state ${field}.`,
        value,
      );
    };
    for (const field of SOCKSTAT_FIELDS) {
      const value = values[field];
      if (value !== undefined) add(field, value);
    }
    if (values.mem !== undefined) add('mem_bytes', values.mem * PAGE_SIZE);
  }
}

export const sockstatCollector: CollectorDefinition = {
  name: 'sockstat',
  defaultEnabled: true,
  help: 'Exposes various statistics from /proc/net/sockstat and /proc/net/sockstat6.',
  create: ({ fs }) => ({
    async update() {
      const [v4, v6] = await Promise.all([
        optional(fs.readText(fs.proc('net', 'sockstat'))),
        optional(fs.readText(fs.proc('net', 'sockstat6'))),
      ]);
      const set = new MetricSet();
      if (v4 !== undefined) addStats(set, parseSockstat(v4), false);
      if (v6 !== undefined) addStats(set, parseSockstat(v6), true);
      return set.families();
    },
  }),
};
