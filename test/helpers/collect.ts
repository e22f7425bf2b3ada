import * as path from 'node:path';
import { buildOptions, type RawOptionValue } from '../../src/collectors/options';
import type { CollectorDefinition } from '../../src/collectors/types';
import { HostFs, type HostPaths } from '../../src/host/host-fs';
import { silentLogger } from '../../src/log/logger';
import type { MetricFamily } from '../../src/metrics/types';

/** The fixture host tree committed under test/fixtures/host (see its README). */
export const FIXTURE_ROOT = path.join(__dirname, '../fixtures/host');

export const FIXTURE_PATHS: HostPaths = {
  procfs: path.join(FIXTURE_ROOT, 'proc'),
  sysfs: path.join(FIXTURE_ROOT, 'sys'),
  rootfs: path.join(FIXTURE_ROOT, 'rootfs'),
  udevData: path.join(FIXTURE_ROOT, 'udev/data'),
};

/** Runs one collector once against the fixture tree (or given paths) and returns its families. */
export async function collectOnce(
  def: CollectorDefinition,
  options: Record<string, RawOptionValue> = {},
  paths: HostPaths = FIXTURE_PATHS,
): Promise<MetricFamily[]> {
  const collector = def.create({
    fs: new HostFs(paths),
    logger: silentLogger(),
    options: buildOptions(def.options ?? [], options),
  });
  try {
    return await collector.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 5000 });
  } finally {
    await collector.close?.();
  }
}

/** Looks up one family by name, failing the test clearly when it is missing. */
export function family(families: readonly MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  if (found === undefined)
    throw new Error(`family ${name} not found; have: ${families.map((f) => f.name).join(', ')}`);
  return found;
}

/** The value of the single sample matching the given labels. */
export function valueOf(
  families: readonly MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const fam = family(families, name);
  const matches = fam.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1)
    throw new Error(`${name}${JSON.stringify(labels)} matched ${matches.length} samples`);
  return (matches[0] as { value: number }).value;
}
