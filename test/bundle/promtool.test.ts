import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describeWithService } from '../helpers/services';
import { instanceOf } from '../../src/sink/types';
import {
  listYaml,
  PROMETHEUS_DIR,
  PROMTOOL,
  readAlertCases,
  readRules,
  REPO,
  run,
} from '../helpers/prometheus';

const RULE_FILES = listYaml(path.join(PROMETHEUS_DIR, 'rules'));
const TEST_FILES = listYaml(path.join(PROMETHEUS_DIR, 'tests'));
const RULES = readRules(RULE_FILES);
const ALERTS = RULES.filter((r) => r.kind === 'alert');

describeWithService(
  'promtool',
  () => existsSync(PROMTOOL),
  'Prometheus config and rules (promtool)',
  () => {
    it('prometheus.yml is a valid config whose rule files all load', () => {
      const r = run(PROMTOOL, ['check', 'config', path.join(PROMETHEUS_DIR, 'prometheus.yml')]);
      expect(r.output).toContain('SUCCESS');
      expect(r.status).toBe(0);
      // The config's rule_files glob must pick up every rule file of the bundle.
      for (const f of RULE_FILES) expect(r.output).toContain(`Checking ${f}\n`);
    });

    it('prometheus.remote-write.yml (the compose remote write switch) is valid and is prometheus.yml plus remote_write', () => {
      const file = path.join(PROMETHEUS_DIR, 'prometheus.remote-write.yml');
      const r = run(PROMTOOL, ['check', 'config', file]);
      expect(r.output).toContain('SUCCESS');
      expect(r.status).toBe(0);
      for (const f of RULE_FILES) expect(r.output).toContain(`Checking ${f}\n`);
      // Word for word prometheus.yml from global: to its closing comment, then the remote_write section.
      const base = readFileSync(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8');
      const body = base.slice(
        base.indexOf('global:'),
        base.indexOf("# PostgreSQL as Prometheus' long-term store"),
      );
      const switched = readFileSync(file, 'utf8');
      expect(switched.slice(switched.indexOf('global:'), switched.indexOf('global:') + body.length)).toBe(
        body,
      );
      const remote = switched.slice(switched.indexOf('global:') + body.length);
      expect(remote).toMatch(/^(#.*\n)*remote_write:\n/);
      expect(remote).toContain('url: http://sink:9101/api/v1/write');
    });

    it('the switched config does not remote-write what the sink scrapes itself (no double storage)', () => {
      const compose = readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8');
      const target = /--scrape\.target=(\S+)/.exec(compose)?.[1] ?? '';
      // The sink's target as Prometheus' job hostscope sees it (compose's default port).
      const instance = instanceOf(target.replace(/\$\{HOSTSCOPE_PORT:-(\d+)\}/, '$1'));
      expect(instance).toBe('host.docker.internal:9100');
      const switched = readFileSync(path.join(PROMETHEUS_DIR, 'prometheus.remote-write.yml'), 'utf8');
      expect(switched).toMatch(
        /- job_name: hostscope\n\s+static_configs:\n\s+- targets: \['host\.docker\.internal:9100'\]/,
      );
      const m =
        /write_relabel_configs:\n\s+- source_labels: \[job, instance\]\n\s+regex: '([^']+)'\n\s+action: drop\n/.exec(
          switched,
        );
      expect(m).not.toBeNull();
      // Prometheus anchors relabel regexes (RE2; these constructs mean the same in JavaScript).
      const dropped = new RegExp(`^(?:${m?.[1] ?? ''})$`);
      expect(dropped.test(`hostscope;${instance}`)).toBe(true);
      expect(dropped.test('hostscope;web1.example.com:9100')).toBe(false);
      expect(dropped.test(`hostscope-sink;sink:9101`)).toBe(false);
    });

    it('every rule file passes promtool check rules', () => {
      const r = run(PROMTOOL, ['check', 'rules', ...RULE_FILES]);
      expect(r.status).toBe(0);
      expect(r.output).not.toMatch(/FAILED/);
    });

    it.each(TEST_FILES.map((f) => [path.basename(f), f]))('promtool test rules %s', (_name, file) => {
      const r = run(PROMTOOL, ['test', 'rules', file]);
      if (r.status !== 0) throw new Error(r.output);
      expect(r.output).toContain('SUCCESS');
    });
  },
);

describe('alert rules conventions', () => {
  const cases = readAlertCases(TEST_FILES);

  it('the rule files define alerts and recording rules', () => {
    expect(ALERTS.length).toBeGreaterThanOrEqual(20);
    expect(RULES.filter((r) => r.kind === 'record').length).toBeGreaterThan(0);
  });

  it.each(ALERTS.map((a) => [a.name]))(
    '%s has a promtool case where it fires and one where it does not',
    (name) => {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.filter((c) => c.fires).length).toBeGreaterThan(0);
      expect(mine.filter((c) => !c.fires).length).toBeGreaterThan(0);
    },
  );

  it('the promtool tests only name alerts that exist', () => {
    const names = new Set(ALERTS.map((a) => a.name));
    expect(cases.map((c) => c.alertname).filter((n) => !names.has(n))).toEqual([]);
  });

  it('alert names are unique CamelCase', () => {
    const names = ALERTS.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$/);
  });

  it('recording rules are named level:metric:operations', () => {
    for (const r of RULES.filter((x) => x.kind === 'record'))
      expect(r.name).toMatch(/^[a-z][a-z_]*:[a-zA-Z][a-zA-Z0-9_]*:[a-z][a-z0-9_]*$/);
  });

  const runbook = readFileSync(path.join(REPO, 'docs/runbook.md'), 'utf8');
  const headings = new Set([...runbook.matchAll(/^### (\S+)\s*$/gm)].map((m) => (m[1] ?? '').toLowerCase()));

  it.each(ALERTS.map((a) => [a.name, a]))(
    '%s has severity, summary, description and a runbook section',
    (name, alert) => {
      expect(alert.text).toMatch(/^\s+severity: (critical|warning|info)\s*$/m);
      expect(alert.text).toMatch(/^\s+summary: \S/m);
      expect(alert.text).toMatch(/^\s+description: \S/m);
      const url = /^\s+runbook_url: (\S+)\s*$/m.exec(alert.text)?.[1];
      expect(url).toBe(`docs/runbook.md#${name.toLowerCase()}`);
      expect(headings.has(name.toLowerCase())).toBe(true);
    },
  );

  it('the runbook has no section for an alert that does not exist', () => {
    const names = new Set(ALERTS.map((a) => a.name.toLowerCase()));
    expect([...headings].filter((h) => !names.has(h))).toEqual([]);
  });
});
