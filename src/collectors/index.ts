import { loadavgCollector } from './loadavg';
import type { CollectorDefinition } from './types';

/**
 * Every collector hostscope knows, by name. This map generates `--collector.X` / `--no-collector.X`
 * and the `--collector.X.option` flags. One entry per line, sorted by name.
 */
// prettier-ignore
const ALL: readonly CollectorDefinition[] = [
  loadavgCollector,
];

export const COLLECTORS: readonly CollectorDefinition[] = [...ALL].sort((a, b) =>
  a.name.localeCompare(b.name),
);

export function findCollector(name: string): CollectorDefinition | undefined {
  return COLLECTORS.find((c) => c.name === name);
}
