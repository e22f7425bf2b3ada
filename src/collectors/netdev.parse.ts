import type { NetworkInterfaceInfo } from 'node:os';

/**
 * The 16 /proc/net/dev columns under the names node_exporter 1.5 exports them (after its `legacy()`
 * renaming): `node_network_<name>_total`. The kernel's columns already hold the same sums netlink's
 * legacy mapping computes (drop = dropped + missed, frame = frame + length + over + crc, carrier =
 * carrier + aborted + window + heartbeat), so the values equal node_exporter's netlink path.
 */
export const NET_DEV_FIELDS = [
  'receive_bytes',
  'receive_packets',
  'receive_errs',
  'receive_drop',
  'receive_fifo',
  'receive_frame',
  'receive_compressed',
  'receive_multicast',
  'transmit_bytes',
  'transmit_packets',
  'transmit_errs',
  'transmit_drop',
  'transmit_fifo',
  'transmit_colls',
  'transmit_carrier',
  'transmit_compressed',
] as const;

export type NetDevField = (typeof NET_DEV_FIELDS)[number];

export interface NetDevLine {
  readonly device: string;
  /** Values in NET_DEV_FIELDS order. */
  readonly values: readonly number[];
}

const UINT = /^\d+$/;

/**
 * Parses /proc/net/dev like procfs: two header lines, then `name: 16 counters` per device. The name is
 * everything before the last colon. A line without colon, an empty name or a bad counter is an error.
 */
export function parseNetDev(text: string): NetDevLine[] {
  const lines = text.split('\n');
  const out: NetDevLine[] = [];
  for (let i = 2; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    const colon = raw.lastIndexOf(':');
    if (colon === -1) throw new Error(`invalid /proc/net/dev line, missing colon: ${JSON.stringify(raw)}`);
    const device = raw.slice(0, colon).trim();
    if (device === '')
      throw new Error(`invalid /proc/net/dev line, empty interface name: ${JSON.stringify(raw)}`);
    const fields = raw
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (fields.length < NET_DEV_FIELDS.length) {
      throw new Error(`invalid /proc/net/dev line, ${fields.length} counters: ${JSON.stringify(raw)}`);
    }
    const values: number[] = [];
    for (let f = 0; f < NET_DEV_FIELDS.length; f++) {
      const v = fields[f] as string;
      if (!UINT.test(v))
        throw new Error(`invalid counter ${JSON.stringify(v)} for ${device} in /proc/net/dev`);
      values.push(Number(v));
    }
    out.push({ device, values });
  }
  return out;
}

export interface AddressInfo {
  readonly device: string;
  readonly address: string;
  readonly netmask: string;
  readonly scope: string;
}

/**
 * node_network_address_info rows from os.networkInterfaces(), as node_exporter builds them from Go's
 * net.Interfaces(): netmask is the prefix length, scope from the address class. Entries without a valid
 * CIDR (non-contiguous netmask) are skipped, as ParseCIDR fails on them in Go.
 */
export function addressInfo(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): AddressInfo[] {
  const out: AddressInfo[] = [];
  for (const [device, addrs] of Object.entries(interfaces)) {
    for (const addr of addrs ?? []) {
      if (addr.cidr === null) continue;
      const slash = addr.cidr.lastIndexOf('/');
      if (slash === -1) continue;
      const address = canonicalAddress(addr.address);
      out.push({ device, address, netmask: addr.cidr.slice(slash + 1), scope: ipScope(address) });
    }
  }
  return out;
}

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The address as Go's IP.String() prints it: no zone, IPv4-mapped IPv6 as plain IPv4. */
function canonicalAddress(address: string): string {
  const pct = address.indexOf('%');
  const bare = pct === -1 ? address : address.slice(0, pct);
  return V4_MAPPED.exec(bare)?.[1] ?? bare.toLowerCase();
}

/**
 * Go's scope() in netdev_common.go: "link-local" for loopback and link-local unicast/multicast,
 * "interface-local" for interface-local multicast, "global" for other unicast, else "". Expects the
 * canonical text form (inet_ntop's, as os.networkInterfaces() gives it).
 */
export function ipScope(address: string): string {
  return address.includes(':') ? ipv6Scope(address) : ipv4Scope(address);
}

function ipv4Scope(address: string): string {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return '';
  const [a, b, c] = octets as [number, number, number, number];
  // Loopback (127/8), link-local unicast (169.254/16), link-local multicast (224.0.0/24).
  if (a === 127 || (a === 169 && b === 254) || (a === 224 && b === 0 && c === 0)) return 'link-local';
  const unspecified = octets.every((o) => o === 0);
  const broadcast = octets.every((o) => o === 255);
  const multicast = a >= 224 && a <= 239;
  return unspecified || broadcast || multicast ? '' : 'global';
}

function ipv6Scope(address: string): string {
  if (address === '::') return '';
  if (address === '::1') return 'link-local';
  const first = address.startsWith('::') ? 0 : parseInt(address.slice(0, address.indexOf(':')), 16);
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if (first >> 8 === 0xff) {
    if ((first & 0x0f) === 0x02) return 'link-local';
    if ((first & 0x0f) === 0x01) return 'interface-local';
    return '';
  }
  return 'global';
}
