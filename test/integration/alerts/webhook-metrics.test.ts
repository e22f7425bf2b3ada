/**
 * The Alertmanager webhook's metrics on the sink's /metrics, from the real sink process (built CLI) with a
 * private PostgreSQL, behind `--web.config.file` basic auth: every outcome is provoked once or twice
 * (stored, re-sent, malformed, unauthorized, too large, database away) and the counters must match
 * exactly, and agree with what the database holds.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { parseExposition } from '../../../src/expfmt/parse';
import { CLI } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { query, runCli, type CliProcess } from '../sink/harness';

const available = (): boolean => existsSync(CLI) && hasPostgres();

const basic = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const AUTH = basic('alertmanager', 'am-pass');

function notification(alertnames: readonly string[], groupKey: string): string {
  return JSON.stringify({
    version: '4',
    groupKey,
    status: 'firing',
    receiver: 'hostscope-history',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am',
    alerts: alertnames.map((alertname, i) => ({
      status: 'firing',
      labels: { alertname, instance: `web-${i}:9100` },
      annotations: {},
      startsAt: '2024-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: `f${i}${alertname}`,
    })),
  });
}

describeWithService('PostgreSQL and a built dist/', available, 'Alertmanager webhook metrics', () => {
  let pg: PgServer;
  let sink: CliProcess;
  let base: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-webhook-metrics-'));

  const post = async (body: string | Buffer, authorization: string | null = AUTH): Promise<number> => {
    const res = await fetch(`${base}/api/v1/alertmanager`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization === null ? {} : { authorization }),
      },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  };

  /** The sink's hostscope_sink_alertmanager_* samples as `name{labels}` -> value. */
  const metrics = async (): Promise<Record<string, number>> => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: AUTH } });
    expect(res.status).toBe(200);
    const out: Record<string, number> = {};
    for (const f of parseExposition(await res.text(), 'text'))
      for (const s of f.samples)
        if (s.name.startsWith('hostscope_sink_alertmanager_')) {
          const labels = Object.entries(s.labels)
            .sort()
            .map(([k, v]) => `${k}="${v}"`)
            .join(',');
          out[labels === '' ? s.name : `${s.name}{${labels}}`] = s.value;
        }
    return out;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    const webConfig = path.join(dir, 'web.yml');
    writeFileSync(
      webConfig,
      ['basic_auth_users:', `  alertmanager: '${bcrypt.hashSync('am-pass', 10)}'`, ''].join('\n'),
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sink = runCli([
      'sink',
      `--database.url=${pg.url}`,
      '--scrape.target=',
      '--maintain.schedule=',
      '--web.enable-alertmanager-webhook',
      `--web.config.file=${webConfig}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    await sink.waitFor(/hostscope sink started/);
  }, 120_000);

  afterAll(async () => {
    if (sink !== undefined && sink.child.exitCode === null && sink.child.signalCode === null) {
      sink.child.kill('SIGTERM');
      await sink.exited;
    }
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves every series at zero before the first request', async () => {
    expect(await metrics()).toEqual({
      hostscope_sink_alertmanager_alerts_stored_total: 0,
      hostscope_sink_alertmanager_last_success_timestamp_seconds: 0,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="malformed"}': 0,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="too_large"}': 0,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="unauthorized"}': 0,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="unreadable"}': 0,
      hostscope_sink_alertmanager_notifications_repeated_total: 0,
      hostscope_sink_alertmanager_notifications_stored_total: 0,
      'hostscope_sink_alertmanager_requests_total{code="200",outcome="stored"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="400",outcome="malformed"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="400",outcome="unreadable"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="401",outcome="unauthorized"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="413",outcome="too_large"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="500",outcome="failed"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="503",outcome="database_unavailable"}': 0,
    });
  });

  it('counts each outcome, the alerts stored and the time of the last success', async () => {
    const before = Date.now() / 1000;
    const two = notification(['HighCpu', 'DiskFull'], '{}:{group="two"}');
    expect(await post(two)).toBe(200);
    expect(await post(two)).toBe(200); // a re-send: stored again (counted), changes no occurrence
    expect(await post(notification(['Single'], '{}:{group="one"}'))).toBe(200);
    const after = Date.now() / 1000;
    expect(await post('{"version": "4", "alerts": [')).toBe(400);
    expect(await post(two, null)).toBe(401);
    expect(await post(two, basic('alertmanager', 'wrong'))).toBe(401);
    // A 401 on another path (the sink's own /metrics) is not the webhook's.
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    // Over the 16 MiB bound: refused from its Content-Length, and the rest read and dropped, so that the
    // sender gets the 413 rather than a reset connection.
    expect(await post(Buffer.alloc(16 * 1024 * 1024 + 1, 0x20))).toBe(413);

    const m = await metrics();
    expect(m).toMatchObject({
      'hostscope_sink_alertmanager_requests_total{code="200",outcome="stored"}': 3,
      'hostscope_sink_alertmanager_requests_total{code="400",outcome="malformed"}': 1,
      'hostscope_sink_alertmanager_requests_total{code="400",outcome="unreadable"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="401",outcome="unauthorized"}': 2,
      'hostscope_sink_alertmanager_requests_total{code="413",outcome="too_large"}': 1,
      'hostscope_sink_alertmanager_requests_total{code="500",outcome="failed"}': 0,
      'hostscope_sink_alertmanager_requests_total{code="503",outcome="database_unavailable"}': 0,
      hostscope_sink_alertmanager_notifications_stored_total: 3,
      hostscope_sink_alertmanager_notifications_repeated_total: 1,
      hostscope_sink_alertmanager_alerts_stored_total: 5,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="malformed"}': 1,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="too_large"}': 1,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="unauthorized"}': 2,
      'hostscope_sink_alertmanager_notifications_rejected_total{reason="unreadable"}': 0,
    });
    const last = m['hostscope_sink_alertmanager_last_success_timestamp_seconds'] ?? 0;
    expect(last).toBeGreaterThanOrEqual(before - 0.001);
    expect(last).toBeLessThanOrEqual(after + 0.001);

    // The same figures from the database: every delivery of a distinct payload, and the occurrences.
    const [db] = await query<{ deliveries: string; occurrences: string }>(
      pg.url,
      `SELECT (SELECT sum(times_received) FROM hostscope.alert_notifications) AS deliveries,
              (SELECT count(*) FROM hostscope.alert_occurrences) AS occurrences`,
    );
    expect(Number(db?.deliveries)).toBe(m['hostscope_sink_alertmanager_notifications_stored_total']);
    expect(Number(db?.occurrences)).toBe(3);
  });

  it('counts a notification the database could not take (503), and keeps the last success', async () => {
    const last = (await metrics())['hostscope_sink_alertmanager_last_success_timestamp_seconds'];
    await pg.stop();
    try {
      expect(await post(notification(['WhileDown'], '{}:{group="down"}'))).toBe(503);
    } finally {
      await pg.start();
    }
    const m = await metrics();
    expect(m['hostscope_sink_alertmanager_requests_total{code="503",outcome="database_unavailable"}']).toBe(
      1,
    );
    expect(m['hostscope_sink_alertmanager_notifications_stored_total']).toBe(3);
    expect(m['hostscope_sink_alertmanager_last_success_timestamp_seconds']).toBe(last);
  }, 60_000);
});
