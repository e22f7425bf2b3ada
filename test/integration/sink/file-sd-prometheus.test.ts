import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../../../src/log/logger';
import { parseFileSd } from '../../../src/sink/targets/file-sd.parse';
import { hashmod } from '../../../src/sink/targets/hashmod';
import { TargetSet } from '../../../src/sink/targets/target-set';
import { PROMETHEUS, startPrometheus, waitFor, type PrometheusProcess } from '../../helpers/prometheus';
import { describeWithService } from '../../helpers/services';

/**
 * The real Prometheus is the oracle of file_sd semantics and of hashmod: the same file_sd file goes to
 * Prometheus (with a hashmod relabel into a visible label) and to hostscope's parser, and every target
 * must come out with the same scrape URL, the same labels and the same shard.
 */

const SHARDS = 7;

const FILE = [
  '# every address form, and the labels Prometheus treats specially',
  `- targets: [${Array.from({ length: 30 }, (_, i) => `"node-${i}.example.org:9100"`).join(', ')}]`,
  '  labels: {team: a, env: prod}',
  "- targets: ['b.example', '10.0.0.1:9100', '[::1]:9100', '[2001:db8::1]', 'c.example:80']",
  '  labels:',
  '    port: 9100',
  '    ratio: 1.50',
  '    flag: true',
  '    __meta_dropped: x',
  '    empty: ""',
  "- targets: ['d.example:9100', 'tls.example']",
  '  labels:',
  '    job: custom',
  '    instance: dee',
  '    __scheme__: https',
  '    __metrics_path__: /probe',
  '    __param_module: http_2xx',
  '    __param_target: "x y&z"',
  "- targets: ['UPPER.example:9100']",
].join('\n');

describeWithService(
  'Prometheus',
  () => existsSync(PROMETHEUS),
  'file_sd and hashmod against the real Prometheus',
  () => {
    let dir: string;
    let prom: PrometheusProcess | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'hostscope-file-sd-prom-'));
      writeFileSync(path.join(dir, 'targets.yml'), FILE);
      writeFileSync(
        path.join(dir, 'prometheus.yml'),
        [
          'global: {scrape_interval: 1h}',
          'scrape_configs:',
          '  - job_name: fleet',
          `    file_sd_configs: [{files: ['${path.join(dir, 'targets.yml')}']}]`,
          '    relabel_configs:',
          `      - {source_labels: [__address__], modulus: ${SHARDS}, target_label: shard, action: hashmod}`,
        ].join('\n'),
      );
      prom = await startPrometheus(path.join(dir, 'prometheus.yml'));
    });

    afterAll(async () => {
      await prom?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('makes the same targets, URLs, labels and shards as Prometheus', async () => {
      const ours = parseFileSd(FILE, { job: 'fleet', file: path.join(dir, 'targets.yml') });
      if (!ours.ok) throw new Error(ours.problems.join('\n'));
      type Active = {
        discoveredLabels: Record<string, string>;
        labels: Record<string, string>;
        scrapeUrl: string;
      };
      // Prometheus hands discovered targets to its scrape manager at most every 5 s.
      const active = await waitFor(
        'Prometheus to load the file_sd targets',
        async () => {
          const res = (await (await fetch(`${prom?.url}/api/v1/targets`)).json()) as {
            data: { activeTargets: Active[] };
          };
          return res.data.activeTargets.length === ours.value.length ? res.data.activeTargets : undefined;
        },
        30_000,
        () => prom?.output() ?? '',
      );
      const theirs = active
        .map((t) => {
          const { shard, ...labels } = t.labels;
          return { address: t.discoveredLabels.__address__, url: t.scrapeUrl, labels, shard: Number(shard) };
        })
        .sort((a, b) => (a.url < b.url ? -1 : 1));
      const set = new TargetSet([], { index: 0, count: SHARDS }, silentLogger());
      set.setFile('targets.yml', ours.value, { quiet: true });
      const mine = ours.value
        .map((d) => ({
          address: d.address,
          url: d.target.url,
          labels: { ...(d.target.labels ?? {}), instance: d.target.instance, job: d.target.job },
          shard: set.shardOf(d),
        }))
        .sort((a, b) => (a.url < b.url ? -1 : 1));
      expect(mine).toEqual(theirs);
      for (const t of theirs) expect(hashmod(t.address ?? '', SHARDS)).toBe(t.shard);
      // Every shard got some: the comparison covered each residue.
      expect(new Set(theirs.map((t) => t.shard)).size).toBe(SHARDS);
    });
  },
);
