import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { PROMETHEUS, PROMTOOL, REPO, run } from '../../helpers/prometheus';
import { describeWithService, hasBinary } from '../../helpers/services';
import type { DaemonProcess } from '../../helpers/daemon';
import { sinkFlagSpecs } from '../../../src/sink/config';
import { eventually, query } from '../sink/harness';
import { prometheusWith, remoteSink, type RemoteSink } from './helpers';

/** The remote_write/remote_read snippet of docs/prometheus.md: the first yaml block after its marker. */
function remoteSnippet(): string {
  const doc = readFileSync(path.join(REPO, 'docs/prometheus.md'), 'utf8');
  const after = doc.slice(doc.indexOf('<!-- remote-storage-snippet -->'));
  const m = /```yaml\n([\s\S]*?)```/.exec(after);
  if (m?.[1] === undefined)
    throw new Error('docs/prometheus.md: no yaml block after the remote snippet marker');
  return m[1];
}

describeWithService(
  'PostgreSQL and Prometheus',
  () => hasPostgres() && hasBinary(PROMETHEUS) && hasBinary(PROMTOOL),
  'docs/prometheus.md remote_write/remote_read snippet (real Prometheus)',
  () => {
    let pg: PgServer;
    let sink: RemoteSink;
    let prom: DaemonProcess | undefined;
    let tmp: string;

    beforeAll(async () => {
      pg = await startPostgres();
      sink = remoteSink(await freePort(), pg.url);
      await sink.start();
      tmp = mkdtempSync(path.join(tmpdir(), 'hostscope-remote-docs-'));
    }, 120_000);

    afterAll(async () => {
      await prom?.stop();
      await sink?.stop();
      sink?.cleanup();
      await pg?.destroy();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('passes promtool, loads into Prometheus, and its samples and metadata reach PostgreSQL', async () => {
      const snippet = remoteSnippet().replaceAll('sink.example.com:9101', `127.0.0.1:${sink.port}`);
      expect(snippet).toContain('/api/v1/write');
      expect(snippet).toContain('/api/v1/read');
      // Queue settings sized for the sink: a full batch, at a generous 300 bytes per sample with its
      // labels before compression, stays under the default --remote-write.max-body-bytes.
      const setting = (name: string): number =>
        Number(new RegExp(`\\n\\s+${name}: (\\d+)`).exec(snippet)?.[1]);
      for (const name of ['capacity', 'max_samples_per_send', 'max_shards'])
        expect([name, setting(name) > 0]).toEqual([name, true]);
      expect(snippet).toMatch(/\n\s+batch_send_deadline: \d+s\n/);
      const maxBody = sinkFlagSpecs().find((f) => f.name === 'remote-write.max-body-bytes')?.default;
      expect(setting('max_samples_per_send') * 300).toBeLessThan(Number(maxBody));
      expect(setting('capacity')).toBeGreaterThanOrEqual(2 * setting('max_samples_per_send'));
      const config = [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: sink',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${sink.port}']`,
        snippet.replace('send_interval: 1m', 'send_interval: 2s'),
      ].join('\n');
      const file = path.join(tmp, 'prometheus.yml');
      writeFileSync(file, config);
      const check = run(PROMTOOL, ['check', 'config', file]);
      if (check.status !== 0) throw new Error(check.output);
      prom = await prometheusWith(config);
      await eventually(
        async () => {
          const rows = await query<{ type: string; is_counter: boolean }>(
            pg.url,
            `SELECT m.type, m.is_counter FROM hostscope.samples s JOIN hostscope.metrics m ON m.name = s.metric
              WHERE s.metric = 'hostscope_sink_remote_write_requests_total' AND s.labels->>'job' = 'sink' LIMIT 1`,
          );
          return rows[0]?.type === 'counter' && rows[0].is_counter;
        },
        'remote-written samples and metadata in PostgreSQL',
        60_000,
      );
    }, 120_000);
  },
);
