/** Parser for /proc/vmstat: one "name value" pair per line. */

export interface VmstatField {
  readonly name: string;
  readonly value: number;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Returns the fields whose name matches `include` (all when undefined), in file order. Only the values
 * of matching fields are parsed, so a malformed line that is not exported does not fail the scrape.
 * The kernel's `name value` lines are read in place (only ~10 of ~180 are exported by default); any other
 * shape of line goes through parseLine.
 */
export function parseVmstat(text: string, include?: RegExp): VmstatField[] {
  const fields: VmstatField[] = [];
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const space = text.indexOf(' ', start);
    const name = space > start && space < end ? text.slice(start, space) : '';
    if (NAME.test(name)) {
      if (include === undefined || include.test(name)) {
        const raw = text.slice(space + 1, end);
        if (PLAIN_VALUE.test(raw)) fields.push({ name, value: Number(raw) });
        else parseLine(text.slice(start, end), include, fields);
      }
    } else {
      parseLine(text.slice(start, end), include, fields);
    }
    start = end + 1;
  }
  return fields;
}

/** A value Number() reads as the kernel wrote it: no whitespace, not empty, not NaN. */
const PLAIN_VALUE = /^[-+]?[0-9]+$/;

/** Any line: whitespace-separated, exactly two parts, a valid name and a numeric value. */
function parseLine(line: string, include: RegExp | undefined, fields: VmstatField[]): void {
  if (line.trim() === '') return;
  const parts = line.trim().split(/\s+/);
  const name = parts[0] as string;
  if (include !== undefined && !include.test(name)) return;
  const raw = parts[1];
  const value = raw === undefined ? NaN : Number(raw);
  if (parts.length !== 2 || !NAME.test(name) || Number.isNaN(value)) {
    throw new Error(`unexpected /proc/vmstat line: ${JSON.stringify(line)}`);
  }
  fields.push({ name, value });
}
