import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { NetStatsParser, type NetStats } from './netstat.parse';
import type { CollectorDefinition } from './types';

/** node_exporter 1.5's default for --collector.netstat.fields. */
export const NETSTAT_DEFAULT_FIELDS =
  '^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$';

/** Shared by every sample: a fresh `{}` per sample would be garbage on every scrape. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export const netstatCollector: CollectorDefinition = {
  name: 'netstat',
  defaultEnabled: true,
  help: 'Exposes network statistics from /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6.',
  options: [
    {
      name: 'fields',
      kind: 'regex',
      help: 'Regexp of fields to return for netstat collector.',
      default: NETSTAT_DEFAULT_FIELDS,
    },
  ],
  create: ({ fs, options }) => {
    // Unanchored like Go's MatchString (the default anchors itself).
    const pattern = new RegExp(options.string('fields'));
    // Protocol -> field -> family name and help, or null when not selected. The key set is fixed by the
    // kernel, so names and help texts are built once instead of on every scrape.
    const fieldInfo = new Map<string, Map<string, { name: string; help: string } | null>>();
    const lookup = (protocol: string, field: string): { name: string; help: string } | null => {
      let byField = fieldInfo.get(protocol);
      if (byField === undefined) {
        byField = new Map();
        fieldInfo.set(protocol, byField);
      }
      let info = byField.get(field);
      if (info === undefined) {
        const key = `${protocol}_${field}`;
        info = pattern.test(key)
          ? { name: `node_netstat_${key}`, help: `Statistic ${protocol}${field}.` }
          : null;
        byField.set(field, info);
      }
      return info;
    };
    const parser = new NetStatsParser();
    return {
      async update() {
        const [netstat, snmp, snmp6] = await Promise.all([
          fs.readText(fs.proc('net', 'netstat')),
          fs.readText(fs.proc('net', 'snmp')),
          // Absent when IPv6 is disabled; node_exporter then reports the rest.
          fs.readText(fs.proc('net', 'snmp6')).catch((err: unknown) => {
            if (isNotFound(err)) return undefined;
            throw err;
          }),
        ]);
        const stats: NetStats = new Map();
        parser.readPaired(netstat, 'net/netstat', stats);
        parser.readPaired(snmp, 'net/snmp', stats);
        if (snmp6 !== undefined) parser.readSnmp6(snmp6, stats);
        const set = new MetricSet();
        for (const { protocol, names, values } of stats.values()) {
          for (let i = 0; i < names.length; i++) {
            const info = lookup(protocol, names[i] as string);
            if (info !== null) set.untyped(info.name, info.help, values[i] as number, NO_LABELS);
          }
        }
        return set.families();
      },
    };
  },
};
