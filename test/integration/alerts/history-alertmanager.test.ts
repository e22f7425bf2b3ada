/**
 * Alert history end to end: the real Alertmanager 0.25, with the bundle's config rendered by
 * scripts/render-alertmanager.mjs (only the history route's delays shortened), posts every alert to the
 * built sink's webhook (`hostscope sink --web.enable-alertmanager-webhook`), which stores it in a private
 * PostgreSQL. Alerts are fired and resolved through Alertmanager's API (/api/v2/alerts, as Prometheus
 * does), Alertmanager is restarted in between (same storage), and its re-sends (repeat_interval, restart)
 * must not duplicate anything: the occurrences, their start and end times and durations are exact.
 * Behind `--web.config.file` basic auth, the webhook refuses a request without credentials (401, nothing
 * stored), and a real Alertmanager with `http_config.basic_auth` delivers to it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { Client } from 'pg';
import { ALERTMANAGER, renderAlertmanagerConfig, type RenderedConfig } from '../../helpers/alertmanager';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon';
import { CLI } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { waitFor } from '../../helpers/prometheus';
import { describeWithService } from '../../helpers/services';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp';
import { runCli as runSink } from '../sink/harness';

const available = (): boolean => existsSync(ALERTMANAGER) && existsSync(CLI) && hasPostgres();

interface PostedAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

interface Row {
  fingerprint: string;
  alertname: string;
  severity: string | null;
  instance: string | null;
  job: string | null;
  status: string;
  starts_at: Date;
  ends_at: Date | null;
  duration_seconds: number | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receiver: string;
  group_key: string;
  notifications: number;
}

const MINUTE = 60_000;

describeWithService(
  'prometheus-alertmanager, PostgreSQL and a built dist/',
  available,
  'alert history from the real Alertmanager',
  () => {
    let pg: PgServer;
    let db: Client;
    let smtp: SmtpSink;
    let sink: DaemonProcess;
    let rendered: RenderedConfig;
    let am: DaemonProcess | undefined;
    let amStorage: string;

    // Times in the past, to the millisecond, as Prometheus sends them (ActiveAt of the rule).
    const base = Math.floor(Date.now() / 1000) * 1000 - 3 * 3600_000 + 123;
    const cpu: PostedAlert = {
      labels: { alertname: 'HostHighCpu', severity: 'warning', instance: 'web-1:9100', job: 'hostscope' },
      annotations: { summary: 'CPU busy on web-1', description: 'CPU above 90 % for 15 minutes' },
      startsAt: new Date(base).toISOString(),
    };
    const down: PostedAlert = {
      labels: {
        alertname: 'HostExporterDown',
        severity: 'critical',
        instance: 'db-1:9100',
        job: 'hostscope',
      },
      annotations: { summary: 'db-1 is down' },
      startsAt: new Date(base + 7 * MINUTE + 456).toISOString(),
    };
    const noSeverity: PostedAlert = {
      labels: { alertname: 'FromAnotherRuleFile', instance: 'web-2:9100' },
      startsAt: new Date(base + 30 * MINUTE).toISOString(),
    };
    const farFuture = new Date(Date.now() + 3600_000).toISOString();

    const diagnostics = (): string =>
      `--- sink:\n${sink.output().slice(-4000)}\n--- alertmanager:\n${am?.output().slice(-4000) ?? ''}`;

    const startAm = (): Promise<DaemonProcess> =>
      startDaemon({
        name: 'Alertmanager',
        command: ALERTMANAGER,
        // The same storage across restarts (notification log and silences), as a real restart.
        args: (port, url) => [
          `--config.file=${rendered.file}`,
          `--storage.path=${amStorage}`,
          `--web.listen-address=127.0.0.1:${port}`,
          `--web.external-url=${url}`,
          '--cluster.listen-address=',
          '--log.level=debug',
        ],
        readyPath: '/-/ready',
      });

    const post = async (alerts: PostedAlert[]): Promise<void> => {
      if (am === undefined) throw new Error('alertmanager not running');
      const res = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      expect(res.status).toBe(200);
    };

    const rows = async (): Promise<Row[]> =>
      (
        await db.query<Row>(
          `SELECT fingerprint, alertname, severity, instance, job, status, starts_at, ends_at,
                  duration_seconds, labels, annotations, receiver, group_key, notifications
             FROM hostscope.alerts_history ORDER BY starts_at`,
        )
      ).rows;

    const notificationCount = async (): Promise<number> =>
      Number(
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM hostscope.alert_notifications')).rows[0]?.n,
      );

    beforeAll(async () => {
      amStorage = mkdtempSync(path.join(tmpdir(), 'hostscope-am-storage-'));
      pg = await startPostgres();
      smtp = await startSmtpSink();
      sink = await startDaemon({
        name: 'sink',
        command: process.execPath,
        args: (port, _url, dataDir) => [
          CLI,
          'sink',
          `--database.url=${pg.url}`,
          `--data.dir=${dataDir}`,
          '--scrape.target=',
          '--web.enable-alertmanager-webhook',
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=debug',
        ],
        readyPath: '/health',
      });
      rendered = renderAlertmanagerConfig({
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_FROM: 'hostscope@example.com',
        ALERT_EMAIL_TO: 'ops@example.com',
        SMTP_REQUIRE_TLS: 'false',
        HOSTSCOPE_ALERT_WEBHOOK_URL: `${sink.url}/api/v1/alertmanager`,
        ALERTMANAGER_HISTORY_GROUP_WAIT: '1s',
        ALERTMANAGER_HISTORY_GROUP_INTERVAL: '1s',
        // Re-sent while firing, every few seconds: the sink must store each occurrence once.
        ALERTMANAGER_HISTORY_REPEAT_INTERVAL: '3s',
        ALERTMANAGER_CRITICAL_GROUP_WAIT: '1s',
        ALERTMANAGER_CRITICAL_GROUP_INTERVAL: '1s',
        ALERTMANAGER_WARNING_GROUP_WAIT: '1s',
        ALERTMANAGER_WARNING_GROUP_INTERVAL: '1s',
      });
      am = await startAm();
      db = new Client({ connectionString: pg.url });
      await db.connect();
    }, 180_000);

    afterAll(async () => {
      await db?.end();
      await am?.stop();
      await sink?.stop();
      await smtp?.stop();
      await pg?.destroy();
      rendered?.remove();
      rmSync(amStorage, { recursive: true, force: true });
    }, 60_000);

    it('stores firing alerts once, through re-sends and an Alertmanager restart, then their resolution', async () => {
      await post([
        { ...cpu, endsAt: farFuture },
        { ...down, endsAt: farFuture },
        { ...noSeverity, endsAt: farFuture },
      ]);
      await waitFor(
        'three firing occurrences',
        async () => ((await rows()).length === 3 ? true : undefined),
        60_000,
        diagnostics,
      );
      // Re-sends on repeat_interval (3 s) arrive: the same rows, more notifications counted.
      await waitFor(
        'a repeated notification',
        async () => ((await rows()).every((r) => r.notifications >= 2) ? true : undefined),
        60_000,
        diagnostics,
      );
      for (const r of await rows()) {
        expect(r.status).toBe('firing');
        expect(r.ends_at).toBeNull();
        expect(r.duration_seconds).toBeNull();
        expect(r.receiver).toBe('hostscope-history');
      }

      // Restart: Alertmanager keeps its notification log, loses its alerts; Prometheus re-sends them every
      // evaluation, so the test does too.
      await am?.stop();
      const before = await notificationCount();
      am = await startAm();
      await post([
        { ...cpu, endsAt: farFuture },
        { ...down, endsAt: farFuture },
        { ...noSeverity, endsAt: farFuture },
      ]);
      await waitFor(
        'notifications from the restarted Alertmanager',
        async () => ((await rows()).every((r) => r.notifications >= 3) ? true : undefined),
        60_000,
        diagnostics,
      );
      expect(await notificationCount()).toBeGreaterThanOrEqual(before);
      expect((await rows()).length).toBe(3);

      // Resolve two of them, at exact times; a second occurrence of HostHighCpu starts later.
      const cpuEnd = base + 42 * MINUTE + 789;
      const downEnd = base + 2 * 3600_000 + 5;
      const cpuAgain: PostedAlert = { ...cpu, startsAt: new Date(base + 100 * MINUTE).toISOString() };
      await post([
        { ...cpu, endsAt: new Date(cpuEnd).toISOString() },
        { ...down, endsAt: new Date(downEnd).toISOString() },
        { ...noSeverity, endsAt: farFuture },
      ]);
      await waitFor(
        'two resolved occurrences',
        async () => ((await rows()).filter((x) => x.status === 'resolved').length === 2 ? true : undefined),
        60_000,
        diagnostics,
      );
      // The same alert (same labels, so the same fingerprint) fires again: a second occurrence.
      await post([{ ...cpuAgain, endsAt: farFuture }]);
      await waitFor(
        'the second occurrence of HostHighCpu',
        async () => ((await rows()).length === 4 ? true : undefined),
        60_000,
        diagnostics,
      );
      // Let a few more re-sends arrive (repeat 3 s, resolved ones are not repeated).
      const settled = await notificationCount();
      await waitFor(
        'further re-sends',
        async () =>
          (await notificationCount()) > settled || (await rows()).some((r) => r.notifications >= 5)
            ? true
            : undefined,
        60_000,
        diagnostics,
      );

      const final = await rows();
      expect(
        final.map((r) => ({
          alertname: r.alertname,
          severity: r.severity,
          instance: r.instance,
          job: r.job,
          status: r.status,
          starts_at: r.starts_at.toISOString(),
          ends_at: r.ends_at?.toISOString() ?? null,
          duration_seconds: r.duration_seconds,
        })),
      ).toEqual([
        {
          alertname: 'HostHighCpu',
          severity: 'warning',
          instance: 'web-1:9100',
          job: 'hostscope',
          status: 'resolved',
          starts_at: cpu.startsAt,
          ends_at: new Date(cpuEnd).toISOString(),
          duration_seconds: (cpuEnd - base) / 1000,
        },
        {
          alertname: 'HostExporterDown',
          severity: 'critical',
          instance: 'db-1:9100',
          job: 'hostscope',
          status: 'resolved',
          starts_at: down.startsAt,
          ends_at: new Date(downEnd).toISOString(),
          duration_seconds: (downEnd - Date.parse(down.startsAt)) / 1000,
        },
        {
          alertname: 'FromAnotherRuleFile',
          severity: null,
          instance: 'web-2:9100',
          job: null,
          status: 'firing',
          starts_at: noSeverity.startsAt,
          ends_at: null,
          duration_seconds: null,
        },
        {
          alertname: 'HostHighCpu',
          severity: 'warning',
          instance: 'web-1:9100',
          job: 'hostscope',
          status: 'firing',
          starts_at: cpuAgain.startsAt,
          ends_at: null,
          duration_seconds: null,
        },
      ]);
      // Both occurrences of HostHighCpu are the same alert (labels), hence the same fingerprint.
      expect(final[0]?.fingerprint).toBe(final[3]?.fingerprint);
      expect(final[0]?.fingerprint).not.toBe(final[1]?.fingerprint);
      expect(final[0]?.labels).toEqual(cpu.labels);
      expect(final[0]?.annotations).toEqual(cpu.annotations);
      expect(final[0]?.group_key).toBe(
        '{}/{}:{alertname="HostHighCpu", instance="web-1:9100", job="hostscope", severity="warning"}',
      );
      // Every notification kept raw, each distinct payload once.
      const raw = await db.query<{ dup: string }>(
        'SELECT count(*) - count(DISTINCT payload_sha256) AS dup FROM hostscope.alert_notifications',
      );
      expect(Number(raw.rows[0]?.dup)).toBe(0);
      const resolvedRaw = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM hostscope.alert_notifications WHERE status = 'resolved'",
      );
      expect(Number(resolvedRaw.rows[0]?.n)).toBeGreaterThanOrEqual(2);

      // The daily view: HostExporterDown fired once and took exactly its duration to resolve.
      const daily = await db.query<{
        fired: string;
        resolved: string;
        mttr_seconds: number;
        firing_seconds: number;
      }>(
        `SELECT sum(fired) AS fired, sum(resolved) AS resolved, max(mttr_seconds) AS mttr_seconds,
                sum(firing_seconds) AS firing_seconds
           FROM hostscope.alerts_daily WHERE alertname = 'HostExporterDown'`,
      );
      expect(Number(daily.rows[0]?.fired)).toBe(1);
      expect(Number(daily.rows[0]?.resolved)).toBe(1);
      expect(daily.rows[0]?.mttr_seconds).toBeCloseTo((downEnd - Date.parse(down.startsAt)) / 1000, 6);
      expect(daily.rows[0]?.firing_seconds).toBeCloseTo((downEnd - Date.parse(down.startsAt)) / 1000, 6);
    }, 300_000);

    it('refuses a malformed notification with 400 and a log line, and stores nothing of it', async () => {
      const before = { rows: (await rows()).length, raw: await notificationCount() };
      const valid = {
        version: '4',
        groupKey: '{}:{alertname="X"}',
        status: 'firing',
        receiver: 'hostscope-history',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://am',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'X' },
            annotations: {},
            startsAt: '2024-01-01T00:00:00Z',
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: 'abc',
          },
        ],
      };
      const bodies = [
        '{"version": "4", "alerts": [',
        JSON.stringify({ ...valid, version: '3' }),
        JSON.stringify({ ...valid, alerts: [{ ...valid.alerts[0], startsAt: 'yesterday' }] }),
        // One good alert and one bad: all or nothing.
        JSON.stringify({ ...valid, alerts: [valid.alerts[0], { ...valid.alerts[0], fingerprint: '' }] }),
      ];
      for (const body of bodies) {
        const res = await fetch(`${sink.url}/api/v1/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        expect(res.status).toBe(400);
        expect(await res.text()).toContain('malformed Alertmanager notification');
      }
      await waitFor(
        'four log lines',
        async () =>
          (sink.output().match(/malformed notification refused, nothing stored/g) ?? []).length >= 4
            ? true
            : undefined,
        10_000,
        diagnostics,
      );
      expect(sink.output()).toContain('alerts.0.startsAt');
      expect((await rows()).length).toBe(before.rows);
      // (Alertmanager may still re-send the firing ones meanwhile; none of these bodies is stored.)
      const stored = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM hostscope.alert_notifications WHERE group_key = \'{}:{alertname="X"}\'',
      );
      expect(Number(stored.rows[0]?.n)).toBe(0);
      expect(await notificationCount()).toBeGreaterThanOrEqual(before.raw);
    });

    it("counts on the sink's /metrics what the real Alertmanager delivered and what was refused", async () => {
      const stored = async (): Promise<{ notifications: number; malformed: number; last: number }> => {
        const text = await (await fetch(`${sink.url}/metrics`)).text();
        const value = (series: string): number =>
          Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
        return {
          notifications: value('hostscope_sink_alertmanager_notifications_stored_total'),
          malformed: value('hostscope_sink_alertmanager_notifications_rejected_total{reason="malformed"}'),
          last: value('hostscope_sink_alertmanager_last_success_timestamp_seconds'),
        };
      };
      // Alertmanager keeps re-sending the firing ones: the database's count lies between two readings.
      const before = await stored();
      const deliveries = Number(
        (await db.query<{ n: string }>('SELECT sum(times_received) AS n FROM hostscope.alert_notifications'))
          .rows[0]?.n,
      );
      const after = await stored();
      expect(before.notifications).toBeGreaterThan(5);
      expect(deliveries).toBeGreaterThanOrEqual(before.notifications);
      expect(deliveries).toBeLessThanOrEqual(after.notifications);
      // The four malformed bodies of the test before.
      expect(after.malformed).toBe(4);
      expect(after.last).toBeGreaterThan(Date.now() / 1000 - 60);
    });

    it('behind --web.config.file basic auth: 401 and nothing stored without credentials; Alertmanager with basic_auth is stored', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-webhook-auth-'));
      const webConfig = path.join(dir, 'web.yml');
      writeFileSync(
        webConfig,
        ['basic_auth_users:', `  alertmanager: '${bcrypt.hashSync('am-pass', 10)}'`, ''].join('\n'),
      );
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/api/v1/alertmanager`;
      const secured = runSink([
        'sink',
        `--database.url=${pg.url}`,
        '--scrape.target=',
        '--maintain.schedule=',
        '--web.enable-alertmanager-webhook',
        `--web.config.file=${webConfig}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ]);
      let authAm: DaemonProcess | undefined;
      const groupKey = '{}:{alertname="BehindBasicAuth"}';
      const stored = async (): Promise<{ rows: number; raw: number }> => {
        const r = await db.query<{ rows: string; raw: string }>(
          `SELECT (SELECT count(*) FROM hostscope.alerts_history WHERE alertname = 'BehindBasicAuth') AS rows,
                  (SELECT count(*) FROM hostscope.alert_notifications WHERE group_key LIKE '%BehindBasicAuth%') AS raw`,
        );
        return { rows: Number(r.rows[0]?.rows), raw: Number(r.rows[0]?.raw) };
      };
      const basic = (user: string, pass: string): string =>
        `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      try {
        await secured.waitFor(/hostscope sink started/);
        const body = JSON.stringify({
          version: '4',
          groupKey,
          status: 'firing',
          receiver: 'hostscope-history',
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: 'http://am',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'BehindBasicAuth', instance: 'auth-1:9100' },
              annotations: {},
              startsAt: '2024-01-01T00:00:00Z',
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: '',
              fingerprint: 'auth0001',
            },
          ],
        });
        // No credentials, then a wrong password: 401 before the handler, nothing stored (the requests
        // have completed, so nothing can still be on its way to the database).
        for (const authorization of [undefined, basic('alertmanager', 'wrong')]) {
          const res = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(authorization === undefined ? {} : { authorization }),
            },
            body,
          });
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe('Basic');
        }
        expect(await stored()).toEqual({ rows: 0, raw: 0 });

        // With the credentials: stored.
        const ok = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basic('alertmanager', 'am-pass') },
          body,
        });
        expect(ok.status).toBe(200);
        expect(await stored()).toEqual({ rows: 1, raw: 1 });

        // The real Alertmanager, its webhook receiver logging in with http_config.basic_auth.
        const amConfig = path.join(dir, 'alertmanager.yml');
        writeFileSync(
          amConfig,
          [
            'route:',
            '  receiver: history',
            '  group_by: [alertname]',
            '  group_wait: 1s',
            '  group_interval: 1s',
            '  repeat_interval: 1h',
            'receivers:',
            '  - name: history',
            '    webhook_configs:',
            `      - url: ${url}`,
            '        send_resolved: true',
            '        http_config:',
            '          basic_auth:',
            '            username: alertmanager',
            '            password: am-pass',
            '',
          ].join('\n'),
        );
        authAm = await startDaemon({
          name: 'Alertmanager',
          command: ALERTMANAGER,
          args: (amPort, amUrl, dataDir) => [
            `--config.file=${amConfig}`,
            `--storage.path=${dataDir}`,
            `--web.listen-address=127.0.0.1:${amPort}`,
            `--web.external-url=${amUrl}`,
            '--cluster.listen-address=',
            '--log.level=debug',
          ],
          readyPath: '/-/ready',
        });
        const startsAt = new Date(base + 5 * MINUTE).toISOString();
        const res = await fetch(`${authAm.url}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            {
              labels: { alertname: 'BehindBasicAuth', instance: 'auth-2:9100', severity: 'warning' },
              startsAt,
              endsAt: farFuture,
            },
          ]),
        });
        expect(res.status).toBe(200);
        await waitFor(
          "the occurrence from Alertmanager's authenticated webhook",
          async () => {
            const r = await db.query<{ starts_at: Date; receiver: string }>(
              `SELECT starts_at, receiver FROM hostscope.alerts_history
                WHERE alertname = 'BehindBasicAuth' AND instance = 'auth-2:9100'`,
            );
            return r.rows.length > 0 ? r.rows : undefined;
          },
          60_000,
          () =>
            `--- sink:\n${secured.output().slice(-4000)}\n--- alertmanager:\n${authAm?.output().slice(-4000) ?? ''}`,
        ).then((r) => {
          expect(r).toHaveLength(1);
          expect(r[0]?.starts_at.toISOString()).toBe(startsAt);
          expect(r[0]?.receiver).toBe('history');
        });
      } finally {
        await authAm?.stop();
        if (secured.child.exitCode === null && secured.child.signalCode === null) {
          secured.child.kill('SIGTERM');
          await secured.exited;
        }
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  },
);
