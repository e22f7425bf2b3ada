import { alertsDashboard } from './alerts';
import { containersDashboard } from './containers';
import { healthDashboard } from './health';
import { historyDashboard } from './history';
import { hostDashboard } from './host';
import { buildDashboard, type DashboardSpec } from './lib';

/** Every dashboard of the bundle, with the file it is written to under grafana/dashboards. */
export const DASHBOARDS: readonly { readonly file: string; readonly spec: DashboardSpec }[] = [
  { file: 'host.json', spec: hostDashboard },
  { file: 'containers.json', spec: containersDashboard },
  { file: 'history.json', spec: historyDashboard },
  { file: 'alerts.json', spec: alertsDashboard },
  { file: 'health.json', spec: healthDashboard },
];

/** The files' contents: stable JSON (2-space indent, trailing newline), so a diff shows real changes. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { file, spec } of DASHBOARDS)
    out.set(file, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`);
  return out;
}
