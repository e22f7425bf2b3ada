import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { runCli, startExporterProcess, type ExporterProcess } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { PROMETHEUS } from '../../helpers/prometheus';
import { describeWithService, hasBinary } from '../../helpers/services';
import { httpsRequest, makePki, OPENSSL, type TestPki } from '../../helpers/tls';
import type { DaemonProcess } from '../../helpers/daemon';
import { eventually, query } from '../sink/harness';
import { metricValue, prometheusWith, remoteSink, type RemoteSink } from './helpers';

const available = (): boolean => hasPostgres() && hasBinary(PROMETHEUS) && hasBinary(OPENSSL);

/**
 * --web.config.file with the real Prometheus 2.42: it scrapes the exporter over TLS with a client
 * certificate and basic auth, and remote-writes to the sink over TLS with basic auth; the samples reach
 * PostgreSQL. A wrong password gets 401 (scrape and remote write), and nothing sent with it is stored.
 * Certificates, a CA and a client certificate are made with openssl, the hashes with bcryptjs.
 */
describeWithService(
  'PostgreSQL, Prometheus and openssl',
  available,
  'TLS and basic auth on the exporter and the sink (real Prometheus)',
  () => {
    let dir: string;
    let pki: TestPki;
    let ca: Buffer;
    let pg: PgServer;
    let exporter: ExporterProcess;
    let sink: RemoteSink;
    let prom: DaemonProcess | undefined;
    let sinkWeb: string;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'hostscope-tls-'));
      pki = makePki(dir);
      ca = readFileSync(pki.caCert);
      // Relative paths: resolved against the web config file's directory, as exporter-toolkit does.
      writeFileSync(
        path.join(dir, 'exporter-web.yml'),
        [
          'tls_server_config:',
          '  cert_file: server.crt',
          '  key_file: server.key',
          '  client_auth_type: RequireAndVerifyClientCert',
          '  client_ca_file: ca.crt',
          '  min_version: TLS12',
          'basic_auth_users:',
          `  prometheus: '${bcrypt.hashSync('scrape-pass', 10)}'`,
          '',
        ].join('\n'),
      );
      // The sink's certificate is a copy, replaced later to check that a new one applies without a restart.
      copyFileSync(pki.serverCert, path.join(dir, 'sink.crt'));
      copyFileSync(pki.serverKey, path.join(dir, 'sink.key'));
      sinkWeb = path.join(dir, 'sink-web.yml');
      writeFileSync(
        sinkWeb,
        [
          'tls_server_config:',
          `  cert_file: ${path.join(dir, 'sink.crt')}`,
          `  key_file: ${path.join(dir, 'sink.key')}`,
          'basic_auth_users:',
          `  writer: ${bcrypt.hashSync('write-pass', 10).replace('$2b$', '$2y$')}`,
          '',
        ].join('\n'),
      );
      pg = await startPostgres();
      exporter = await startExporterProcess([`--web.config.file=${path.join(dir, 'exporter-web.yml')}`]);
      sink = remoteSink(await freePort(), pg.url, [`--web.config.file=${sinkWeb}`]);
      await sink.start();
    }, 120_000);

    afterAll(async () => {
      await prom?.stop();
      await sink?.stop();
      sink?.cleanup();
      await exporter?.stop();
      await pg?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses plain HTTP, a missing or wrong password, and a client without a certificate', async () => {
      const sinkUrl = `https://127.0.0.1:${sink.port}`;
      const none = await httpsRequest(`${sinkUrl}/metrics`, { ca });
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Basic');
      expect((await httpsRequest(`${sinkUrl}/health`, { ca, auth: 'writer:nope' })).status).toBe(401);
      expect((await httpsRequest(`${sinkUrl}/health`, { ca, auth: 'writer:write-pass' })).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${sink.port}/health`)).rejects.toThrow();

      const exporterUrl = `https://127.0.0.1:${exporter.port}/metrics`;
      // RequireAndVerifyClientCert: no certificate, no handshake.
      await expect(httpsRequest(exporterUrl, { ca, auth: 'prometheus:scrape-pass' })).rejects.toThrow();
      const client = { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) };
      expect((await httpsRequest(exporterUrl, { ...client, auth: 'prometheus:wrong' })).status).toBe(401);
      const ok = await httpsRequest(exporterUrl, { ...client, auth: 'prometheus:scrape-pass' });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('node_load1');
    });

    it('Prometheus scrapes over TLS + basic auth and remote-writes with basic_auth; a wrong password stores nothing', async () => {
      const tls = (extra: string[]): string[] => [
        '    tls_config:',
        `      ca_file: ${pki.caCert}`,
        ...extra,
      ];
      const clientTls = tls([`      cert_file: ${pki.clientCert}`, `      key_file: ${pki.clientKey}`]);
      const sinkUrl = `https://127.0.0.1:${sink.port}/api/v1/write`;
      prom = await prometheusWith(
        [
          'global:',
          '  scrape_interval: 1s',
          'scrape_configs:',
          '  - job_name: node',
          '    scheme: https',
          '    basic_auth: { username: prometheus, password: scrape-pass }',
          ...clientTls,
          '    static_configs:',
          `      - targets: ['127.0.0.1:${exporter.port}']`,
          '  - job_name: node-wrong-password',
          '    scheme: https',
          '    basic_auth: { username: prometheus, password: not-it }',
          ...clientTls,
          '    static_configs:',
          `      - targets: ['127.0.0.1:${exporter.port}']`,
          'remote_write:',
          `  - url: ${sinkUrl}`,
          '    name: right',
          '    basic_auth: { username: writer, password: write-pass }',
          ...tls([]),
          '    queue_config: { batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }',
          `  - url: ${sinkUrl}`,
          '    name: wrong',
          '    basic_auth: { username: writer, password: wrong-pass }',
          ...tls([]),
          '    queue_config: { batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }',
          // Marks what this queue sends, to look for it in PostgreSQL.
          '    write_relabel_configs:',
          '      - { target_label: sent_with, replacement: wrong-password }',
          '',
        ].join('\n'),
      );
      const p = prom;
      await eventually(
        async () => {
          const rows = await query<{ n: string }>(
            pg.url,
            `SELECT count(*) AS n FROM hostscope.samples WHERE metric = 'node_load1' AND labels->>'job' = 'node'`,
          );
          return Number(rows[0]?.n) > 0;
        },
        'node_load1 scraped over TLS and remote-written to PostgreSQL',
        60_000,
      );
      // The wrong scrape password: the target is down with 401 (once Prometheus has scraped it: each
      // scrape pool starts at its own offset within the interval).
      // (GET: the targets API takes no POST.)
      type Target = { scrapePool: string; health: string; lastError: string };
      let wrong: Target | undefined;
      await eventually(
        async () => {
          const targets = (
            (await (await fetch(`${p.url}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } }
          ).data;
          wrong = targets.activeTargets.find((t) => t.scrapePool === 'node-wrong-password');
          return wrong !== undefined && wrong.health !== 'unknown';
        },
        'the wrong-password target scraped once',
        60_000,
      );
      expect(wrong?.health).toBe('down');
      expect(wrong?.lastError).toContain('401');
      // The wrong remote write password: Prometheus' failed-samples counter of that queue rises ...
      await eventually(
        async () => {
          const text = await (await fetch(`${p.url}/metrics`)).text();
          return (
            metricValue(text, 'prometheus_remote_storage_samples_failed_total', 'remote_name="wrong"') > 0
          );
        },
        'samples failed on the remote write queue with the wrong password',
        60_000,
      );
      // ... and nothing it sent is in PostgreSQL, while the right queue's samples are.
      const rows = await query<{ wrong: string; right: string }>(
        pg.url,
        `SELECT count(*) FILTER (WHERE labels ? 'sent_with') AS wrong, count(*) FILTER (WHERE NOT labels ? 'sent_with') AS right
           FROM hostscope.samples`,
      );
      expect(Number(rows[0]?.wrong)).toBe(0);
      expect(Number(rows[0]?.right)).toBeGreaterThan(0);
      // The receiver counted only authenticated requests (401 is answered before it). (The webhook's
      // counters list every outcome, 401 included, at 0.)
      const sinkMetrics = await httpsRequest(`https://127.0.0.1:${sink.port}/metrics`, {
        ca,
        auth: 'writer:write-pass',
      });
      expect(sinkMetrics.body).toContain('hostscope_sink_remote_write_requests_total{code="204"}');
      expect(sinkMetrics.body).not.toContain('hostscope_sink_remote_write_requests_total{code="401"}');
    }, 180_000);

    it('applies a new certificate and a changed password without a restart', async () => {
      const url = `https://127.0.0.1:${sink.port}/health`;
      const before = await httpsRequest(url, { ca, auth: 'writer:write-pass' });
      const next = makePki(dir, 'rotated');
      copyFileSync(next.serverCert, path.join(dir, 'sink.crt'));
      copyFileSync(next.serverKey, path.join(dir, 'sink.key'));
      const after = await httpsRequest(url, { ca, auth: 'writer:write-pass' });
      expect(after.status).toBe(200);
      expect(after.serial).not.toBe(before.serial);

      writeFileSync(
        sinkWeb,
        readFileSync(sinkWeb, 'utf8').replace(/writer: .*/, `writer: '${bcrypt.hashSync('new-pass', 10)}'`),
      );
      expect((await httpsRequest(url, { ca, auth: 'writer:write-pass' })).status).toBe(401);
      expect((await httpsRequest(url, { ca, auth: 'writer:new-pass' })).status).toBe(200);

      // A broken file is logged and the last valid one stays in force.
      writeFileSync(sinkWeb, 'tls_server_config:\n  cert_file: nowhere.crt\n');
      expect((await httpsRequest(url, { ca, auth: 'writer:new-pass' })).status).toBe(200);
      expect(sink.proc.output()).toContain('web config file is invalid');
    }, 60_000);

    it('exits 2 naming every problem of an invalid file', async () => {
      const bad = path.join(dir, 'bad-web.yml');
      writeFileSync(
        bad,
        'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n  min_version: TLS14\nbasic_auth_users:\n  admin: admin\nextra: 1\n',
      );
      for (const command of ['exporter', 'sink']) {
        const r = await runCli([command, `--web.config.file=${bad}`, '--web.listen-address=127.0.0.1:0']);
        expect([command, r.code]).toEqual([command, 2]);
        expect(r.stderr).toContain(
          'tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13',
        );
        expect(r.stderr).toContain('basic_auth_users.admin: not a bcrypt hash');
        expect(r.stderr).toContain('extra: unknown key');
        expect(r.stderr).not.toMatch(/admin: admin/);
      }
      writeFileSync(bad, 'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n');
      const r = await runCli(['exporter', `--web.config.file=${bad}`, '--web.listen-address=127.0.0.1:0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('tls_server_config.cert_file: cannot read');
      expect(r.stderr).toContain('tls_server_config.key_file: cannot read');
    });
  },
);
