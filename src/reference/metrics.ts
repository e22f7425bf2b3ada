/**
 * docs/metrics.md: every metric family hostscope can emit, per source, with type, HELP and label names.
 *
 * - Host collectors: the built exporter (dist/cli.js) is run against the fixture tree test/fixtures/host
 *   (the golden test's flags), one collector at a time, so each family is listed under the collector that
 *   emits it, exactly as served on /metrics.
 * - The exporter itself (runner and process metrics): the built exporter with one collector, minus it.
 * - docker: the collector's declared family list (FAMILIES), with the label names of the recorded
 *   golden output (test/fixtures/docker/golden/*.prom).
 * - Inventory and sink: their pure family builders, fed a placeholder snapshot / one scrape.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { COLLECTORS } from '../collectors';
import { FAMILIES as DOCKER_FAMILIES } from '../collectors/docker/families';
import type { CollectorDefinition } from '../collectors/types';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseExposition } from '../expfmt/parse';
import { inventoryFamilies, type InventorySnapshot } from '../inventory/inventory-metrics';
import { mapLimit } from '../map-limit';
import { RemoteMetrics } from '../remote/remote-metrics';
import { SinkMetrics } from '../sink/sink-metrics';
import { AlertWebhookMetrics } from '../alerts/webhook-metrics';
import { fileSdFamilies } from '../sink/targets/file-sd';
import { flagTarget, TargetSet } from '../sink/targets/target-set';
import { silentLogger } from '../log/logger';
import { LiveFeed } from '../web/feed';
import { LiveHub } from '../web/hub';
import { mdCell, mdCode } from './markdown';

export const REPO_ROOT = path.join(__dirname, '../..');
const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/host');
const TEXTFILE_DIR = path.join(REPO_ROOT, 'test/fixtures/textfile');
const DOCKER_GOLDEN = ['v1.prom', 'v2.prom'].map((f) =>
  path.join(REPO_ROOT, 'test/fixtures/docker/golden', f),
);

/** Fixture flags of test/e2e/golden.test.ts. */
const FIXTURE_FLAGS = [
  `--path.procfs=${path.join(FIXTURE, 'proc')}`,
  `--path.sysfs=${path.join(FIXTURE, 'sys')}`,
  `--path.rootfs=${path.join(FIXTURE, 'rootfs')}`,
  `--path.udev.data=${path.join(FIXTURE, 'udev/data')}`,
  `--collector.textfile.directory=${TEXTFILE_DIR}`,
  '--inventory.interval=0',
];

/** Label names that belong to the sample type, not the family (histogram buckets, summary quantiles). */
const SAMPLE_LABELS = new Set(['le', 'quantile']);

export interface FamilyDoc {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly labels: readonly string[];
}

export interface MetricSection {
  readonly title: string;
  readonly intro: string;
  readonly families: readonly FamilyDoc[];
}

interface FamilyLike {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: readonly { readonly labels: Readonly<Record<string, string>> }[];
}

/** Label names of a family; the per-container `container_label_<key>` names collapse into one entry. */
export function familyDoc(f: FamilyLike): FamilyDoc {
  const labels = new Set<string>();
  for (const s of f.samples) {
    for (const k of Object.keys(s.labels)) {
      if (SAMPLE_LABELS.has(k)) continue;
      labels.add(k.startsWith('container_label_') ? 'container_label_<key>' : k);
    }
  }
  return { name: f.name, type: f.type, help: f.help, labels: [...labels].sort() };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Runs the built exporter with `args`, fetches /metrics once, and stops it. */
export async function scrapeBuiltExporter(cli: string, args: readonly string[]): Promise<string> {
  const child = spawn(
    process.execPath,
    [cli, 'exporter', '--web.listen-address=127.0.0.1:0', '--log.format=json', '--log.level=info', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"port":(\d+)/.exec(out);
        if (m !== null) resolve(Number(m[1]));
      });
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      void exited.then((code) => reject(new Error(`exporter exited with ${String(code)}: ${out}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return await res.text();
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

function parseFamilies(text: string): FamilyDoc[] {
  return parseExposition(text, 'text').map(familyDoc);
}

/** Families a host collector emits on the fixture tree (its own only: no runner or self metrics). */
async function hostCollectorFamilies(cli: string, def: CollectorDefinition): Promise<FamilyDoc[]> {
  const text = await scrapeBuiltExporter(cli, [
    ...FIXTURE_FLAGS,
    '--collector.disable-defaults',
    `--collector.${def.name}`,
    '--web.disable-exporter-metrics',
  ]);
  return parseFamilies(text).filter(
    (f) =>
      !f.name.startsWith('node_scrape_collector_') &&
      f.name !== 'hostscope_build_info' &&
      // The textfile collector's own families; the fixture files' metrics are the user's.
      (def.name !== 'textfile' || f.name.startsWith('node_textfile_')),
  );
}

/**
 * Label names of families that have no sample until an event happens: prom-client declares
 * nodejs_gc_duration_seconds (HELP and TYPE only) until the first garbage collection, which may or may
 * not have run by the time of the one scrape.
 */
const LABELS_ONCE_OBSERVED: Readonly<Record<string, readonly string[]>> = {
  nodejs_gc_duration_seconds: ['kind'],
};

/** prom-client's families that had no sample in the scrape (our encoder, like Prometheus, skips those). */
async function declaredOnly(present: ReadonlySet<string>): Promise<FamilyDoc[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const declared = await registry.getMetricsAsJSON();
  return declared
    .filter((m) => !present.has(m.name) && LABELS_ONCE_OBSERVED[m.name] !== undefined)
    .map((m) => ({
      name: m.name,
      type: String(m.type),
      help: m.help,
      labels: LABELS_ONCE_OBSERVED[m.name] ?? [],
    }));
}

/** The runner's and the process's families: a run with one collector, minus that collector's. */
async function exporterSelfFamilies(cli: string, probe: readonly FamilyDoc[]): Promise<FamilyDoc[]> {
  const text = await scrapeBuiltExporter(cli, [
    ...FIXTURE_FLAGS,
    '--collector.disable-defaults',
    '--collector.loadavg',
  ]);
  const own = new Set(probe.map((f) => f.name));
  const parsed = parseFamilies(text).map((f) =>
    f.labels.length === 0 && LABELS_ONCE_OBSERVED[f.name] !== undefined
      ? { ...f, labels: LABELS_ONCE_OBSERVED[f.name] ?? [] }
      : f,
  );
  const all = [...parsed, ...(await declaredOnly(new Set(parsed.map((f) => f.name))))];
  return all.filter((f) => !own.has(f.name));
}

function dockerFamilies(): FamilyDoc[] {
  const labels = new Map<string, FamilyDoc>();
  for (const file of DOCKER_GOLDEN) {
    // The golden files mask values that vary (`<now>`): only the names matter here.
    const text = readFileSync(file, 'utf8').replace(/ <[\w-]+>$/gm, ' 0');
    for (const f of parseFamilies(text)) {
      const prev = labels.get(f.name);
      labels.set(
        f.name,
        prev === undefined ? f : { ...f, labels: [...new Set([...prev.labels, ...f.labels])].sort() },
      );
    }
  }
  // The writable-layer figures (measured every --collector.docker.fs-usage-interval) are not in the
  // recording; they carry the same container and device labels as the block I/O counters.
  const fallback = (name: string): readonly string[] =>
    name.startsWith('container_fs_') ? (labels.get('container_fs_reads_bytes_total')?.labels ?? []) : [];
  return Object.entries(DOCKER_FAMILIES).map(([name, def]) => ({
    name,
    type: def.type,
    help: def.help,
    labels: labels.get(name)?.labels ?? fallback(name),
  }));
}

/** The inventory's families, from a placeholder snapshot with one item of each kind (label names only). */
function inventoryDocs(): FamilyDoc[] {
  const snapshot = {
    cpu: {},
    memory: [{}],
    disks: [{}],
    nics: [{}],
    system: {},
    os: {},
  } as unknown as InventorySnapshot;
  return inventoryFamilies(snapshot).map(familyDoc);
}

function sinkDocs(): FamilyDoc[] {
  const m = new SinkMetrics(() => ({
    samples: 0,
    bytes: 0,
    maxBytes: 1,
    segments: 0,
    droppedSamples: 0,
    corruptSamples: 0,
    failedSamples: 0,
    rejectedSamples: 0,
    skipped: 0,
  }));
  m.scrape('host:9100', true);
  const remote = new RemoteMetrics();
  remote.writeRequest(204);
  remote.readRequest(200);
  const hub = new LiveHub({ maxClients: 1, heartbeatMs: 60_000, backlogPoints: 1, intervalSeconds: 15 });
  const live = new LiveFeed(hub, undefined, silentLogger());
  hub.close();
  const targets = new TargetSet([flagTarget('http://host:9100/metrics', 'node')], undefined, silentLogger());
  return [
    ...m.families(),
    ...targets.families(),
    ...fileSdFamilies(0, [['/etc/hostscope/targets.yml', true]]),
    ...remote.families(),
    ...new AlertWebhookMetrics().families(),
    ...live.families(),
  ].map(familyDoc);
}

export async function metricSections(cli = path.join(REPO_ROOT, 'dist/cli.js')): Promise<MetricSection[]> {
  const host = COLLECTORS.filter((c) => c.name !== 'docker');
  const docker = COLLECTORS.find((c) => c.name === 'docker');
  const perCollector = await mapLimit(host, 4, (def) => hostCollectorFamilies(cli, def));
  const loadavg = perCollector[host.findIndex((c) => c.name === 'loadavg')] ?? [];
  const sections: MetricSection[] = host.map((def, i) => ({
    title: `${def.name} collector`,
    intro: `${def.defaultEnabled ? 'Enabled' : 'Disabled'} by default (\`--${def.defaultEnabled ? 'no-' : ''}collector.${def.name}\` to change). ${def.help}`,
    families: [...(perCollector[i] ?? [])].sort(byName),
  }));
  if (docker !== undefined) {
    sections.push({
      title: 'docker collector',
      intro: `${docker.defaultEnabled ? 'Enabled' : 'Disabled'} by default. ${docker.help} cAdvisor's names, types and HELP texts; \`container_label_<key>\` stands for one label per exported container label (\`--collector.docker.label-include\`).`,
      families: dockerFamilies().sort(byName),
    });
  }
  sections.push(
    {
      title: 'The exporter itself',
      intro:
        "Per scrape: the duration and success of every enabled collector (node_exporter's names), the build info, and the Node.js process metrics (`--web.disable-exporter-metrics` drops `process_*` and `nodejs_*`). The event loop delay statistics (`nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds`) are computed after each /metrics response and served by the next scrape; they cover the delays between two responses.",
      families: (await exporterSelfFamilies(cli, loadavg)).sort(byName),
    },
    {
      title: 'Inventory',
      intro:
        'Hardware and OS inventory as `*_info` gauges of value 1, refreshed every `--inventory.interval` (5m; 0 disables). A family appears when the host reports such items (memory modules need firmware tables).',
      families: inventoryDocs().sort(byName),
    },
    {
      title: 'PostgreSQL sink (`hostscope sink`, its own /metrics)',
      intro:
        'Served by the sink on `--web.listen-address` (:9101). `instance` on the scrape counters is the scraped target; Prometheus stores it as `exported_instance`. The `remote_write`/`remote_read` families count the receiver and reader (`--web.enable-remote-write-receiver`, `--web.enable-remote-read`; see docs/prometheus.md), the `alertmanager` families the Alertmanager webhook (`--web.enable-alertmanager-webhook`; see docs/alerting.md). `hostscope_sink_targets*`, `hostscope_sink_shard_info` and `hostscope_sink_file_sd_*` describe the targets, where they come from and the shard (see docs/scaling.md). The `live` families count the stream of the overview page (see docs/overview.md).',
      families: sinkDocs().sort(byName),
    },
  );
  return sections;
}

function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

export function renderMetrics(sections: readonly MetricSection[]): string {
  const total = sections.reduce((n, s) => n + s.families.length, 0);
  const out = [
    '# Metrics reference',
    '',
    '<!-- Generated by `npm run docs` (src/reference/metrics.ts). Do not edit: a test fails when this file',
    '     differs from what the code generates. -->',
    '',
    `Every metric family hostscope can emit: ${total} families in ${sections.length} sections. Host collectors`,
    "use node_exporter 1.5's names, types, HELP texts and labels; the docker collector uses cAdvisor's. The",
    "host collectors' families were listed by running the built exporter on the fixture tree",
    '(`test/fixtures/host`), one collector at a time: on a real host a collector emits a family only where',
    'the subsystem exists (no `node_hwmon_*` without sensors), and label *values* depend on the host.',
    '',
    ...sections.map((s) => `- [${s.title}](#${anchor(s.title)}) (${s.families.length})`),
  ];
  for (const s of sections) {
    out.push('', `## ${s.title}`, '', s.intro, '');
    if (s.families.length === 0) {
      out.push('_Emits no family on the fixture tree (the subsystem is absent there)._');
      continue;
    }
    out.push('| Metric | Type | Labels | Help |', '|---|---|---|---|');
    for (const f of s.families) {
      out.push(`| ${mdCode(f.name)} | ${f.type} | ${f.labels.map(mdCode).join(', ')} | ${mdCell(f.help)} |`);
    }
  }
  return `${out.join('\n')}\n`;
}
