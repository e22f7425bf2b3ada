import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { encode } from '../../src/exposition/encode';
import type { MetricFamily } from '../../src/metrics/types';

/**
 * Output of the real node_exporter 1.5 run against the fixture tree, one file per collector, kept under
 * test/fixtures/node-exporter (see the README there for the command that regenerates them).
 */
export const NODE_EXPORTER_GOLDEN_DIR = path.join(__dirname, '../fixtures/node-exporter');

export function readGolden(collector: string): string {
  return readFileSync(path.join(NODE_EXPORTER_GOLDEN_DIR, `${collector}.prom`), 'utf8');
}

/**
 * Text exposition lines in a form that compares equal when the series and values are equal: sorted, and
 * sample values re-printed from their parsed number, so Go's `1.2e+07` and our `12000000` match.
 * `mask` replaces the values of the named families by `*` (values that vary by nature).
 */
export function canonicalLines(text: string, mask: readonly string[] = []): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      if (line.startsWith('#')) return line;
      const cut = line.lastIndexOf(' ');
      const series = line.slice(0, cut);
      const name = series.split('{')[0] ?? series;
      return `${series} ${mask.includes(name) ? '*' : String(Number(line.slice(cut + 1)))}`;
    })
    .sort();
}

/** Our families encoded and canonicalised like canonicalLines. */
export function canonicalFamilies(families: readonly MetricFamily[], mask: readonly string[] = []): string[] {
  return canonicalLines(encode(families), mask);
}
