/**
 * Number syntax and formatting shared by the exposition parser and the textfile collector.
 *
 * The accepted syntax is that of Go's `strconv.ParseFloat` as the Prometheus parsers call it (no hex
 * floats, no `_` digit separators): `[+-]digits[.digits][e[+-]digits]` (either side of the dot may be
 * empty, not both), `[+-]Inf`/`[+-]Infinity` and `NaN`, the words in any letter case. A decimal that
 * overflows to infinity is rejected, as Go's `ErrRange` does; underflow gives 0.
 */

const CH_0 = 48;
const CH_9 = 57;
const CH_PLUS = 43;
const CH_MINUS = 45;
const CH_DOT = 46;
const CH_LOWER_E = 101;
const CH_UPPER_E = 69;

/** Exact powers of ten: a mantissa below 2^53 times/divided by one of these is correctly rounded. */
const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

/** Case-insensitive comparison of `s[start, end)` with a lower-case ASCII word. */
function equalsWordIgnoreCase(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    // `| 32` folds ASCII upper case to lower case; the word holds only letters.
    if ((s.charCodeAt(start + i) | 32) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Parses `s[start, end)` as a float. Returns undefined when the text is not a number in the syntax
 * above. `allowSpecial: false` rejects Inf and NaN (OpenMetrics timestamps).
 */
export function parseFloatToken(
  s: string,
  start: number,
  end: number,
  allowSpecial = true,
): number | undefined {
  if (start >= end) return undefined;
  let i = start;
  let negative = false;
  let c = s.charCodeAt(i);
  if (c === CH_PLUS || c === CH_MINUS) {
    negative = c === CH_MINUS;
    i++;
    if (i >= end) return undefined;
    c = s.charCodeAt(i);
  }
  if ((c < CH_0 || c > CH_9) && c !== CH_DOT) {
    if (!allowSpecial) return undefined;
    if (equalsWordIgnoreCase(s, i, end, 'inf') || equalsWordIgnoreCase(s, i, end, 'infinity')) {
      return negative ? -Infinity : Infinity;
    }
    // Go accepts NaN only without a sign.
    if (i === start && equalsWordIgnoreCase(s, i, end, 'nan')) return NaN;
    return undefined;
  }
  // Decimal: accumulate up to 15 significant digits exactly, fall back to Number() beyond.
  let mantissa = 0;
  let digits = 0;
  let exact = true;
  let scale = 0;
  let sawDigit = false;
  while (i < end) {
    c = s.charCodeAt(i);
    if (c < CH_0 || c > CH_9) break;
    sawDigit = true;
    if (digits < 15) {
      mantissa = mantissa * 10 + (c - CH_0);
      if (mantissa !== 0) digits++;
    } else {
      exact = false;
    }
    i++;
  }
  if (i < end && s.charCodeAt(i) === CH_DOT) {
    i++;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c < CH_0 || c > CH_9) break;
      sawDigit = true;
      if (digits < 15) {
        mantissa = mantissa * 10 + (c - CH_0);
        if (mantissa !== 0) digits++;
        scale--;
      } else {
        exact = false;
      }
      i++;
    }
  }
  if (!sawDigit) return undefined;
  let exponent = 0;
  if (i < end) {
    c = s.charCodeAt(i);
    if (c !== CH_LOWER_E && c !== CH_UPPER_E) return undefined;
    i++;
    let expNegative = false;
    if (i < end) {
      c = s.charCodeAt(i);
      if (c === CH_PLUS || c === CH_MINUS) {
        expNegative = c === CH_MINUS;
        i++;
      }
    }
    const expStart = i;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c < CH_0 || c > CH_9) return undefined;
      // Saturate: anything past this is overflow or underflow either way.
      if (exponent < 100000) exponent = exponent * 10 + (c - CH_0);
      i++;
    }
    if (i === expStart) return undefined;
    if (expNegative) exponent = -exponent;
  }
  let value: number;
  const e = exponent + scale;
  if (exact && e >= -22 && e <= 22) {
    value = e < 0 ? mantissa / (POW10[-e] as number) : mantissa * (POW10[e] as number);
    if (negative) value = -value;
  } else {
    value = Number(s.slice(start, end));
  }
  if (value === Infinity || value === -Infinity) return undefined;
  return value;
}

/** `parseFloatToken` over a whole string. */
export function parseFloatText(s: string): number | undefined {
  return parseFloatToken(s, 0, s.length);
}

/**
 * Formats like Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which client_golang uses for values and for
 * `le`/`quantile` labels in the text format: shortest round-trip digits, exponent form (`1e+06`,
 * `2.5e-05`) when the decimal exponent is below -4 or at least 6. Infinities are `+Inf`/`-Inf`.
 */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // toExponential() without an argument yields the shortest digits that round-trip, like Go.
  const e = v.toExponential();
  const negative = e.charCodeAt(0) === CH_MINUS;
  const ePos = e.indexOf('e');
  const digits = e.slice(negative ? 1 : 0, ePos).replace('.', '');
  const exp = Number(e.slice(ePos + 1));
  let out: string;
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    out = `${digits[0] ?? ''}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else {
    const point = exp + 1;
    out =
      digits.length <= point
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  return negative ? `-${out}` : out;
}

/**
 * Formats like Prometheus' `labels.FormatOpenMetricsFloat`: Go's shortest `'g'` form with `.0` appended
 * when it has neither a dot nor an exponent (`1` -> `1.0`, `0.5` -> `0.5`, `1e+06` stays). Prometheus
 * normalises `le` and `quantile` label values to this form, so `le="1"` and `le="1.0"` are one series.
 */
export function formatOpenMetricsFloat(v: number): string {
  if (v === 0) return '0.0';
  const s = formatGoFloat(v);
  if (Number.isNaN(v) || v === Infinity || v === -Infinity) return s;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === CH_DOT || c === CH_LOWER_E) return s;
  }
  return `${s}.0`;
}
