/**
 * Runs every query of every committed dashboard (grafana/dashboards/*.json) the way Grafana would, against
 * the real thing, and requires each to return data:
 *
 * - PromQL panels and variables: the real Prometheus (1 s scrapes and rule evaluations, the bundle's
 *   recording and alert rules loaded) scraping the built exporter (host + docker collectors) and the
 *   PostgreSQL sink (which also receives Prometheus' remote write of `up`), with real containers
 *   running on a Docker Engine, one of which gets OOM-killed so that an alert fires for the Alerts
 *   dashboard.
 * - SQL panels and variables: a private PostgreSQL filled by `hostscope migrate`, `hostscope seed --hosts 2
 *   --days 2` and the live sink, with Grafana's macros expanded.
 *
 * Variables are resolved from their own queries, in order (the first value, or "All"), so a variable
 * query that finds nothing fails the test too. No timing assertions: every query gets a generous deadline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { ensureBusyboxImage, hasDocker, sharedDockerHost, TestContainers } from '../helpers/docker';
import { hasDockerd, startPrivateDockerd, type PrivateDockerd } from '../helpers/dockerd';
import { startDaemon, type DaemonProcess } from '../helpers/daemon';
import { CLI, runCli, startExporterProcess, type ExporterProcess } from '../helpers/exporter-process';
import { hasPostgres, startPostgres, type PgServer } from '../helpers/postgres';
import { PROMETHEUS, REPO, sleep, startPrometheus, type PrometheusProcess } from '../helpers/prometheus';
import { commandSucceeds, describeWithService } from '../helpers/services';

const DIR = path.join(REPO, 'grafana/dashboards');

interface Target {
  refId: string;
  expr?: string;
  rawSql?: string;
  instant?: boolean;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

interface QueryCase {
  readonly dashboard: string;
  readonly what: string;
  readonly query: string;
  readonly instant: boolean;
}

/** Grafana's global variables, with values fitting a test that has minutes of data scraped every second. */
const PROM_GLOBALS: Record<string, string> = {
  __rate_interval: '15s',
  __interval: '5s',
  __range: '10m',
};

function dashboards(): Dashboard[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Dashboard);
}

function isSql(d: Dashboard): boolean {
  return d.templating.list.some(
    (v) => v.name === 'datasource' && v.query === 'grafana-postgresql-datasource',
  );
}

/** Replaces $name, ${name} and [[name]] of the given variables; Grafana's $__ macros are left alone. */
function interpolate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = a ?? b ?? c ?? '';
      const value = vars[name];
      return value === undefined ? whole : value;
    },
  );
}

function leftoverVariables(text: string): string[] {
  return [...text.matchAll(/\$\{?(\w+)/g)].map((m) => m[1] ?? '').filter((n) => n !== '');
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------- PromQL

async function promApi(base: string, api: string, params: Record<string, string>): Promise<unknown[]> {
  const res = await fetch(`${base}/api/v1/${api}?${new URLSearchParams(params).toString()}`);
  const body = (await res.json()) as { status: string; error?: string; data?: unknown };
  if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${res.status}`);
  if (Array.isArray(body.data)) return body.data;
  const data = body.data as { result?: unknown[] } | undefined;
  return data?.result ?? [];
}

async function promQuery(base: string, query: string, instant: boolean): Promise<number> {
  const now = Date.now() / 1000;
  const result = instant
    ? await promApi(base, 'query', { query, time: String(now) })
    : await promApi(base, 'query_range', { query, start: String(now - 300), end: String(now), step: '5' });
  return result.length;
}

/** Resolves a dashboard's Prometheus variables from their label_values() queries, in order. */
async function resolvePromVariables(base: string, d: Dashboard): Promise<Record<string, string>> {
  const vars: Record<string, string> = { ...PROM_GLOBALS };
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = interpolate(v.query ?? '', vars);
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
    if (m === null) throw new Error(`${d.uid}: variable ${v.name}: unsupported query ${q}`);
    const [, selector = '', label = ''] = m;
    const series = (await promApi(base, 'series', {
      'match[]': selector,
      start: String(Date.now() / 1000 - 600),
    })) as Record<string, string>[];
    const values = [
      ...new Set(series.map((s) => s[label]).filter((x): x is string => x !== undefined)),
    ].sort();
    if (values.length === 0) throw new Error(`${d.uid}: variable ${v.name} has no values (${q})`);
    if (v.includeAll === true) vars[v.name] = v.allValue ?? `(${values.map(regexEscape).join('|')})`;
    else vars[v.name] = values[0] ?? '';
  }
  return vars;
}

// ------------------------------------------------------------------------------------------------- SQL

function sqlQuote(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function intervalSeconds(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim().replace(/^'|'$/g, ''));
  if (m === null) throw new Error(`unsupported interval ${text}`);
  return Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
}

/** Grafana's PostgreSQL macros (the subset the dashboards use), expanded as Grafana 10 expands them. */
function expandSqlMacros(sql: string, from: Date, to: Date): string {
  return sql
    .replace(/\$__timeFrom\(\)/g, `'${from.toISOString()}'`)
    .replace(/\$__timeTo\(\)/g, `'${to.toISOString()}'`)
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, col: string) => `${col.trim()} BETWEEN '${from.toISOString()}' AND '${to.toISOString()}'`,
    )
    .replace(/\$__timeGroupAlias\(([^,]+),\s*([^)]+)\)/g, (_, col: string, interval: string) => {
      const s = intervalSeconds(interval);
      return `floor(extract(epoch from ${col.trim()})/${s})*${s} AS "time"`;
    })
    .replace(/\$__timeGroup\(([^,]+),\s*([^)]+)\)/g, (_, col: string, interval: string) => {
      const s = intervalSeconds(interval);
      return `floor(extract(epoch from ${col.trim()})/${s})*${s}`;
    });
}

async function sqlRows(db: Client, sql: string): Promise<Record<string, unknown>[]> {
  const r = await db.query(sql);
  return r.rows as Record<string, unknown>[];
}

async function resolveSqlVariables(
  db: Client,
  d: Dashboard,
  from: Date,
  to: Date,
): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const v of d.templating.list) {
    if (v.type === 'custom') {
      vars[v.name] = v.current?.value ?? '';
      continue;
    }
    if (v.type !== 'query') continue;
    const rows = await sqlRows(db, expandSqlMacros(interpolate(v.query ?? '', vars), from, to));
    const values = rows.map((r) => String(r.__value ?? Object.values(r)[0]));
    if (values.length === 0) throw new Error(`${d.uid}: variable ${v.name} has no values`);
    vars[v.name] =
      v.includeAll === true || v.multi === true ? sqlQuote(values) : sqlQuote(values.slice(0, 1));
  }
  return vars;
}

// ----------------------------------------------------------------------------------------------- setup

function available(): boolean {
  return (
    commandSucceeds('sh', ['-c', `test -x ${PROMETHEUS} && command -v losetup`]) &&
    hasPostgres() &&
    (hasDocker() || hasDockerd())
  );
}

/** The real sink, writing what it scrapes from the exporter to PostgreSQL; ready once /health answers. */
function startSink(databaseUrl: string, exporterUrl: string): Promise<DaemonProcess> {
  return startDaemon({
    name: 'sink',
    command: process.execPath,
    args: (port, _url, dataDir) => [
      CLI,
      'sink',
      `--database.url=${databaseUrl}`,
      `--data.dir=${dataDir}`,
      `--scrape.target=${exporterUrl}/metrics`,
      '--scrape.interval=1s',
      `--web.listen-address=127.0.0.1:${port}`,
      // Fed by Prometheus' remote write too, for the health dashboard's receiver panels, and by one
      // Alertmanager notification for its webhook panels.
      '--web.enable-remote-write-receiver',
      '--web.enable-alertmanager-webhook',
      '--log.level=warn',
    ],
    readyPath: '/health',
  });
}

/**
 * Detaches the loop device once nothing holds it: right after a container is removed the device can still
 * be busy, and `losetup -d` then only marks it for a detach that may never come.
 */
async function detachLoop(device: string, image: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    spawnSync('losetup', ['-d', device]);
    const attached = spawnSync('losetup', ['-j', image], { encoding: 'utf8' }).stdout.trim();
    if (attached === '') return;
    await sleep(500);
  }
}

describeWithService(
  'Prometheus, PostgreSQL and Docker',
  available,
  'every dashboard query returns data',
  () => {
    const work = mkdtempSync(path.join(tmpdir(), 'hs-dashq-'));
    let dockerd: PrivateDockerd | undefined;
    let containers: TestContainers | undefined;
    let pg: PgServer | undefined;
    let exporter: ExporterProcess | undefined;
    let sink: DaemonProcess | undefined;
    let prom: PrometheusProcess | undefined;
    let loop: string | undefined;
    const counts = { queries: 0, withData: 0 };

    beforeAll(async () => {
      // The shared engine when it answers, else a private daemon for this file.
      let dockerHost = sharedDockerHost();
      if (!hasDocker()) {
        dockerd = await startPrivateDockerd();
        dockerHost = dockerd.host;
      }
      await ensureBusyboxImage(dockerHost);
      containers = new TestContainers(dockerHost);
      // A busy container with CPU and memory limits (throttling, memory of limit) doing direct I/O on a
      // loop device of its own. The kernel accounts blkio per cgroup (v1) only for devices with a throttle
      // limit, hence the generous --device-*-bps: without one, container_fs_* would stay empty.
      const image = path.join(work, 'blk.img');
      writeFileSync(image, Buffer.alloc(8 << 20));
      loop = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
      await containers.run(
        'busy',
        [
          ...['-m', '64m', '--cpus', '0.5', '--device', `${loop}:/dev/xblk`],
          ...['--device-read-bps', `${loop}:1gb`, '--device-write-bps', `${loop}:1gb`],
        ],
        [
          'sh',
          '-c',
          'while true; do dd if=/dev/xblk of=/dev/null bs=64k count=16 iflag=direct; dd if=/dev/zero of=/dev/xblk bs=64k count=16 oflag=direct; sleep 0.5; done 2>/dev/null',
        ],
      );
      // Network counters exist only for containers with their own interfaces (like cAdvisor, none for
      // --network none); the engine here has no bridge, so the host's network it is.
      await containers.run('net', ['--network', 'host'], ['sleep', '100000']);

      pg = await startPostgres();
      for (const args of [
        ['migrate', `--database.url=${pg.url}`],
        ['seed', '--hosts', '2', '--days', '2', `--database.url=${pg.url}`, '--log.level=warn'],
      ]) {
        const r = await runCli(args);
        if (r.code !== 0) throw new Error(`hostscope ${args[0] ?? ''} failed: ${r.stdout}${r.stderr}`);
      }

      exporter = await startExporterProcess([`--collector.docker.host=${dockerHost}`]);
      sink = await startSink(pg.url, exporter.url);
      // One notification, as Alertmanager posts it (webhook version 4), for the health dashboard's webhook
      // row (the time since the last one stored needs one).
      const notified = await fetch(`${sink.url}/api/v1/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          groupKey: '{}:{alertname="DashboardQueries"}',
          status: 'firing',
          receiver: 'hostscope-history',
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: 'http://alertmanager',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'DashboardQueries', instance: 'test:9100', severity: 'warning' },
              annotations: {},
              startsAt: new Date().toISOString(),
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: '',
              fingerprint: 'da5b0a4dc0e1e5a1',
            },
          ],
        }),
      });
      if (notified.status !== 200) throw new Error(`webhook: ${notified.status} ${await notified.text()}`);

      const config = path.join(work, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${path.join(REPO, 'prometheus/rules')}/*.yml`,
          'scrape_configs:',
          '  - job_name: hostscope',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${exporter.port}']`,
          '  - job_name: hostscope-sink',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${sink.port}']`,
          // A little remote write traffic (the up series) for the receiver panels of the health dashboard.
          'remote_write:',
          `  - url: http://127.0.0.1:${sink.port}/api/v1/write`,
          '    queue_config: { batch_send_deadline: 1s }',
          '    write_relabel_configs:',
          '      - { source_labels: [__name__], regex: up, action: keep }',
          '',
        ].join('\n'),
      );
      prom = await startPrometheus(config);

      // After Prometheus has seen the counters: a container that exceeds its memory limit and is killed by
      // the kernel's OOM killer (node_vmstat_oom_kill rises: HostOomKill fires without a "for" delay).
      await sleep(8000);
      await containers.run(
        'oom',
        ['-m', '16m', '--memory-swap', '16m'],
        ['sh', '-c', 'sleep 2; x=$(yes); echo never'],
      );
    }, 600_000);

    afterAll(async () => {
      // Printed once, for the record: how many panel queries ran and how many returned data.
      process.stdout.write(
        `dashboard queries: ${counts.queries} panel queries, ${counts.withData} returned data\n`,
      );
      await prom?.stop();
      await sink?.stop();
      await exporter?.stop();
      await pg?.destroy();
      await containers?.cleanup();
      if (loop !== undefined) await detachLoop(loop, path.join(work, 'blk.img'));
      await dockerd?.destroy();
      rmSync(work, { recursive: true, force: true });
    }, 180_000);

    it('runs every PromQL panel query against the real Prometheus and gets data', async () => {
      const base = prom?.url ?? '';
      const boards = dashboards().filter((d) => !isSql(d));
      expect(boards.length).toBe(4);
      const deadline = Date.now() + 300_000;
      // Variables need data before they resolve: retry until the deadline.
      const cases: QueryCase[] = [];
      for (const d of boards) {
        let vars: Record<string, string> | undefined;
        let lastErr = '';
        while (vars === undefined && Date.now() < deadline) {
          try {
            vars = await resolvePromVariables(base, d);
          } catch (err) {
            lastErr = (err as Error).message;
            await sleep(1000);
          }
        }
        if (vars === undefined) throw new Error(lastErr);
        for (const p of d.panels) {
          // PostgreSQL panels of a Prometheus dashboard (the alert history) are run by the SQL test.
          for (const t of (p.targets ?? []).filter((x) => x.rawSql === undefined)) {
            const query = interpolate(t.expr ?? '', vars);
            expect(`${d.uid} ${p.title}: ${leftoverVariables(query).join(',')}`).toBe(
              `${d.uid} ${p.title}: `,
            );
            cases.push({
              dashboard: d.uid,
              what: `${p.title} [${t.refId}]`,
              query,
              instant: t.instant === true,
            });
          }
        }
      }
      expect(cases.length).toBeGreaterThan(50);

      const pending = new Map(cases.map((c) => [`${c.dashboard} / ${c.what}`, c]));
      const errors = new Map<string, string>();
      while (pending.size > 0 && Date.now() < deadline) {
        for (const [key, c] of pending) {
          try {
            if ((await promQuery(base, c.query, c.instant)) > 0) {
              pending.delete(key);
              errors.delete(key);
            }
          } catch (err) {
            errors.set(key, (err as Error).message);
          }
        }
        if (pending.size > 0) await sleep(2000);
      }
      counts.queries += cases.length;
      counts.withData += cases.length - pending.size;
      const missing = [...pending].map(
        ([key, c]) => `${key}: ${c.query}${errors.has(key) ? ` (${errors.get(key) ?? ''})` : ''}`,
      );
      expect(missing).toEqual([]);
    }, 420_000);

    it('runs every SQL panel query against PostgreSQL (seeded history + the live sink) and gets rows', async () => {
      const url = pg?.url ?? '';
      const db = new Client({ connectionString: url });
      await db.connect();
      try {
        // The live sink has written usage rows and the real host's inventory, and a maintenance run has
        // rolled up the seeded hours.
        const to = new Date();
        const from = new Date(to.getTime() - 7 * 86400_000);
        const board = dashboards().find(isSql);
        expect(board?.uid).toBe('hostscope-history');
        if (board === undefined) return;
        const deadline = Date.now() + 120_000;
        const cases: QueryCase[] = [];
        const vars = await resolveSqlVariables(db, board, from, to);
        for (const p of board.panels) {
          for (const t of p.targets ?? []) {
            const query = expandSqlMacros(interpolate(t.rawSql ?? '', vars), from, to);
            expect(`${p.title}: ${leftoverVariables(query).join(',')}`).toBe(`${p.title}: `);
            cases.push({ dashboard: board.uid, what: `${p.title} [${t.refId}]`, query, instant: true });
          }
        }
        expect(cases.length).toBeGreaterThan(15);
        // PostgreSQL panels of the other dashboards (the alert history on the Alerts dashboard, over the
        // alert history `hostscope seed` writes); they use no template variables.
        const mixed: QueryCase[] = [];
        for (const d of dashboards().filter((x) => !isSql(x)))
          for (const p of d.panels)
            for (const t of (p.targets ?? []).filter((x) => x.rawSql !== undefined)) {
              const query = expandSqlMacros(t.rawSql ?? '', from, to);
              expect(`${p.title}: ${leftoverVariables(query).join(',')}`).toBe(`${p.title}: `);
              mixed.push({
                dashboard: d.uid,
                what: `${d.uid} ${p.title} [${t.refId}]`,
                query,
                instant: true,
              });
            }
        expect(mixed.length).toBeGreaterThanOrEqual(4);
        cases.push(...mixed);
        const pending = new Map(cases.map((c) => [c.what, c]));
        while (pending.size > 0 && Date.now() < deadline) {
          for (const [key, c] of pending) if ((await sqlRows(db, c.query)).length > 0) pending.delete(key);
          if (pending.size > 0) await sleep(2000);
        }
        counts.queries += cases.length;
        counts.withData += cases.length - pending.size;
        expect([...pending.keys()]).toEqual([]);
      } finally {
        await db.end();
      }
    }, 300_000);
  },
);
