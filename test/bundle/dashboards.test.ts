/**
 * The committed dashboards (grafana/dashboards/*.json) are what the TypeScript modules generate (no drift),
 * and have the structure Grafana and the bundle rely on: stable uids, unique panel ids, non-overlapping
 * grid positions inside 24 columns, a unit on every panel, every query through the `$datasource`
 * variable, and the provisioning files agreeing with docker-compose.yml.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { dashboardDrift } from '../../src/dashboards/generate';
import { DASHBOARDS, renderDashboards } from '../../src/dashboards/index';

const REPO = path.join(__dirname, '../..');
const DIR = path.join(REPO, 'grafana/dashboards');

interface Ref {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  datasource?: Ref;
  expr?: string;
  rawSql?: string;
}
interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: Ref;
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string } };
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: Ref;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

function load(file: string): Dashboard {
  return JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Dashboard;
}

/** The uids other documents link to: changing one breaks bookmarks and links, so it is a deliberate act. */
const EXPECTED_UIDS: Record<string, string> = {
  'host.json': 'hostscope-host',
  'containers.json': 'hostscope-containers',
  'history.json': 'hostscope-history',
  'alerts.json': 'hostscope-alerts',
  'health.json': 'hostscope-health',
};

describe('generated dashboards', () => {
  it('the committed JSON is what the generator produces (run npm run dashboards after editing)', () => {
    expect(dashboardDrift()).toEqual([]);
  });

  it('drift detection notices a changed, a missing and an extra file', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'hs-dash-'));
    try {
      const rendered = renderDashboards();
      for (const [file, text] of rendered) writeFileSync(path.join(tmp, file), text);
      expect(dashboardDrift(tmp)).toEqual([]);
      writeFileSync(path.join(tmp, 'host.json'), (rendered.get('host.json') ?? '').replace('CPU', 'CPUs'));
      rmSync(path.join(tmp, 'alerts.json'));
      writeFileSync(path.join(tmp, 'old.json'), '{}');
      expect(dashboardDrift(tmp)).toEqual(['alerts.json', 'host.json', 'old.json']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('has exactly the expected files with stable uids', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(Object.keys(EXPECTED_UIDS).sort());
    for (const f of files) expect(load(f).uid).toBe(EXPECTED_UIDS[f]);
    expect(new Set(DASHBOARDS.map((d) => d.spec.title)).size).toBe(DASHBOARDS.length);
  });

  describe.each(Object.keys(EXPECTED_UIDS))('%s', (file) => {
    const d = load(file);
    const content = d.panels.filter((p) => p.type !== 'row');
    const dsVar = d.templating.list.find((v) => v.name === 'datasource');

    it('has a datasource variable of the right plugin type', () => {
      expect(dsVar?.type).toBe('datasource');
      expect(['prometheus', 'grafana-postgresql-datasource']).toContain(dsVar?.query);
    });

    it('has unique panel ids and titles', () => {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const titles = content.map((p) => p.title);
      expect(new Set(titles).size).toBe(titles.length);
    });

    it('places every panel inside the 24-column grid without overlaps', () => {
      for (const p of d.panels) {
        expect(p.gridPos.w).toBeGreaterThan(0);
        expect(p.gridPos.h).toBeGreaterThan(0);
        expect(p.gridPos.x).toBeGreaterThanOrEqual(0);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      }
      for (let i = 0; i < d.panels.length; i++) {
        for (let j = i + 1; j < d.panels.length; j++) {
          const a = d.panels[i]?.gridPos;
          const b = d.panels[j]?.gridPos;
          if (a === undefined || b === undefined) continue;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap ? `${d.panels[i]?.title} overlaps ${d.panels[j]?.title}` : '').toBe('');
        }
      }
    });

    it('sets a unit on every panel', () => {
      for (const p of content) expect(`${p.title}: ${p.fieldConfig?.defaults?.unit ?? ''}`).toMatch(/: \S+/);
    });

    it('sends every panel and query to ${datasource} (or another datasource variable of the dashboard), never to a fixed datasource uid', () => {
      const type = String(dsVar?.query);
      // A second datasource variable (the alert history's PostgreSQL on the Alerts dashboard) is allowed.
      const allowed = d.templating.list
        .filter((v) => v.type === 'datasource')
        .map((v) => ({ type: String(v.query), uid: `\${${v.name}}` }));
      for (const p of content) {
        expect(allowed).toContainEqual(p.datasource);
        expect(p.targets?.length ?? 0).toBeGreaterThan(0);
        for (const t of p.targets ?? []) expect(t.datasource).toEqual(p.datasource);
        expect(p.datasource?.type === 'prometheus' ? 'expr' : 'rawSql').toBe(
          p.targets?.every((t) => t.expr !== undefined) === true ? 'expr' : 'rawSql',
        );
      }
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        expect(v.datasource).toEqual({ type, uid: '${datasource}' });
      }
      expect(content.filter((p) => p.datasource?.uid === '${datasource}').length).toBeGreaterThan(0);
      const text = readFileSync(path.join(DIR, file), 'utf8');
      for (const uid of ['"prometheus"', '"hostscope-postgres"', '"alertmanager"']) {
        expect(text).not.toContain(`"uid": ${uid}`);
      }
    });

    it('has unique refIds per panel and a query in every target', () => {
      for (const p of content) {
        const refs = (p.targets ?? []).map((t) => t.refId);
        expect(new Set(refs).size).toBe(refs.length);
        for (const t of p.targets ?? []) expect((t.expr ?? t.rawSql ?? '').trim()).not.toBe('');
      }
    });

    it('uses $__rate_interval for rates and no filesystem-type hacks', () => {
      for (const p of content) {
        for (const t of p.targets ?? []) {
          const expr = t.expr ?? '';
          for (const m of expr.matchAll(/\b(rate|irate|increase)\(([^()]|\([^()]*\))*?\[([^\]]+)\]\)/g)) {
            expect(`${p.title}: ${m[3] ?? ''}`).toMatch(/: \$__(rate_interval|range)$/);
          }
          expect(expr).not.toMatch(/fstype\s*=~?\s*"(aufs|ext4|xfs|overlay)/);
          expect(expr).not.toMatch(/fstype\s*!~\s*"/);
        }
      }
    });
  });
});

describe('provisioning', () => {
  const compose = readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8');
  const datasources = readFileSync(
    path.join(REPO, 'grafana/provisioning/datasources/datasources.yml'),
    'utf8',
  );
  const providers = readFileSync(path.join(REPO, 'grafana/provisioning/dashboards/dashboards.yml'), 'utf8');

  it('provisions the three datasources with stable uids', () => {
    expect(datasources).toMatch(/uid: prometheus\n\s+type: prometheus\n/);
    expect(datasources).toMatch(/uid: hostscope-postgres\n\s+type: grafana-postgresql-datasource\n/);
    expect(datasources).toMatch(/uid: alertmanager\n\s+type: alertmanager\n/);
    expect(datasources).toMatch(/implementation: prometheus/);
  });

  it('takes the database password from the environment docker-compose.yml passes, not from the file', () => {
    expect(datasources).toMatch(/password: \$\{HOSTSCOPE_DB_PASSWORD\}/);
    expect(compose).toMatch(/HOSTSCOPE_DB_PASSWORD: \$\{POSTGRES_PASSWORD/);
    // Database and user are the ones the compose PostgreSQL creates.
    const db = /POSTGRES_DB: (\S+)/.exec(compose)?.[1];
    const user = /POSTGRES_USER: (\S+)/.exec(compose)?.[1];
    expect(datasources).toContain(`database: ${db ?? '?'}`);
    expect(datasources).toContain(`user: ${user ?? '?'}`);
    expect(datasources).toMatch(/url: postgres:5432/);
    expect(compose).toMatch(/^ {2}postgres:/m);
  });

  it('points the dashboard provider at the directory compose mounts the dashboards on', () => {
    const mount = /\.\/grafana\/dashboards:([^:\s]+)/.exec(compose)?.[1];
    expect(mount).toBeDefined();
    expect(providers).toContain(`path: ${mount ?? '?'}`);
    expect(compose).toContain('./grafana/provisioning:/etc/grafana/provisioning');
  });

  it('reaches Prometheus and Alertmanager by their compose service names and ports', () => {
    expect(datasources).toContain('url: http://prometheus:9090');
    expect(datasources).toContain('url: http://alertmanager:9093');
    expect(compose).toMatch(/^ {2}prometheus:/m);
    expect(compose).toMatch(/^ {2}alertmanager:/m);
  });
});
