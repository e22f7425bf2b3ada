import type { ParsedFamily, ParsedSample } from '../expfmt/types';

/**
 * Picks the samples with the given sample names out of parsed families in one pass. Works for text and
 * OpenMetrics alike (an OpenMetrics counter family `x` holds samples named `x_total`).
 */
export function pickSamples(
  families: readonly ParsedFamily[],
  names: ReadonlySet<string>,
  prefixes: readonly string[] = [],
): Map<string, ParsedSample[]> {
  const out = new Map<string, ParsedSample[]>();
  for (const family of families) {
    const fam = family.name;
    let relevant = names.has(fam) || names.has(`${fam}_total`);
    if (!relevant) for (const p of prefixes) if (fam.startsWith(p)) relevant = true;
    if (!relevant) continue;
    for (const sample of family.samples) {
      if (!names.has(sample.name) && !prefixes.some((p) => sample.name.startsWith(p))) continue;
      let list = out.get(sample.name);
      if (list === undefined) {
        list = [];
        out.set(sample.name, list);
      }
      list.push(sample);
    }
  }
  return out;
}

export function firstValue(map: ReadonlyMap<string, ParsedSample[]>, name: string): number | undefined {
  const s = map.get(name)?.[0];
  return s === undefined || !Number.isFinite(s.value) ? undefined : s.value;
}
