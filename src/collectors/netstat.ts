import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { mergeNetStats, parseNetStats, parseSnmp6, type NetStats } from './netstat.parse';
import type { CollectorDefinition } from './types';

/** node_exporter 1.5's default for --collector.netstat.fields. */
export const NETSTAT_DEFAULT_FIELDS =
  '^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$';

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
    // "Proto_Field" -> selected?; the key set is fixed by the kernel, so this stays small.
    const selected = new Map<string, boolean>();
    const isSelected = (key: string): boolean => {
      let hit = selected.get(key);
      if (hit === undefined) {
        hit = pattern.test(key);
        selected.set(key, hit);
      }
      return hit;
    };
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
        const sources: NetStats[] = [parseNetStats(netstat, 'net/netstat'), parseNetStats(snmp, 'net/snmp')];
        if (snmp6 !== undefined) sources.push(parseSnmp6(snmp6));
        const set = new MetricSet();
        for (const [protocol, fields] of mergeNetStats(...sources)) {
          for (const [name, value] of fields) {
            const key = `${protocol}_${name}`;
            if (isSelected(key)) set.untyped(`node_netstat_${key}`, `Statistic ${protocol}${name}.`, value);
          }
        }
        return set.families();
      },
    };
  },
};
