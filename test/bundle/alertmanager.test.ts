import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ALERTMANAGER,
  AMTOOL,
  renderAlertmanager,
  renderAlertmanagerConfig,
  startAlertmanager,
  type AlertmanagerProcess,
  type RenderedConfig,
} from '../helpers/alertmanager';
import { REPO, run, waitFor } from '../helpers/prometheus';
import { describeWithService } from '../helpers/services';

const BASE_ENV: Record<string, string> = {
  SMTP_HOST: 'smtp.example.com',
  SMTP_PORT: '587',
  SMTP_FROM: 'hostscope@example.com',
  ALERT_EMAIL_TO: 'ops@example.com, Oncall <oncall@example.com>',
  SMTP_AUTH_USERNAME: 'hostscope',
  SMTP_AUTH_PASSWORD_FILE: '/run/secrets/smtp_password',
};

function without(env: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)));
}

describe('render-alertmanager.mjs', () => {
  it('refuses to render without the required variables and names every one of them (exit 2)', () => {
    const r = renderAlertmanager({});
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    for (const name of ['SMTP_HOST', 'SMTP_FROM', 'ALERT_EMAIL_TO']) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toContain('SMTP_PORT (');
  });

  it('reports every invalid value at once (exit 2)', () => {
    const r = renderAlertmanager({
      ...BASE_ENV,
      SMTP_PORT: '99999',
      SMTP_REQUIRE_TLS: 'yes',
      ALERT_EMAIL_TO: 'ops@example.com, not-an-address',
      ALERTMANAGER_CRITICAL_REPEAT_INTERVAL: 'soon',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SMTP_PORT must be a port');
    expect(r.stderr).toContain('SMTP_REQUIRE_TLS must be true or false');
    expect(r.stderr).toContain('not-an-address');
    expect(r.stderr).toContain('ALERTMANAGER_CRITICAL_REPEAT_INTERVAL must be a duration');
  });

  it('refuses a password in the environment and a user without a password file', () => {
    const r = renderAlertmanager({
      ...without(BASE_ENV, 'SMTP_AUTH_PASSWORD_FILE'),
      SMTP_AUTH_PASSWORD: 'hunter2',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SMTP_AUTH_PASSWORD_FILE');
    expect(r.stderr).toContain('SMTP_AUTH_USERNAME is set but SMTP_AUTH_PASSWORD_FILE is not');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('reads X_FILE values, quotes them for YAML and passes the password file by path only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-render-'));
    try {
      writeFileSync(path.join(dir, 'to'), 'a@example.com,b@example.com\n');
      writeFileSync(path.join(dir, 'host'), 'mail.internal # not a comment\n');
      const r = renderAlertmanager({
        ...without(BASE_ENV, 'ALERT_EMAIL_TO', 'SMTP_HOST'),
        SMTP_HOST_FILE: path.join(dir, 'host'),
        ALERT_EMAIL_TO_FILE: path.join(dir, 'to'),
        ALERT_EMAIL_TO_CRITICAL: 'pager@example.com',
        SMTP_PORT: '465',
        SMTP_REQUIRE_TLS: 'FALSE',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('smtp_smarthost: "mail.internal # not a comment:465"');
      expect(r.stdout).toContain('smtp_auth_password_file: "/run/secrets/smtp_password"');
      expect(r.stdout).toContain('smtp_require_tls: false');
      expect(r.stdout).toContain('- to: "a@example.com, b@example.com"');
      expect(r.stdout).toContain('- to: "pager@example.com"');
      expect(r.stdout).not.toMatch(/\$\{/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a readable password file that ends with a newline (Alertmanager would send it)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-render-'));
    try {
      const file = path.join(dir, 'smtp_password');
      writeFileSync(file, 'secret\n');
      const bad = renderAlertmanager({ ...BASE_ENV, SMTP_AUTH_PASSWORD_FILE: file });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain(`SMTP_AUTH_PASSWORD_FILE ${file} ends with a newline`);
      expect(bad.stderr).not.toContain('secret');
      writeFileSync(file, 'secret');
      expect(renderAlertmanager({ ...BASE_ENV, SMTP_AUTH_PASSWORD_FILE: file }).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly when an X_FILE cannot be read', () => {
    const r = renderAlertmanager({ ...without(BASE_ENV, 'SMTP_FROM'), SMTP_FROM_FILE: '/nonexistent/from' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SMTP_FROM_FILE: cannot read /nonexistent/from: ENOENT');
  });
});

describeWithService(
  'amtool',
  () => existsSync(AMTOOL),
  'Alertmanager config (amtool)',
  () => {
    let rendered: RenderedConfig;
    beforeAll(() => {
      rendered = renderAlertmanagerConfig(BASE_ENV);
    });
    afterAll(() => rendered.remove());

    it('the rendered config passes amtool check-config, templates included', () => {
      const r = run(AMTOOL, ['check-config', rendered.file]);
      expect(r.output).toContain('SUCCESS');
      expect(r.output).toContain(' - 1 templates');
      expect(r.output).toContain(' - 4 receivers');
      expect(r.status).toBe(0);
    });

    it('the rendered config with every default overridden passes too', () => {
      const other = renderAlertmanagerConfig({
        ...BASE_ENV,
        SMTP_HOST: '::1',
        SMTP_AUTH_USERNAME: '',
        SMTP_AUTH_PASSWORD_FILE: '',
        SMTP_REQUIRE_TLS: 'false',
        SMTP_TLS_INSECURE_SKIP_VERIFY: 'true',
        ALERTMANAGER_RESOLVE_TIMEOUT: '1m',
        ALERTMANAGER_CRITICAL_GROUP_WAIT: '1s',
        ALERTMANAGER_CRITICAL_GROUP_INTERVAL: '1s',
        ALERTMANAGER_CRITICAL_REPEAT_INTERVAL: '4h',
        ALERTMANAGER_WARNING_GROUP_WAIT: '30s',
        ALERTMANAGER_WARNING_GROUP_INTERVAL: '5m',
        ALERTMANAGER_WARNING_REPEAT_INTERVAL: '1d',
      });
      try {
        const r = run(AMTOOL, ['check-config', other.file]);
        expect(r.status).toBe(0);
        expect(readFileSync(other.file, 'utf8')).toContain('smtp_smarthost: "[::1]:587"');
      } finally {
        other.remove();
      }
    });

    it.each([
      ['critical alerts page at once', ['alertname=HostExporterDown', 'severity=critical'], 'email-critical'],
      ['warnings are grouped', ['alertname=HostFilesystemAlmostFull', 'severity=warning'], 'email-warning'],
      ['info alerts send no mail', ['alertname=Something', 'severity=info'], 'none'],
      ['alerts without a severity still reach someone', ['alertname=FromAnotherRuleFile'], 'email-warning'],
    ])('amtool config routes test: %s', (_name, labels, receiver) => {
      const r = run(AMTOOL, [
        'config',
        'routes',
        'test',
        `--config.file=${rendered.file}`,
        // Every alert also goes to the alert history webhook first (continue: true).
        `--verify.receivers=hostscope-history,${receiver}`,
        ...labels,
      ]);
      expect(r.output).toContain(`hostscope-history,${receiver}`);
      expect(r.status).toBe(0);
    });

    it('amtool config routes test fails for a wrong receiver (the check can fail)', () => {
      const r = run(AMTOOL, [
        'config',
        'routes',
        'test',
        `--config.file=${rendered.file}`,
        '--verify.receivers=email-critical',
        'severity=warning',
      ]);
      expect(r.status).not.toBe(0);
    });

    describe('mail templates (amtool template render)', () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'hostscope-tmpl-'));
      afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
      const alert = (status: 'firing' | 'resolved', instance: string): Record<string, unknown> => ({
        status,
        labels: { alertname: 'HostFilesystemAlmostFull', severity: 'warning', instance, mountpoint: '/' },
        annotations: {
          summary: `Filesystem / on ${instance} is almost full`,
          description: 'Only 5% of / is free <script>',
          runbook_url: 'docs/runbook.md#hostfilesystemalmostfull',
        },
        startsAt: '2024-05-01T10:00:00Z',
        endsAt: status === 'resolved' ? '2024-05-01T10:30:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=x',
        fingerprint: instance,
      });
      const data = (status: 'firing' | 'resolved', alerts: Record<string, unknown>[]): string => {
        const file = path.join(dataDir, `${status}-${alerts.length}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            receiver: 'email-warning',
            status,
            externalURL: 'http://alertmanager.example:9093',
            groupLabels: { alertname: 'HostFilesystemAlmostFull' },
            commonLabels: { alertname: 'HostFilesystemAlmostFull', severity: 'warning', mountpoint: '/' },
            commonAnnotations: {},
            alerts,
          }),
        );
        return file;
      };
      const renderTemplate = (file: string, name: string, type: 'text' | 'html' = 'text'): string => {
        const r = run(AMTOOL, [
          'template',
          'render',
          `--template.glob=${path.join(REPO, 'alertmanager/templates/*.tmpl')}`,
          `--template.data=${file}`,
          `--template.type=${type}`,
          `--template.text={{ template "${name}" . }}`,
        ]);
        if (r.status !== 0) throw new Error(r.output);
        return r.output;
      };

      it('subject: status, count, alert name, severity', () => {
        const firing = data('firing', [alert('firing', 'web1:9100'), alert('firing', 'web2:9100')]);
        expect(renderTemplate(firing, 'hostscope.email.subject').trim()).toBe(
          '[FIRING:2] HostFilesystemAlmostFull (warning)',
        );
        const resolved = data('resolved', [alert('resolved', 'web1:9100')]);
        expect(renderTemplate(resolved, 'hostscope.email.subject').trim()).toBe(
          '[RESOLVED] HostFilesystemAlmostFull (warning)',
        );
      });

      it('text body lists firing then resolved alerts with summary, times, labels and runbook', () => {
        const file = data('firing', [alert('firing', 'web1:9100'), alert('resolved', 'db1:9100')]);
        const text = renderTemplate(file, 'hostscope.email.text');
        expect(text).toContain('FIRING (1)');
        expect(text).toContain('RESOLVED (1)');
        expect(text.indexOf('Filesystem / on web1:9100')).toBeLessThan(text.indexOf('RESOLVED (1)'));
        expect(text.indexOf('Filesystem / on db1:9100')).toBeGreaterThan(text.indexOf('RESOLVED (1)'));
        expect(text).toContain('Started:   2024-05-01 10:00:00 UTC');
        expect(text).toContain('Resolved:  2024-05-01 10:30:00 UTC');
        expect(text).toContain(
          'Labels:    alertname=HostFilesystemAlmostFull instance=web1:9100 mountpoint=/ severity=warning\n',
        );
        expect(text).toContain('Runbook:   docs/runbook.md#hostfilesystemalmostfull');
        expect(text).toContain('http://alertmanager.example:9093/#/alerts?receiver=email-warning');
      });

      it('HTML body escapes annotation text and links the runbook and source', () => {
        const file = data('firing', [alert('firing', 'web1:9100')]);
        const html = renderTemplate(file, 'hostscope.email.html', 'html');
        expect(html).toMatch(/^<!DOCTYPE html>/);
        expect(html).toContain('Only 5% of / is free &lt;script&gt;');
        expect(html).not.toContain('<script>');
        expect(html).toContain('<a href="docs/runbook.md#hostfilesystemalmostfull">Runbook</a>');
        expect(html).toContain('<a href="http://prometheus:9090/graph?g0.expr=x">Source graph</a>');
      });
    });
  },
);

describeWithService(
  'prometheus-alertmanager',
  () => existsSync(ALERTMANAGER),
  'Alertmanager inhibition (real Alertmanager)',
  () => {
    let rendered: RenderedConfig;
    let am: AlertmanagerProcess;
    beforeAll(async () => {
      // Mail goes nowhere here (port 9 on localhost refuses); this suite looks at alert states only.
      rendered = renderAlertmanagerConfig({ ...BASE_ENV, SMTP_HOST: '127.0.0.1', SMTP_PORT: '9' });
      am = await startAlertmanager(rendered.file);
    });
    afterAll(async () => {
      await am.stop();
      rendered.remove();
    });

    interface ApiAlert {
      labels: Record<string, string>;
      status: { state: string; inhibitedBy: string[] };
    }

    it('HostExporterDown inhibits the other alerts of its instance only', async () => {
      const post = (labels: Record<string, string>): Record<string, unknown> => ({
        labels,
        annotations: { summary: 'test' },
        startsAt: new Date().toISOString(),
      });
      const alerts = [
        post({ alertname: 'HostExporterDown', severity: 'critical', job: 'hostscope', instance: 'a:9100' }),
        post({ alertname: 'HostCpuSaturation', severity: 'warning', job: 'hostscope', instance: 'a:9100' }),
        post({ alertname: 'ContainerKilled', severity: 'warning', instance: 'a:9100', name: 'web' }),
        post({ alertname: 'HostCpuSaturation', severity: 'warning', job: 'hostscope', instance: 'b:9100' }),
      ];
      const res = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      expect(res.status).toBe(200);

      const key = (a: ApiAlert): string => `${a.labels.alertname ?? ''}@${a.labels.instance ?? ''}`;
      const states = await waitFor(
        'the inhibition to apply',
        async () => {
          const got = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as ApiAlert[];
          const map = Object.fromEntries(got.map((a) => [key(a), a.status.state]));
          return Object.keys(map).length === 4 && map['HostCpuSaturation@a:9100'] === 'suppressed'
            ? map
            : undefined;
        },
        30_000,
        () => am.output(),
      );
      expect(states).toEqual({
        'HostExporterDown@a:9100': 'active',
        'HostCpuSaturation@a:9100': 'suppressed',
        'ContainerKilled@a:9100': 'suppressed',
        'HostCpuSaturation@b:9100': 'active',
      });
    });
  },
);
