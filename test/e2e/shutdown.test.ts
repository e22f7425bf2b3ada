import http from 'node:http';
import type { CollectorDefinition } from '../../src/collectors/types';
import type { ExporterConfig } from '../../src/exporter/config';
import { startExporter } from '../../src/exporter/main';
import { silentLogger } from '../../src/log/logger';
import { MetricSet } from '../../src/metrics/metric-set';
import { FIXTURE_PATHS } from '../helpers/collect';

/** A collector whose close() never settles, like one waiting on an engine that stopped answering. */
const stuckOnClose: CollectorDefinition = {
  name: 'stuck',
  defaultEnabled: true,
  help: 'test',
  create: () => ({
    update: async () => new MetricSet().gauge('stuck_value', 'v', 1).families(),
    close: () => new Promise<void>(() => undefined),
  }),
};

const config: ExporterConfig = {
  listen: { host: '127.0.0.1', port: 0 },
  listenAddress: '127.0.0.1:0',
  telemetryPath: '/metrics',
  maxRequests: 40,
  disableExporterMetrics: true,
  paths: FIXTURE_PATHS,
  log: { level: 'error', format: 'json' },
  collectorTimeoutMs: 5000,
  inventoryIntervalMs: 0,
  memoryTrim: false,
  collectors: [{ definition: stuckOnClose, options: {} }],
};

describe('exporter shutdown', () => {
  it('finishes despite a keep-alive scraper and a collector whose close() hangs', async () => {
    const exporter = await startExporter(config, silentLogger());
    const agent = new http.Agent({ keepAlive: true });
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: exporter.port, path: '/metrics', agent }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toContain('stuck_value 1');
    // The agent keeps its socket open; stop() must still return (jest's timeout fails a hang).
    await exporter.stop();
    agent.destroy();
  }, 30_000);
});
