/** Protocol -> field -> value, in file order (e.g. `TcpExt` -> `ListenDrops` -> 0). */
export type NetStats = Map<string, Map<string, number>>;

/**
 * A counter as node_exporter accepts it (Go's strconv.ParseFloat): kernel values are integers, some
 * negative (Tcp MaxConn -1). Anything else fails the whole scrape, as in node_exporter.
 */
function parseValue(raw: string, where: string): number {
  const value = Number(raw);
  if (raw === '' || Number.isNaN(value)) throw new Error(`invalid value ${JSON.stringify(raw)} in ${where}`);
  return value;
}

/**
 * Parses /proc/net/netstat and /proc/net/snmp: pairs of lines, `Proto: Name1 Name2 ...` then
 * `Proto: v1 v2 ...`. A protocol seen again replaces the earlier one. Name and value counts must match.
 */
export function parseNetStats(text: string, file: string): NetStats {
  const stats: NetStats = new Map();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i < lines.length; i += 2) {
    const names = (lines[i] as string).trim().split(/\s+/);
    const values = (lines[i + 1] ?? '').trim().split(/\s+/);
    const head = names[0] as string;
    if (!head.endsWith(':')) throw new Error(`invalid header line in ${file}: ${JSON.stringify(lines[i])}`);
    const protocol = head.slice(0, -1);
    if (values[0] !== head || names.length !== values.length) {
      throw new Error(`field count mismatch in ${file}: ${protocol}`);
    }
    const fields = new Map<string, number>();
    for (let f = 1; f < names.length; f++) {
      fields.set(names[f] as string, parseValue(values[f] as string, `${file} ${protocol}`));
    }
    stats.set(protocol, fields);
  }
  return stats;
}

/**
 * Parses /proc/net/snmp6: `Ip6InReceives   12` per line. The protocol is the name up to and including
 * its first "6" (`Icmp6OutType133` -> `Icmp6` / `OutType133`); lines without a "6" or a value are skipped.
 */
export function parseSnmp6(text: string): NetStats {
  const stats: NetStats = new Map();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2) continue;
    const key = parts[0] as string;
    const six = key.indexOf('6');
    if (six === -1) continue;
    const protocol = key.slice(0, six + 1);
    let fields = stats.get(protocol);
    if (fields === undefined) {
      fields = new Map();
      stats.set(protocol, fields);
    }
    fields.set(key.slice(six + 1), parseValue(parts[1] as string, `snmp6 ${key}`));
  }
  return stats;
}

/** Merges like node_exporter's maps.Copy: a protocol in a later source replaces the same one before. */
export function mergeNetStats(...sources: readonly NetStats[]): NetStats {
  const merged: NetStats = new Map();
  for (const source of sources) for (const [protocol, fields] of source) merged.set(protocol, fields);
  return merged;
}
