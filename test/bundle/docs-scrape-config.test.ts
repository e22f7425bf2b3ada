import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI, startExporterProcess, type ExporterProcess } from '../helpers/exporter-process';
import {
  PROMETHEUS,
  PROMETHEUS_DIR,
  PROMTOOL,
  REPO,
  run,
  startPrometheus,
  waitFor,
  type PrometheusProcess,
} from '../helpers/prometheus';
import { describeWithService } from '../helpers/services';

/** The scrape_config snippet of docs/prometheus.md: the first yaml block after its marker comment. */
function scrapeSnippet(): string {
  const doc = readFileSync(path.join(REPO, 'docs/prometheus.md'), 'utf8');
  const after = doc.slice(doc.indexOf('<!-- scrape-config-snippet -->'));
  const m = /```yaml\n([\s\S]*?)```/.exec(after);
  if (m?.[1] === undefined) throw new Error('docs/prometheus.md: no yaml block after the snippet marker');
  return m[1];
}

describeWithService(
  'prometheus and a built dist/',
  () => existsSync(PROMETHEUS) && existsSync(PROMTOOL) && existsSync(CLI),
  'docs/prometheus.md scrape_config snippet (real Prometheus)',
  () => {
    let tmp: string;
    let exporter: ExporterProcess | undefined;
    let prom: PrometheusProcess | undefined;
    afterAll(async () => {
      await prom?.stop();
      await exporter?.stop();
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    });

    it('loads into Prometheus with the bundled rules and scrapes the real exporter', async () => {
      tmp = mkdtempSync(path.join(tmpdir(), 'hostscope-docs-'));
      exporter = await startExporterProcess([]);
      const snippet = scrapeSnippet();
      expect(snippet).toContain('job_name: hostscope');
      // The documented targets, pointed at this test's exporter; everything else as documented.
      const config = [
        'global:',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(path.join(PROMETHEUS_DIR, 'rules', '*.yml'))}`,
        snippet
          .replace(/scrape_interval: \S+/, 'scrape_interval: 1s')
          .replace(/scrape_timeout: \S+/, 'scrape_timeout: 1s')
          .replace(/'web1\.example\.com:9100'/, `'127.0.0.1:${exporter.port}'`)
          .replace(/\n\s+- 'db1\.example\.com:9100'/, ''),
      ].join('\n');
      const file = path.join(tmp, 'prometheus.yml');
      writeFileSync(file, config);
      const check = run(PROMTOOL, ['check', 'config', file]);
      if (check.status !== 0) throw new Error(check.output);

      prom = await startPrometheus(file);
      const url = prom.url;
      const series = await waitFor(
        'the exporter to be scraped and the recording rules to produce',
        async () => {
          const q = encodeURIComponent(
            'up{job="hostscope"} == 1 and on (instance) instance:node_num_cpu:sum',
          );
          const body = (await (await fetch(`${url}/api/v1/query?query=${q}`)).json()) as {
            data: { result: { metric: Record<string, string> }[] };
          };
          return body.data.result.length === 1 ? body.data.result : undefined;
        },
        60_000,
        () => prom?.output() ?? '',
      );
      expect(series[0]?.metric.instance).toBe(`127.0.0.1:${exporter.port}`);
    }, 120_000);
  },
);
