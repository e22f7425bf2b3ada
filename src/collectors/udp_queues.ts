import { NoDataError } from '../errors';
import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { parseUdpQueues } from './udp_queues.parse';
import type { CollectorDefinition } from './types';

const NAME = 'node_udp_queues';
const HELP = 'Number of allocated memory in the kernel for UDP datagrams in bytes.';

function optional(read: Promise<string>): Promise<string | undefined> {
  return read.catch((err: unknown) => {
    if (isNotFound(err)) return undefined; // That IP version is disabled.
    throw err;
  });
}

export const udpQueuesCollector: CollectorDefinition = {
  name: 'udp_queues',
  defaultEnabled: true,
  help: 'Exposes UDP total lengths of the rx_queue and tx_queue from /proc/net/udp and /proc/net/udp6.',
  create: ({ fs }) => ({
    async update() {
      const [v4, v6] = await Promise.all([
        optional(fs.readText(fs.proc('net', 'udp'))),
        optional(fs.readText(fs.proc('net', 'udp6'))),
      ]);
      if (v4 === undefined && v6 === undefined)
        throw new NoDataError('neither /proc/net/udp nor udp6 exists');
      const set = new MetricSet();
      for (const [ip, text] of [
        ['v4', v4],
        ['v6', v6],
      ] as const) {
        if (text === undefined) continue;
        const q = parseUdpQueues(text);
        set.gauge(NAME, HELP, q.tx, { queue: 'tx', ip });
        set.gauge(NAME, HELP, q.rx, { queue: 'rx', ip });
      }
      return set.families();
    },
  }),
};
