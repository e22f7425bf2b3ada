import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ALERTMANAGER,
  renderAlertmanagerConfig,
  startAlertmanager,
  type AlertmanagerProcess,
  type RenderedConfig,
} from '../helpers/alertmanager';
import { CLI, startExporterProcess, type ExporterProcess } from '../helpers/exporter-process';
import {
  freePort,
  PROMETHEUS,
  PROMETHEUS_DIR,
  startPrometheus,
  waitFor,
  type PrometheusProcess,
} from '../helpers/prometheus';
import { describeWithService } from '../helpers/services';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp';

/*
 * End to end: the real Prometheus evaluates the project's unmodified rule files against the real
 * exporter; the exporter is stopped, so HostExporterDown (for: 1m) fires; the real Alertmanager, with
 * the config rendered by scripts/render-alertmanager.mjs (only the grouping delays shortened), routes it
 * to the critical receiver; the SMTP sink receives the firing mail. The exporter is started again on the
 * same address, and the resolved mail follows.
 */

const SMTP_USER = 'hostscope-alerts';
const SMTP_PASSWORD = 'correct horse battery staple';
const CRITICAL_TO = ['oncall@example.com', 'pager@example.com'];
const MAIL_DEADLINE_MS = 200_000;

const available = (): boolean => existsSync(PROMETHEUS) && existsSync(ALERTMANAGER) && existsSync(CLI);

interface QueryResult {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describeWithService(
  'prometheus, prometheus-alertmanager and a built dist/',
  available,
  'alert mail end to end (Prometheus -> Alertmanager -> SMTP)',
  () => {
    let tmp: string;
    let smtp: SmtpSink;
    let rendered: RenderedConfig;
    let am: AlertmanagerProcess | undefined;
    let prom: PrometheusProcess | undefined;
    let exporter: ExporterProcess | undefined;
    let exporterPort: number;

    const diagnostics = (): string =>
      [
        `--- mails: ${smtp.mails.map((m) => m.subject).join(' | ')}`,
        `--- alertmanager:\n${am?.output().slice(-4000) ?? ''}`,
        `--- prometheus:\n${prom?.output().slice(-4000) ?? ''}`,
      ].join('\n');

    const query = async (expr: string): Promise<QueryResult['data']['result']> => {
      if (prom === undefined) throw new Error('prometheus not started');
      const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return ((await res.json()) as QueryResult).data.result;
    };

    const waitForMail = (subjectStart: string): Promise<ReceivedMail> =>
      waitFor(
        `a mail whose subject starts with "${subjectStart}"`,
        async () => smtp.mails.find((m) => m.subject.startsWith(subjectStart)),
        MAIL_DEADLINE_MS,
        diagnostics,
      );

    beforeAll(async () => {
      tmp = mkdtempSync(path.join(tmpdir(), 'hostscope-alert-mail-'));
      const passwordFile = path.join(tmp, 'smtp_password');
      // No trailing newline: Alertmanager 0.25 sends the file's bytes as they are.
      writeFileSync(passwordFile, SMTP_PASSWORD, { mode: 0o600 });
      smtp = await startSmtpSink({ auth: { username: SMTP_USER, password: SMTP_PASSWORD } });

      exporterPort = await freePort();
      exporter = await startExporterProcess([`--web.listen-address=127.0.0.1:${exporterPort}`]);

      rendered = renderAlertmanagerConfig({
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_FROM: 'Hostscope <hostscope@example.com>',
        ALERT_EMAIL_TO: 'ops@example.com',
        ALERT_EMAIL_TO_CRITICAL: CRITICAL_TO.join(', '),
        SMTP_AUTH_USERNAME: SMTP_USER,
        SMTP_AUTH_PASSWORD_FILE: passwordFile,
        // The sink speaks plain SMTP; Go allows AUTH PLAIN without TLS to 127.0.0.1 only.
        SMTP_REQUIRE_TLS: 'false',
        ALERTMANAGER_CRITICAL_GROUP_WAIT: '1s',
        ALERTMANAGER_CRITICAL_GROUP_INTERVAL: '1s',
      });
      am = await startAlertmanager(rendered.file);

      const promConfig = path.join(tmp, 'prometheus.yml');
      writeFileSync(
        promConfig,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${JSON.stringify(path.join(PROMETHEUS_DIR, 'rules', '*.yml'))}`,
          'alerting:',
          '  alertmanagers:',
          `    - static_configs: [{ targets: ['127.0.0.1:${am.port}'] }]`,
          'scrape_configs:',
          '  - job_name: hostscope',
          `    static_configs: [{ targets: ['127.0.0.1:${exporterPort}'] }]`,
          '',
        ].join('\n'),
      );
      prom = await startPrometheus(promConfig);
    }, 90_000);

    afterAll(async () => {
      await exporter?.stop();
      await prom?.stop();
      await am?.stop();
      await smtp?.stop();
      rendered?.remove();
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    }, 120_000); // four daemons stop one after the other

    it('mails HostExporterDown to the critical recipients when the exporter stops, then its resolution', async () => {
      const instance = `127.0.0.1:${exporterPort}`;
      // The project's rules are loaded and the exporter's real host metrics are in Prometheus.
      await waitFor(
        'the exporter to be scraped',
        async () => {
          const up = await query('up{job="hostscope"} == 1');
          const load = await query('node_load1{job="hostscope"}');
          return up.length === 1 && load.length === 1 ? true : undefined;
        },
        60_000,
        diagnostics,
      );
      const rules = (await (await fetch(`${prom?.url ?? ''}/api/v1/rules?type=alert`)).json()) as {
        data: { groups: { rules: { name: string }[] }[] };
      };
      const alertNames = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
      expect(alertNames).toContain('HostExporterDown');
      expect(alertNames.length).toBeGreaterThanOrEqual(20);

      await exporter?.stop();
      exporter = undefined;

      const firing = await waitForMail('[FIRING:1] HostExporterDown');
      expect(firing.subject).toBe(`[FIRING:1] HostExporterDown (critical) ${instance}`);
      expect([...firing.envelopeTo].sort()).toEqual([...CRITICAL_TO].sort());
      expect(firing.headers.get('to')).toBe(CRITICAL_TO.join(', '));
      expect(firing.headers.get('from')).toBe('Hostscope <hostscope@example.com>');
      expect(firing.envelopeFrom).toBe('hostscope@example.com');
      expect(firing.user).toBe(SMTP_USER);
      expect(firing.text).toContain('FIRING (1)');
      expect(firing.text).toContain(`* hostscope exporter on ${instance} is down`);
      expect(firing.text).toContain(
        `Prometheus has not been able to scrape ${instance} for more than a minute`,
      );
      expect(firing.text).toContain('Severity:  critical');
      expect(firing.text).toContain(
        `Labels:    alertname=HostExporterDown instance=${instance} job=hostscope severity=critical\n`,
      );
      expect(firing.text).toContain('Runbook:   docs/runbook.md#hostexporterdown');
      expect(firing.text).not.toContain('RESOLVED');
      expect(firing.html).toContain(`hostscope exporter on ${instance} is down`);
      expect(firing.html).toContain('href="docs/runbook.md#hostexporterdown"');
      // No one else got it: warnings go to ops@, and nothing else fired.
      expect(smtp.mails.filter((m) => m.envelopeTo.includes('ops@example.com'))).toEqual([]);

      exporter = await startExporterProcess([`--web.listen-address=${instance}`]);

      const resolved = await waitForMail('[RESOLVED] HostExporterDown');
      expect(resolved.subject).toBe(`[RESOLVED] HostExporterDown (critical) ${instance}`);
      expect([...resolved.envelopeTo].sort()).toEqual([...CRITICAL_TO].sort());
      expect(resolved.text).toContain('RESOLVED (1)');
      expect(resolved.text).not.toContain('FIRING');
      expect(resolved.text).toMatch(/Resolved: {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      expect(resolved.html).toContain('Resolved (1)');
    }, 420_000);
  },
);
