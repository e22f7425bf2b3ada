/**
 * Writes grafana/dashboards/*.json from the dashboard modules (npm run dashboards). With --check it writes
 * nothing and exits 1 when a committed file differs from what the code generates (the drift test does the
 * same in jest).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderDashboards } from './index';

export const DASHBOARD_DIR = path.join(__dirname, '../../grafana/dashboards');

/** Files that differ from the generated content (missing, changed, or no longer generated). */
export function dashboardDrift(dir = DASHBOARD_DIR): string[] {
  const wanted = renderDashboards();
  const drift: string[] = [];
  for (const [file, text] of wanted) {
    const p = path.join(dir, file);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) drift.push(file);
  }
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) if (f.endsWith('.json') && !wanted.has(f)) drift.push(f);
  }
  return drift.sort();
}

export function writeDashboards(dir = DASHBOARD_DIR): string[] {
  const wanted = renderDashboards();
  for (const [file, text] of wanted) writeFileSync(path.join(dir, file), text);
  for (const f of readdirSync(dir)) if (f.endsWith('.json') && !wanted.has(f)) rmSync(path.join(dir, f));
  return [...wanted.keys()];
}

function main(argv: readonly string[]): number {
  if (argv.includes('--check')) {
    const drift = dashboardDrift();
    if (drift.length === 0) return 0;
    process.stderr.write(`dashboards out of date (run npm run dashboards): ${drift.join(', ')}\n`);
    return 1;
  }
  for (const f of writeDashboards()) process.stdout.write(`grafana/dashboards/${f}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
