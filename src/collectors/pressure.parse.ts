/** Parser for the pressure stall information files /proc/pressure/{cpu,io,memory}. */

export interface PsiLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Total stall time in microseconds. */
  readonly total: number;
}

export interface PsiStats {
  /** Share of time in which at least some tasks were stalled. */
  readonly some?: PsiLine;
  /** Share of time in which all non-idle tasks were stalled (absent for cpu before Linux 5.13). */
  readonly full?: PsiLine;
}

const LINE =
  /^(some|full) avg10=(\d+(?:\.\d+)?) avg60=(\d+(?:\.\d+)?) avg300=(\d+(?:\.\d+)?) total=(\d+)\s*$/;

/**
 * Parses one pressure file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and a "full" line).
 * Lines with another prefix are ignored, as node_exporter does for future measurement types.
 */
export function parsePressure(text: string): PsiStats {
  const out: { some?: PsiLine; full?: PsiLine } = {};
  for (const line of text.split('\n')) {
    const kind = line.slice(0, line.indexOf(' '));
    if (kind !== 'some' && kind !== 'full') continue;
    const m = LINE.exec(line);
    if (m === null) throw new Error(`unexpected pressure line: ${JSON.stringify(line)}`);
    out[kind] = { avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), total: Number(m[5]) };
  }
  return out;
}
