import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { addressInfo, ipScope, NET_DEV_FIELDS, parseNetDev } from '../../../src/collectors/netdev.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/net/dev');
const HEADER =
  'Inter-|   Receive                                                |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';

describe('parseNetDev', () => {
  it('reads every device with its 16 counters in node_exporter order', () => {
    const lines = parseNetDev(readFileSync(FIXTURE, 'utf8'));
    expect(lines.map((l) => l.device)).toEqual(['lo', 'eth0', 'wlan0', 'docker0']);
    const eth0 = lines[1];
    expect(eth0?.values).toEqual([
      2 ** 64, // 18446744073709551615 in the file: the nearest double, as float64(uint64) in Go
      9948,
      1,
      2,
      3,
      4,
      5,
      6,
      1011136,
      6848,
      7,
      8,
      9,
      10,
      11,
      12,
    ]);
    expect(NET_DEV_FIELDS[2]).toBe('receive_errs');
    expect(NET_DEV_FIELDS[13]).toBe('transmit_colls');
  });

  it('takes the name up to the last colon and tolerates a missing space after it', () => {
    const [line] = parseNetDev(`${HEADER}veth1:2:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`);
    expect(line?.device).toBe('veth1:2');
    expect(line?.values[0]).toBe(1);
    expect(line?.values[15]).toBe(16);
  });

  it('returns nothing for a file with only the headers', () => {
    expect(parseNetDev(HEADER)).toEqual([]);
  });

  it('rejects a line without colon, with an empty name, too few or bad counters', () => {
    expect(() => parseNetDev(`${HEADER}eth0 1 2 3\n`)).toThrow(/missing colon/);
    expect(() => parseNetDev(`${HEADER}  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`)).toThrow(
      /empty interface/,
    );
    expect(() => parseNetDev(`${HEADER}eth0: 1 2 3\n`)).toThrow(/3 counters/);
    expect(() => parseNetDev(`${HEADER}eth0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n`)).toThrow(
      /invalid counter "x"/,
    );
  });
});

describe('addressInfo', () => {
  it('gives device, address, prefix length and scope per address, skipping invalid CIDRs', () => {
    const rows = addressInfo({
      lo: [
        {
          address: '127.0.0.1',
          netmask: '255.0.0.0',
          family: 'IPv4',
          mac: '00:00:00:00:00:00',
          internal: true,
          cidr: '127.0.0.1/8',
        },
        {
          address: '::1',
          netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
          family: 'IPv6',
          mac: '00:00:00:00:00:00',
          internal: true,
          cidr: '::1/128',
          scopeid: 0,
        },
      ],
      eth0: [
        {
          address: '192.0.2.2',
          netmask: '255.255.255.0',
          family: 'IPv4',
          mac: '02:00:00:00:00:01',
          internal: false,
          cidr: '192.0.2.2/24',
        },
        {
          address: 'fe80::1%eth0',
          netmask: 'ffff:ffff:ffff:ffff::',
          family: 'IPv6',
          mac: '02:00:00:00:00:01',
          internal: false,
          cidr: 'fe80::1/64',
          scopeid: 2,
        },
        {
          address: '10.9.9.9',
          netmask: '255.0.255.0',
          family: 'IPv4',
          mac: '02:00:00:00:00:01',
          internal: false,
          cidr: null,
        },
      ],
    });
    expect(rows).toEqual([
      { device: 'lo', address: '127.0.0.1', netmask: '8', scope: 'link-local' },
      { device: 'lo', address: '::1', netmask: '128', scope: 'link-local' },
      { device: 'eth0', address: '192.0.2.2', netmask: '24', scope: 'global' },
      { device: 'eth0', address: 'fe80::1', netmask: '64', scope: 'link-local' },
    ]);
  });

  it('classifies scopes like Go', () => {
    expect(ipScope('10.1.2.3')).toBe('global');
    expect(ipScope('169.254.3.4')).toBe('link-local');
    expect(ipScope('224.0.0.251')).toBe('link-local');
    expect(ipScope('239.1.1.1')).toBe('');
    expect(ipScope('0.0.0.0')).toBe('');
    expect(ipScope('fd00::2')).toBe('global');
    expect(ipScope('2001:db8::1')).toBe('global');
    expect(ipScope('febf::1')).toBe('link-local');
    expect(ipScope('fec0::1')).toBe('global');
    expect(ipScope('ff02::1')).toBe('link-local');
    expect(ipScope('ff01::1')).toBe('interface-local');
    expect(ipScope('ff05::1')).toBe('');
    expect(ipScope('::')).toBe('');
  });
});
