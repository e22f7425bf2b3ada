export interface MemInfoField {
  /** Metric name suffix as node_exporter builds it: `Active(anon)` -> `Active_anon`, plus `_bytes` for kB fields. */
  readonly name: string;
  /** Bytes for fields in kB, the raw count for unit-less fields (HugePages_Total, ...). */
  readonly value: number;
}

const PARENS = /\((.*)\)/;

/**
 * Parses /proc/meminfo the way node_exporter 1.5 does: `Key: value [kB]` per line; a unit means kB (value *
 * 1024 and `_bytes` appended to the name); `(x)` in a key becomes `_x`. Blank lines are skipped; any other
 * line shape is an error, since a half-understood meminfo would silently drop fields.
 */
export function parseMemInfo(text: string): MemInfoField[] {
  const fields: MemInfoField[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const [rawKey, rawValue] = parts;
    if (rawKey === undefined || rawKey === '') continue;
    if (rawValue === undefined || !rawKey.endsWith(':') || parts.length > 3) {
      throw new Error(`invalid line in meminfo: ${JSON.stringify(line)}`);
    }
    let value = Number(rawValue);
    if (rawValue === '' || !Number.isFinite(value)) {
      throw new Error(`invalid value in meminfo: ${JSON.stringify(line)}`);
    }
    let name = rawKey.slice(0, -1).replace(PARENS, '_$1');
    if (parts.length === 3) {
      value *= 1024;
      name += '_bytes';
    }
    fields.push({ name, value });
  }
  return fields;
}
