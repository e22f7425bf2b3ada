import { startExporterProcess, type ExporterProcess } from '../../helpers/exporter-process';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { PROMETHEUS } from '../../helpers/prometheus';
import { describeWithService, hasBinary } from '../../helpers/services';
import type { DaemonProcess } from '../../helpers/daemon';
import { eventually, query, sleep } from '../sink/harness';
import {
  metricSum,
  metricValue,
  prometheusWith,
  promApi,
  promValue,
  remoteSink,
  seriesKey,
  type PromSeries,
  type RemoteSink,
} from './helpers';

const available = (): boolean => hasPostgres() && hasBinary(PROMETHEUS);

/**
 * The real Prometheus 2.42 scrapes the real exporter and remote-writes to the sink; the sink is killed
 * (SIGKILL) for 20 s in the middle and restarted. Prometheus keeps the samples in its WAL and retries,
 * so afterwards PostgreSQL must hold every sample Prometheus holds, value for value. A second
 * Prometheus with an empty TSDB reads the same window back through remote read.
 */
describeWithService(
  'PostgreSQL and Prometheus',
  available,
  'remote write and read with the real Prometheus',
  () => {
    let pg: PgServer;
    let exporter: ExporterProcess;
    let sink: RemoteSink;
    let promA: DaemonProcess | undefined;
    let promB: DaemonProcess | undefined;

    beforeAll(async () => {
      pg = await startPostgres();
      exporter = await startExporterProcess([]);
      sink = remoteSink(await freePort(), pg.url);
      await sink.start();
    }, 120_000);

    afterAll(async () => {
      await promB?.stop();
      await promA?.stop();
      await sink?.stop();
      sink?.cleanup();
      await exporter?.stop();
      await pg?.destroy();
    });

    it('stores every sample Prometheus holds across a sink crash, and serves them back by remote read', async () => {
      promA = await prometheusWith(`
global:
  scrape_interval: 2s
  evaluation_interval: 1m
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:${exporter.port}']
remote_write:
  - url: http://127.0.0.1:${sink.port}/api/v1/write
    queue_config:
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send_interval: 5s
`);
      const a = promA;
      const remoteMetrics = async (): Promise<string> => (await fetch(`${a.url}/metrics`)).text();
      const stored = async (): Promise<number> =>
        Number((await query<{ n: string }>(pg.url, 'SELECT count(*) AS n FROM hostscope.samples'))[0]?.n);
      await eventually(async () => (await stored()) > 0, 'the first remote-written samples', 60_000);
      await sleep(8_000);

      await sink.kill();
      const before = await stored();
      await sleep(20_000);
      await sink.start();
      // Not a timing assertion: wait until Prometheus has sent everything up to a point after the restart.
      await sleep(6_000);
      const end = Math.floor(Date.now() / 1000) - 1;
      const window = 600;
      const compare = async (): Promise<{
        inProm: Map<string, number>;
        missing: string[];
        different: string[];
        extra: string[];
      }> => {
        // Every raw sample Prometheus holds up to `end`...
        const raw = await promApi<{ result: PromSeries[] }>(a.url, '/api/v1/query', {
          query: `{__name__=~".+"}[${window}s]`,
          time: String(end),
        });
        const inProm = new Map<string, number>();
        for (const s of raw.result)
          for (const [t, v] of s.values)
            inProm.set(`${seriesKey(s.metric)}@${Math.round(t * 1000)}`, promValue(v));
        // ...and every sample PostgreSQL holds in the same window.
        const rows = await query<{
          metric: string;
          labels: Record<string, string>;
          t: string;
          value: number;
        }>(
          pg.url,
          `SELECT metric, labels, (extract(epoch FROM time) * 1000)::bigint AS t, value
           FROM hostscope.samples
          WHERE time > to_timestamp($1) - make_interval(secs => $2) AND time <= to_timestamp($1)`,
          [end, window],
        );
        const inPg = new Map<string, number>();
        for (const r of rows) inPg.set(`${seriesKey({ ...r.labels, __name__: r.metric })}@${r.t}`, r.value);
        const missing: string[] = [];
        const different: string[] = [];
        for (const [k, v] of inProm) {
          const got = inPg.get(k);
          if (got === undefined) missing.push(k);
          else if (!Object.is(got, v) && !(Number.isNaN(got) && Number.isNaN(v)))
            different.push(`${k}: ${v} != ${got}`);
        }
        // Extra rows in PostgreSQL can only be staleness markers (NaN), which the query API never shows.
        const extra = [...inPg].filter(([k, v]) => !inProm.has(k) && !Number.isNaN(v)).map(([k]) => k);
        return { inProm, missing, different, extra };
      };
      // Not a timing assertion: wait until Prometheus has delivered everything up to `end` (its shards
      // send independently, so no single metric of its says so).
      let result = await compare();
      const deadline = Date.now() + 120_000;
      while (result.missing.length > 0 && Date.now() < deadline) {
        await sleep(2_000);
        result = await compare();
      }
      const m = await remoteMetrics();
      const { inProm, missing, different, extra } = result;
      if (missing.length > 0)
        process.stderr.write(
          `${m
            .split('\n')
            .filter((l) => l.startsWith('prometheus_remote_storage'))
            .join('\n')}\n${sink.proc.output().slice(-3000)}\n`,
        );
      expect(metricSum(m, 'prometheus_remote_storage_samples_failed_total')).toBe(0);
      expect(metricSum(m, 'prometheus_remote_storage_samples_retried_total')).toBeGreaterThan(0);
      expect(await stored()).toBeGreaterThan(before);
      expect(inProm.size).toBeGreaterThan(1000);
      expect({ missing: missing.slice(0, 5), missingCount: missing.length }).toEqual({
        missing: [],
        missingCount: 0,
      });
      expect(different.slice(0, 5)).toEqual([]);
      expect(extra.slice(0, 5)).toEqual([]);

      // A second Prometheus, empty, reading the sink: the same query_range answers.
      promB = await prometheusWith(`
global:
  scrape_interval: 1m
remote_read:
  - url: http://127.0.0.1:${sink.port}/api/v1/read
    read_recent: true
`);
      const range = { start: String(end - 90), end: String(end), step: '5' };
      for (const q of [
        '{__name__=~"node_.+"}',
        'rate(node_cpu_seconds_total[30s])',
        'up',
        'scrape_samples_scraped',
      ]) {
        const fromA = await promApi<{ result: PromSeries[] }>(a.url, '/api/v1/query_range', {
          query: q,
          ...range,
        });
        const fromB = await promApi<{ result: PromSeries[] }>(promB.url, '/api/v1/query_range', {
          query: q,
          ...range,
        });
        const norm = (r: PromSeries[]): Record<string, [number, string][]> =>
          Object.fromEntries(r.map((s) => [seriesKey(s.metric), s.values]).sort());
        expect(fromA.result.length).toBeGreaterThan(0);
        expect(norm(fromB.result)).toEqual(norm(fromA.result));
      }
      const sinkMetrics = await (await fetch(`http://127.0.0.1:${sink.port}/metrics`)).text();
      expect(
        metricValue(sinkMetrics, 'hostscope_sink_remote_read_requests_total', 'code="200"'),
      ).toBeGreaterThan(0);
    }, 300_000);
  },
);
