import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NetStatsParser, type NetStats } from '../../../src/collectors/netstat.parse';

const NET = path.join(__dirname, '../../fixtures/host/proc/net');
const read = (name: string): string => readFileSync(path.join(NET, name), 'utf8');

/** Protocol -> field -> value, the shape the old parser returned, to read the parsed sections easily. */
function nested(stats: NetStats): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const { protocol, names, values } of stats.values()) {
    out.set(protocol, new Map(names.map((n, i) => [n, values[i] as number])));
  }
  return out;
}

function parseNetStats(
  text: string,
  file: string,
  parser = new NetStatsParser(),
): Map<string, Map<string, number>> {
  const stats: NetStats = new Map();
  parser.readPaired(text, file, stats);
  return nested(stats);
}

function parseSnmp6(text: string): Map<string, Map<string, number>> {
  const stats: NetStats = new Map();
  new NetStatsParser().readSnmp6(text, stats);
  return nested(stats);
}

describe('parseNetStats', () => {
  it('reads /proc/net/snmp protocol sections in order, negative values included', () => {
    const snmp = parseNetStats(read('snmp'), 'net/snmp');
    expect([...snmp.keys()]).toEqual(['Ip', 'Icmp', 'IcmpMsg', 'Tcp', 'Udp', 'UdpLite']);
    expect(snmp.get('Ip')?.get('Forwarding')).toBe(1);
    expect(snmp.get('Tcp')?.get('MaxConn')).toBe(-1);
    expect(snmp.get('Tcp')?.get('CurrEstab')).toBe(3);
    expect(snmp.get('IcmpMsg')?.get('InType3')).toBe(1);
  });

  it('reads /proc/net/netstat extension sections', () => {
    const netstat = parseNetStats(read('netstat'), 'net/netstat');
    expect([...netstat.keys()]).toEqual(['TcpExt', 'IpExt']);
    expect(netstat.get('TcpExt')?.get('ListenDrops')).toBe(7);
    expect(netstat.get('IpExt')?.get('InOctets')).toBe(343716358);
  });

  it('lets a repeated protocol replace the earlier one', () => {
    const stats = parseNetStats('Foo: A B\nFoo: 1 2\nFoo: C\nFoo: 3\n', 'x');
    expect([...(stats.get('Foo') ?? new Map<string, number>()).entries()]).toEqual([['C', 3]]);
  });

  it('rejects mismatched counts, a missing value line and bad values', () => {
    expect(() => parseNetStats('Tcp: A B\nTcp: 1\n', 'net/snmp')).toThrow(
      /field count mismatch in net\/snmp: Tcp/,
    );
    expect(() => parseNetStats('Tcp: A B\n', 'net/snmp')).toThrow(/field count mismatch/);
    expect(() => parseNetStats('Tcp: A B\nTcp: 1 x\n', 'net/snmp')).toThrow(/invalid value "x"/);
    expect(() => parseNetStats('Tcp A\nTcp 1\n', 'net/snmp')).toThrow(/invalid header line/);
  });
});

describe('parseSnmp6', () => {
  it('splits names after the first "6" into protocol and field', () => {
    const snmp6 = parseSnmp6(read('snmp6'));
    expect([...snmp6.keys()]).toEqual(['Ip6', 'Icmp6', 'Udp6', 'UdpLite6']);
    expect(snmp6.get('Ip6')?.get('InOctets')).toBe(734003);
    expect(snmp6.get('Icmp6')?.get('OutType135')).toBe(12);
    expect(snmp6.get('UdpLite6')?.get('InErrors')).toBe(11);
  });

  it('skips lines without a value or without a "6"', () => {
    const snmp6 = parseSnmp6('Ip6InReceives\nFooBar 3\n\nIp6InDelivers 4\n');
    expect([...snmp6.entries()].map(([p, f]) => [p, [...f.entries()]])).toEqual([
      ['Ip6', [['InDelivers', 4]]],
    ]);
  });
});

describe('NetStatsParser', () => {
  it('lets a protocol in a later file replace the whole earlier one', () => {
    const parser = new NetStatsParser();
    const stats: NetStats = new Map();
    parser.readPaired('Ip: A B\nIp: 1 2\n', 'a', stats);
    parser.readPaired('Ip: C\nIp: 3\nTcp: D\nTcp: 4\n', 'b', stats);
    const merged = nested(stats);
    expect([...merged.keys()]).toEqual(['Ip', 'Tcp']);
    expect([...(merged.get('Ip') ?? new Map<string, number>()).keys()]).toEqual(['C']);
    expect(merged.get('Tcp')?.get('D')).toBe(4);
  });

  it('reads the same on every call, with its header cache warm, and still checks every value', () => {
    const parser = new NetStatsParser();
    const text = read('netstat');
    const first = parseNetStats(text, 'net/netstat', parser);
    expect(parseNetStats(text, 'net/netstat', parser)).toEqual(first);
    const bad = text.replace(/^(TcpExt: \d+ \d+ )\d+/m, '$1x');
    expect(bad).not.toBe(text);
    expect(() => parseNetStats(bad, 'net/netstat', parser)).toThrow(
      /invalid value "x" in net\/netstat TcpExt/,
    );
  });

  it('reads values as Number() does: long, negative, exponent and hexadecimal forms', () => {
    const stats = parseNetStats(
      'P: A B C D E F\nP: 18446744073709551615 -1 1e3 0x10 123456789012345 -0\n',
      'x',
    );
    expect([...(stats.get('P') ?? new Map<string, number>()).values()]).toEqual([
      Number('18446744073709551615'),
      -1,
      1000,
      16,
      123456789012345,
      -0,
    ]);
  });

  it('takes any run of spaces or tabs between fields', () => {
    const stats = parseNetStats('  P:\tA   B \n\nP: 1\t\t2  \n', 'x');
    expect([...(stats.get('P') ?? new Map<string, number>()).entries()]).toEqual([
      ['A', 1],
      ['B', 2],
    ]);
  });
});
