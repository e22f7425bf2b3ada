import { parseGoInt } from './go-int';

/** The optional fields node_exporter exports, in its order; `inuse` is always present (0 if absent). */
export const SOCKSTAT_FIELDS = ['inuse', 'orphan', 'tw', 'alloc', 'mem', 'memory'] as const;
export type SockstatField = (typeof SOCKSTAT_FIELDS)[number];

export interface SockstatProtocol {
  readonly protocol: string;
  readonly values: Readonly<Partial<Record<SockstatField, number>>>;
}

export interface Sockstat {
  /** `sockets: used N` (IPv4 file only). */
  readonly used?: number;
  readonly protocols: readonly SockstatProtocol[];
}

const KNOWN = new Set<string>(SOCKSTAT_FIELDS);

/**
 * Parses /proc/net/sockstat or sockstat6 like procfs: `PROTO: key value [key value ...]` per line, the
 * `sockets:` line giving `used`. Unknown keys are ignored; an odd number of key/value fields or a
 * non-integer value is an error.
 */
export function parseSockstat(text: string): Sockstat {
  let used: number | undefined;
  const protocols: SockstatProtocol[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || (fields.length - 1) % 2 !== 0) {
      throw new Error(`malformed sockstat line: ${JSON.stringify(line)}`);
    }
    const kv = new Map<string, number>();
    for (let i = 1; i < fields.length; i += 2) {
      const value = parseGoInt(fields[i + 1] as string);
      if (value === undefined) throw new Error(`invalid value in sockstat line: ${JSON.stringify(line)}`);
      kv.set(fields[i] as string, value);
    }
    const head = fields[0] as string;
    const protocol = head.endsWith(':') ? head.slice(0, -1) : head;
    if (protocol === 'sockets') {
      used = kv.get('used') ?? 0;
      continue;
    }
    const values: Partial<Record<SockstatField, number>> = { inuse: kv.get('inuse') ?? 0 };
    for (const [key, value] of kv) if (KNOWN.has(key)) values[key as SockstatField] = value;
    protocols.push({ protocol, values });
  }
  return used === undefined ? { protocols } : { used, protocols };
}
