/**
 * Counts /proc/net/arp entries per device, as procfs's GatherARPEntries + node_exporter do: the 9-column
 * header and blank lines are skipped, every entry (complete or not) has 6 columns and its device last.
 * Any other width is an error.
 */
export function parseArpEntries(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const columns = trimmed.split(/\s+/);
    if (columns.length === 9) continue;
    if (columns.length !== 6) {
      throw new Error(`${columns.length} columns were detected in /proc/net/arp, but 6 were expected`);
    }
    const device = columns[5] as string;
    counts.set(device, (counts.get(device) ?? 0) + 1);
  }
  return counts;
}
