/** Parser for /proc/vmstat: one "name value" pair per line. */

export interface VmstatField {
  readonly name: string;
  readonly value: number;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Returns the fields whose name matches `include` (all when undefined), in file order. Only the values
 * of matching fields are parsed, so a malformed line that is not exported does not fail the scrape.
 */
export function parseVmstat(text: string, include?: RegExp): VmstatField[] {
  const fields: VmstatField[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parts = line.trim().split(/\s+/);
    const name = parts[0] as string;
    if (include !== undefined && !include.test(name)) continue;
    const raw = parts[1];
    const value = raw === undefined ? NaN : Number(raw);
    if (parts.length !== 2 || !NAME.test(name) || Number.isNaN(value)) {
      throw new Error(`unexpected /proc/vmstat line: ${JSON.stringify(line)}`);
    }
    fields.push({ name, value });
  }
  return fields;
}
