import { loadavgCollector } from './loadavg';
import type { CollectorDefinition } from './types';

/**
 * Every collector hostscope knows, by name. This map generates `--collector.X` / `--no-collector.X`
 * and the `--collector.X.option` flags. Keep it sorted by name.
 */
export const COLLECTORS: readonly CollectorDefinition[] = [
  loadavgCollector,
].sort((a, b) => a.name.localeCompare(b.name));

export function findCollector(name: string): CollectorDefinition | undefined {
  return COLLECTORS.find((c) => c.name === name);
}
