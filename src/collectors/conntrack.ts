import { NoDataError } from '../errors';
import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { parseConntrackStat, parseUint } from './conntrack.parse';
import type { CollectorDefinition } from './types';

const STATS = [
  ['found', 'node_nf_conntrack_stat_found', 'Number of searched entries which were successful.'],
  ['invalid', 'node_nf_conntrack_stat_invalid', 'Number of packets seen which can not be tracked.'],
  [
    'ignore',
    'node_nf_conntrack_stat_ignore',
    'Number of packets seen which are already connected to a conntrack entry.',
  ],
  ['insert', 'node_nf_conntrack_stat_insert', 'Number of entries inserted into the list.'],
  [
    'insertFailed',
    'node_nf_conntrack_stat_insert_failed',
    'Number of entries for which list insertion was attempted but failed.',
  ],
  ['drop', 'node_nf_conntrack_stat_drop', 'Number of packets dropped due to conntrack failure.'],
  [
    'earlyDrop',
    'node_nf_conntrack_stat_early_drop',
    'Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.',
  ],
  [
    'searchRestart',
    'node_nf_conntrack_stat_search_restart',
    'Number of conntrack table lookups which had to be restarted due to hashtable resizes.',
  ],
] as const;

/** Settles a read so that the error of an earlier file is reported first, as node_exporter reads in order. */
function settle(read: Promise<string>): Promise<{ text: string } | { err: unknown }> {
  return read.then(
    (text) => ({ text }),
    (err: unknown) => ({ err }),
  );
}

/** The text of a conntrack sysctl; missing means the conntrack module is not loaded (no data). */
function sysctlText(r: { text: string } | { err: unknown }): string {
  if ('text' in r) return r.text;
  if (isNotFound(r.err)) throw new NoDataError('conntrack probably not loaded', { cause: r.err });
  throw r.err;
}

export const conntrackCollector: CollectorDefinition = {
  name: 'conntrack',
  defaultEnabled: true,
  help: 'Shows conntrack statistics (does nothing if no /proc/sys/net/netfilter/ present).',
  create: ({ fs }) => ({
    async update() {
      const [count, max, stat] = await Promise.all([
        settle(fs.readText(fs.proc('sys', 'net', 'netfilter', 'nf_conntrack_count'))),
        settle(fs.readText(fs.proc('sys', 'net', 'netfilter', 'nf_conntrack_max'))),
        settle(fs.readText(fs.proc('net', 'stat', 'nf_conntrack'))),
      ]);
      const countText = sysctlText(count);
      const maxText = sysctlText(max);
      // The statistics file missing while the sysctls exist is an error in node_exporter too.
      if ('err' in stat) throw stat.err;
      const set = new MetricSet()
        .gauge(
          'node_nf_conntrack_entries',
          'Number of currently allocated flow entries for connection tracking.',
          parseUint(countText, 'nf_conntrack_count'),
        )
        .gauge(
          'node_nf_conntrack_entries_limit',
          'Maximum size of connection tracking table.',
          parseUint(maxText, 'nf_conntrack_max'),
        );
      const stats = parseConntrackStat(stat.text);
      for (const [key, name, help] of STATS) set.gauge(name, help, stats[key]);
      return set.families();
    },
  }),
};
