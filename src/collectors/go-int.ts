const DECIMAL = /^[+-]?(?:0|[1-9]\d*)$/;
const PREFIXED = /^([+-]?)0([xXbBoO]?)([0-9a-fA-F]+)$/;

/**
 * Parses an integer the way Go's strconv.ParseInt(s, 0, 64) does, which procfs uses for sysfs and
 * sockstat values: decimal, `0x` hex, `0b` binary, `0o` or leading-0 octal, optional sign. Returns
 * undefined where Go returns an error (so the value is skipped, as procfs's ValueParser leaves it nil).
 */
export function parseGoInt(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  const m = PREFIXED.exec(text);
  if (m === null) return undefined;
  const sign = m[1] ?? '';
  const prefix = m[2] ?? '';
  const digits = m[3] ?? '';
  const radix = /[xX]/.test(prefix) ? 16 : /[bB]/.test(prefix) ? 2 : 8;
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 2 ? /^[01]+$/ : /^[0-7]+$/;
  if (!valid.test(digits)) return undefined;
  const value = parseInt(digits, radix);
  return sign === '-' ? -value : value;
}
