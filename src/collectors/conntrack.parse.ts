/** The per-CPU columns of /proc/net/stat/nf_conntrack that node_exporter 1.5 exports, summed over CPUs. */
export interface ConntrackStats {
  readonly found: number;
  readonly invalid: number;
  readonly ignore: number;
  readonly insert: number;
  readonly insertFailed: number;
  readonly drop: number;
  readonly earlyDrop: number;
  readonly searchRestart: number;
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Parses /proc/net/stat/nf_conntrack (a header, then one line of hex counters per CPU) and sums the
 * columns over CPUs. Columns are taken by position, as procfs does: found 2, invalid 4, ignore 5,
 * insert 8, insert_failed 9, drop 10, early_drop 11, search_restart 16 (absent before Linux 2.6.35, then 0).
 * A line with other than 16 or 17 columns, or a non-hex value, is an error.
 */
export function parseConntrackStat(text: string): ConntrackStats {
  const sum = {
    found: 0,
    invalid: 0,
    ignore: 0,
    insert: 0,
    insertFailed: 0,
    drop: 0,
    earlyDrop: 0,
    searchRestart: 0,
  };
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.some((f) => !HEX.test(f)))
      throw new Error(`invalid nf_conntrack stat line: ${JSON.stringify(line)}`);
    if (fields.length < 16 || fields.length > 17) {
      throw new Error(`invalid conntrackstat entry, invalid number of fields: ${fields.length}`);
    }
    const v = fields.map((f) => parseInt(f, 16));
    const at = (index: number): number => v[index] ?? 0;
    sum.found += at(2);
    sum.invalid += at(4);
    sum.ignore += at(5);
    sum.insert += at(8);
    sum.insertFailed += at(9);
    sum.drop += at(10);
    sum.earlyDrop += at(11);
    sum.searchRestart += at(16);
  }
  return sum;
}

/** Parses nf_conntrack_count / nf_conntrack_max: one unsigned decimal integer. */
export function parseUint(text: string, file: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) throw new Error(`invalid value in ${file}: ${JSON.stringify(trimmed)}`);
  return Number(trimmed);
}
