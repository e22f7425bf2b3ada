/**
 * One line of /proc/diskstats. `stats` holds the counters after the device name, in kernel order (see
 * Documentation/admin-guide/iostats.rst): 11 on kernels before 4.18, 15 with discard stats (4.18+), 17 with
 * flush stats (5.5+).
 */
export interface DiskStatsLine {
  readonly major: number;
  readonly minor: number;
  readonly device: string;
  readonly stats: readonly number[];
}

/** Counters after major, minor and name, at most. */
const MAX_STATS = 17;
/** node_exporter (procfs) drops lines with fewer than 14 fields in total, i.e. 11 counters. */
const MIN_STATS = 11;

/**
 * Parses /proc/diskstats like procfs's ProcDiskstats, which node_exporter 1.5 uses: fields beyond the 20th
 * are ignored, lines with fewer than 14 fields are skipped, and a field that is not an unsigned integer
 * fails the whole file (the counters of that line can't be trusted).
 */
export function parseDiskStats(text: string): DiskStatsLine[] {
  const lines: DiskStatsLine[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 + MIN_STATS) continue;
    const [major, minor, device] = fields as [string, string, string];
    const numbers = [major, minor, ...fields.slice(3, 3 + MAX_STATS)].map((f) => parseCounter(f, line));
    lines.push({
      major: numbers[0] as number,
      minor: numbers[1] as number,
      device,
      stats: numbers.slice(2),
    });
  }
  return lines;
}

function parseCounter(field: string, line: string): number {
  if (!/^\d+$/.test(field))
    throw new Error(`invalid field ${JSON.stringify(field)} in diskstats line ${JSON.stringify(line)}`);
  return Number(field);
}

/**
 * Parses a udev database file (`/run/udev/data/b<major>:<minor>`) into its device properties: the `E:KEY=value`
 * lines. Other records (S: symlinks, L:, W:, I:, G:, Q:, V:) and `E:` lines without `=` are ignored; a value
 * keeps everything after the first `=`.
 */
export function parseUdevProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('E:')) continue;
    const eq = line.indexOf('=', 2);
    if (eq < 0) continue;
    props.set(line.slice(2, eq), line.slice(eq + 1));
  }
  return props;
}
