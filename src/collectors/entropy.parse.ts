/**
 * Parses one of /proc/sys/kernel/random/{entropy_avail,poolsize}: a single unsigned integer and a newline.
 */
export function parseKernelRandomValue(text: string, file: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new Error(`invalid value in ${file}: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return Number(trimmed);
}
