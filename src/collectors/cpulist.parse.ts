/**
 * Parser for the kernel's CPU list format used in sysfs (`/sys/devices/system/cpu/{isolated,online,offline}`):
 * comma-separated CPU numbers and inclusive ranges, e.g. "0-3,8,10-11". An empty file means no CPU.
 */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const rawPart of text.trim().split(',')) {
    const part = rawPart.trim();
    if (part === '') continue;
    const range = part.split('-');
    if (range.length > 2) throw new Error(`invalid cpu range: ${JSON.stringify(part)}`);
    const bounds = range.map((b) => {
      if (!/^\d+$/.test(b)) throw new Error(`invalid cpu number in ${JSON.stringify(part)}`);
      return Number(b);
    });
    const [from, to = from] = bounds as [number, number?];
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}
