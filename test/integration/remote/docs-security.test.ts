import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { startExporterProcess, type ExporterProcess } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { PROMETHEUS, PROMTOOL, REPO, run } from '../../helpers/prometheus';
import { describeWithService, hasBinary } from '../../helpers/services';
import { makePki, OPENSSL } from '../../helpers/tls';
import type { DaemonProcess } from '../../helpers/daemon';
import { eventually, query } from '../sink/harness';
import { prometheusWith, remoteSink, type RemoteSink } from './helpers';

/** The first yaml block after a marker comment of docs/security.md. */
function snippet(marker: string): string {
  const doc = readFileSync(path.join(REPO, 'docs/security.md'), 'utf8');
  const at = doc.indexOf(`<!-- ${marker} -->`);
  if (at === -1) throw new Error(`docs/security.md: no <!-- ${marker} --> marker`);
  const m = /```yaml\n([\s\S]*?)```/.exec(doc.slice(at));
  if (m?.[1] === undefined) throw new Error(`docs/security.md: no yaml block after ${marker}`);
  return m[1];
}

describeWithService(
  'PostgreSQL, Prometheus and openssl',
  () => hasPostgres() && hasBinary(PROMETHEUS) && hasBinary(PROMTOOL) && hasBinary(OPENSSL),
  'docs/security.md: the web config and the matching Prometheus config (real Prometheus)',
  () => {
    let dir: string;
    let pg: PgServer;
    let exporter: ExporterProcess;
    let sink: RemoteSink;
    let prom: DaemonProcess | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'hostscope-docs-tls-'));
      makePki(dir);
      const web = snippet('web-config-snippet');
      expect(web).toContain("'<bcrypt hash>'");
      // The documented file as is, with a real hash; its relative paths find server.crt/.key beside it.
      writeFileSync(
        path.join(dir, 'web.yml'),
        web.replace('<bcrypt hash>', bcrypt.hashSync('docs-pass', 10)),
      );
      writeFileSync(path.join(dir, 'hostscope.password'), 'docs-pass');
      pg = await startPostgres();
      exporter = await startExporterProcess([`--web.config.file=${path.join(dir, 'web.yml')}`]);
      sink = remoteSink(await freePort(), pg.url, [`--web.config.file=${path.join(dir, 'web.yml')}`]);
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

    it('passes promtool; Prometheus scrapes over TLS with the password and remote-writes to PostgreSQL', async () => {
      const config = [
        'global:',
        '  scrape_interval: 1s',
        snippet('web-config-prometheus-snippet')
          .replaceAll('/etc/prometheus/hostscope.password', path.join(dir, 'hostscope.password'))
          .replaceAll('/etc/prometheus/hostscope-ca.crt', path.join(dir, 'ca.crt'))
          .replaceAll('web1.example.com:9100', `127.0.0.1:${exporter.port}`)
          .replaceAll('sink.example.com:9101', `127.0.0.1:${sink.port}`),
      ].join('\n');
      const file = path.join(dir, 'prometheus.yml');
      writeFileSync(file, config);
      const check = run(PROMTOOL, ['check', 'config', file]);
      if (check.status !== 0) throw new Error(check.output);
      prom = await prometheusWith(config);
      await eventually(
        async () => {
          const rows = await query<{ n: string }>(
            pg.url,
            `SELECT count(*) AS n FROM hostscope.samples WHERE metric = 'node_load1' AND labels->>'job' = 'hostscope'`,
          );
          return Number(rows[0]?.n) > 0;
        },
        'samples scraped over TLS + basic auth and remote-written over TLS + basic auth',
        60_000,
      );
    }, 120_000);
  },
);
