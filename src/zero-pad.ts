/** `n` in decimal with leading zeros to `width` digits (date fields: `07`, `2026`, `005`). */
export function zeroPad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
