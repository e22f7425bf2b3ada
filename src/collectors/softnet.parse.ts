/** Parser for /proc/net/softnet_stat: one row of hexadecimal counters per online CPU. */

export interface SoftnetRow {
  /**
   * CPU the row belongs to: the kernel's own CPU id (13th column, Linux >= 5.10) when present, else the
   * row's position. They differ only when CPUs below the last online one are offline.
   */
  readonly cpu: string;
  readonly processed: number;
  readonly dropped: number;
  readonly timeSqueezed: number;
}

/** Rows have had at least 9 columns since Linux 2.6.23 (11 since 4.17, 13 since 5.10). */
const MIN_COLUMNS = 9;
const CPU_INDEX_COLUMN = 12;

function hex(value: string, row: number): number {
  if (!/^[0-9a-fA-F]{1,8}$/.test(value)) {
    throw new Error(`softnet_stat row ${row}: not a 32-bit hexadecimal counter: ${JSON.stringify(value)}`);
  }
  return Number.parseInt(value, 16);
}

export function parseSoftnet(text: string): SoftnetRow[] {
  const rows: SoftnetRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const columns = line.trim().split(/\s+/);
    const row = rows.length;
    if (columns.length < MIN_COLUMNS) {
      throw new Error(`${columns.length} columns were detected, but at least ${MIN_COLUMNS} were expected`);
    }
    const index = columns[CPU_INDEX_COLUMN];
    rows.push({
      cpu: index === undefined ? String(row) : String(hex(index, row)),
      processed: hex(columns[0] as string, row),
      dropped: hex(columns[1] as string, row),
      timeSqueezed: hex(columns[2] as string, row),
    });
  }
  return rows;
}
