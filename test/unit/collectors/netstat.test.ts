import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { netstatCollector } from '../../../src/collectors/netstat';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

describe('netstat collector', () => {
  it('exports the fields selected by node_exporter 1.5 default, untyped, with its help text', async () => {
    const families = await collectOnce(netstatCollector);
    expect(families.map((f) => f.name).sort()).toEqual(
      [
        'Icmp6_InErrors',
        'Icmp6_InMsgs',
        'Icmp6_OutMsgs',
        'Icmp_InErrors',
        'Icmp_InMsgs',
        'Icmp_OutMsgs',
        'Ip6_InOctets',
        'Ip6_OutOctets',
        'IpExt_InOctets',
        'IpExt_OutOctets',
        'Ip_Forwarding',
        'TcpExt_ListenDrops',
        'TcpExt_ListenOverflows',
        'TcpExt_SyncookiesFailed',
        'TcpExt_SyncookiesRecv',
        'TcpExt_SyncookiesSent',
        'TcpExt_TCPSynRetrans',
        'TcpExt_TCPTimeouts',
        'Tcp_ActiveOpens',
        'Tcp_CurrEstab',
        'Tcp_InErrs',
        'Tcp_InSegs',
        'Tcp_OutRsts',
        'Tcp_OutSegs',
        'Tcp_PassiveOpens',
        'Tcp_RetransSegs',
        'Udp6_InDatagrams',
        'Udp6_InErrors',
        'Udp6_NoPorts',
        'Udp6_OutDatagrams',
        'Udp6_RcvbufErrors',
        'Udp6_SndbufErrors',
        'UdpLite6_InErrors',
        'UdpLite_InErrors',
        'Udp_InDatagrams',
        'Udp_InErrors',
        'Udp_NoPorts',
        'Udp_OutDatagrams',
        'Udp_RcvbufErrors',
        'Udp_SndbufErrors',
      ]
        .map((n) => `node_netstat_${n}`)
        .sort(),
    );
    const drops = family(families, 'node_netstat_TcpExt_ListenDrops');
    expect(drops.type).toBe('untyped');
    expect(drops.help).toBe('Statistic TcpExtListenDrops.');
    expect(drops.samples).toEqual([{ labels: {}, value: 7 }]);
    expect(valueOf(families, 'node_netstat_Ip_Forwarding')).toBe(1);
    expect(valueOf(families, 'node_netstat_Ip6_InOctets')).toBe(734003);
    expect(valueOf(families, 'node_netstat_Icmp6_OutMsgs')).toBe(44);
    expect(valueOf(families, 'node_netstat_Udp_SndbufErrors')).toBe(54);
    // `.*_(InErrors|InErrs)` needs the field to be exactly InErrors/InErrs: InCsumErrors stays out.
    expect(families.find((f) => f.name === 'node_netstat_IpExt_InCsumErrors')).toBeUndefined();
  });

  it('takes an unanchored custom field regex', async () => {
    const families = await collectOnce(netstatCollector, { fields: 'Tcp_(MaxConn|RtoMin)' });
    expect(families.map((f) => f.name).sort()).toEqual([
      'node_netstat_Tcp_MaxConn',
      'node_netstat_Tcp_RtoMin',
    ]);
    expect(valueOf(families, 'node_netstat_Tcp_MaxConn')).toBe(-1);
  });

  it('works without /proc/net/snmp6 (IPv6 disabled)', async () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'netstat-'));
    mkdirSync(path.join(proc, 'net'));
    for (const f of ['netstat', 'snmp']) {
      writeFileSync(path.join(proc, 'net', f), readFileSync(path.join(FIXTURE_PATHS.procfs, 'net', f)));
    }
    const families = await collectOnce(netstatCollector, {}, { ...FIXTURE_PATHS, procfs: proc });
    expect(valueOf(families, 'node_netstat_Tcp_InSegs')).toBe(10132);
    expect(families.some((f) => f.name.startsWith('node_netstat_Ip6_'))).toBe(false);
  });

  it('fails when /proc/net/netstat is missing', async () => {
    const paths = { ...FIXTURE_PATHS, procfs: path.join(FIXTURE_ROOT, 'missing') };
    await expect(collectOnce(netstatCollector, {}, paths)).rejects.toThrow(/ENOENT/);
  });
});
