import { parseGoInt } from './go-int';

/** Text attributes of /sys/class/net/<iface> that go into node_network_info. */
export const NETCLASS_TEXT_ATTRS = ['address', 'broadcast', 'duplex', 'ifalias', 'operstate'] as const;

/**
 * Numeric attributes and the metric each becomes (`node_network_<metric>`), in node_exporter 1.5's
 * order. Counters are the `_total` ones. `speed` is in Mbit/s and becomes speed_bytes (see netClassSpeedBytes).
 */
export const NETCLASS_NUMERIC_ATTRS = [
  ['addr_assign_type', 'address_assign_type'],
  ['carrier', 'carrier'],
  ['carrier_changes', 'carrier_changes_total'],
  ['carrier_up_count', 'carrier_up_changes_total'],
  ['carrier_down_count', 'carrier_down_changes_total'],
  ['dev_id', 'device_id'],
  ['dormant', 'dormant'],
  ['flags', 'flags'],
  ['ifindex', 'iface_id'],
  ['iflink', 'iface_link'],
  ['link_mode', 'iface_link_mode'],
  ['mtu', 'mtu_bytes'],
  ['name_assign_type', 'name_assign_type'],
  ['netdev_group', 'net_dev_group'],
  ['speed', 'speed_bytes'],
  ['tx_queue_len', 'transmit_queue_length'],
  ['type', 'protocol_type'],
] as const;

export type NetClassTextAttr = (typeof NETCLASS_TEXT_ATTRS)[number];
export type NetClassNumericAttr = (typeof NETCLASS_NUMERIC_ATTRS)[number][0];
export type NetClassAttr = NetClassTextAttr | NetClassNumericAttr;

/** Every attribute file the collector reads per device. */
export const NETCLASS_ATTRS: readonly NetClassAttr[] = [
  ...NETCLASS_TEXT_ATTRS,
  ...NETCLASS_NUMERIC_ATTRS.map(([attr]) => attr),
];

export interface NetClassIface {
  readonly device: string;
  /** Text attributes; "" when the file is absent or unreadable, as in procfs. */
  readonly text: Readonly<Record<NetClassTextAttr, string>>;
  /** Numeric attributes; absent when the file is absent, unreadable or not an integer (no sample). */
  readonly numeric: Readonly<Partial<Record<NetClassNumericAttr, number>>>;
}

/**
 * Builds one interface from its raw attribute values (already trimmed; undefined = skipped because the
 * file is missing or the kernel refused it, e.g. EINVAL for `speed` on a link that is down). Integers
 * are parsed like procfs (Go's ParseInt base 0: `flags` is hex `0x1003`).
 */
export function parseNetClassIface(
  device: string,
  raw: Readonly<Partial<Record<NetClassAttr, string>>>,
): NetClassIface {
  const text = {} as Record<NetClassTextAttr, string>;
  for (const attr of NETCLASS_TEXT_ATTRS) text[attr] = raw[attr] ?? '';
  const numeric: Partial<Record<NetClassNumericAttr, number>> = {};
  for (const [attr] of NETCLASS_NUMERIC_ATTRS) {
    const value = raw[attr];
    const parsed = value === undefined ? undefined : parseGoInt(value);
    if (parsed !== undefined) numeric[attr] = parsed;
  }
  return { device, text, numeric };
}

/** node_network_speed_bytes from `speed` in Mbit/s: int64(speed * 1000 * 1000 / 8), so -1 -> -125000. */
export function netClassSpeedBytes(speedMbps: number): number {
  return Math.trunc((speedMbps * 1000 * 1000) / 8);
}
