import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { PROMETHEUS } from '../../helpers/prometheus';
import { describeWithService, hasBinary } from '../../helpers/services';
import type { DaemonProcess } from '../../helpers/daemon';
import { eventually, query } from '../sink/harness';
import { metricSum, metricValue, prometheusWith, remoteSink, type RemoteSink } from './helpers';

/**
 * A proxy between the real Prometheus and the sink damages every body (the snappy block is cut in half):
 * the sink answers 400, Prometheus drops the batch and counts it in
 * prometheus_remote_storage_samples_failed_total, and nothing is stored.
 */
describeWithService(
  'PostgreSQL and Prometheus',
  () => hasPostgres() && hasBinary(PROMETHEUS),
  'a malformed remote write body from the real Prometheus',
  () => {
    let pg: PgServer;
    let sink: RemoteSink;
    let proxy: Server;
    let prom: DaemonProcess | undefined;

    beforeAll(async () => {
      pg = await startPostgres();
      sink = remoteSink(await freePort(), pg.url);
      await sink.start();
      proxy = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          void fetch(`http://127.0.0.1:${sink.port}${req.url ?? '/'}`, {
            method: 'POST',
            headers: {
              'Content-Encoding': req.headers['content-encoding'] ?? '',
              'Content-Type': req.headers['content-type'] ?? '',
            },
            body: body.subarray(0, Math.floor(body.length / 2)),
          }).then(async (r) => {
            res.writeHead(r.status, { 'Content-Type': 'text/plain' });
            res.end(Buffer.from(await r.arrayBuffer()));
          });
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    }, 120_000);

    afterAll(async () => {
      await prom?.stop();
      await new Promise<void>((resolve) => {
        proxy?.closeAllConnections();
        proxy?.close(() => resolve());
      });
      await sink?.stop();
      sink?.cleanup();
      await pg?.destroy();
    });

    it('gets 400, shows in samples_failed_total, and stores nothing', async () => {
      const proxyPort = (proxy.address() as AddressInfo).port;
      prom = await prometheusWith(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sink
    static_configs:
      - targets: ['127.0.0.1:${sink.port}']
remote_write:
  - url: http://127.0.0.1:${proxyPort}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
`);
      const p = prom;
      await eventually(
        async () =>
          metricSum(
            await (await fetch(`${p.url}/metrics`)).text(),
            'prometheus_remote_storage_samples_failed_total',
          ) > 0,
        'Prometheus to count failed samples',
        60_000,
      );
      const sinkMetrics = await (await fetch(`http://127.0.0.1:${sink.port}/metrics`)).text();
      expect(
        metricValue(sinkMetrics, 'hostscope_sink_remote_write_requests_total', 'code="400"'),
      ).toBeGreaterThan(0);
      expect(metricValue(sinkMetrics, 'hostscope_sink_remote_write_requests_total', 'code="204"')).toBeNaN();
      const stored = await query<{ n: string }>(pg.url, 'SELECT count(*) AS n FROM hostscope.samples');
      expect(Number(stored[0]?.n)).toBe(0);
      expect(sink.proc.output()).toMatch(
        /remote write request rejected.*|"reason":"malformed remote write body/,
      );
    }, 120_000);
  },
);
