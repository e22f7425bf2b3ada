import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import {
  eventually,
  fixtureServer,
  query,
  runCli,
  text,
  type CliProcess,
  type FixtureServer,
} from './harness';

/** node_exporter 1.5's /metrics as recorded on a real host (test/fixtures/expfmt/README.md). */
const RECORDED = readFileSync(path.join(__dirname, '../../fixtures/expfmt/node_exporter.prom'), 'utf8');

/** A loopback target serving the recorded body (plus `extra` lines). */
function recordedTarget(extra = ''): Promise<FixtureServer> {
  return fixtureServer((_n, _req, res) => text(res, RECORDED + extra));
}

function addressOf(server: FixtureServer): string {
  return new URL(server.url).host;
}

/** Replaces a file the way config management does: a temporary file renamed over it. */
function writeAtomically(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

/**
 * Prometheus' hashmod, computed here independently of src/: MD5, its last 8 bytes as a big-endian
 * unsigned integer, modulo n (model/relabel/relabel.go).
 */
function prometheusHashmod(value: string, n: number): number {
  const hex = createHash('md5').update(value).digest('hex');
  return Number(BigInt(`0x${hex.slice(16)}`) % BigInt(n));
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  return (await res.json()) as Record<string, unknown>;
}

async function stop(proc: CliProcess): Promise<number | null> {
  if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
  return proc.exited;
}

describeWithService('PostgreSQL', hasPostgres, 'sink targets for a fleet: file_sd and shards', () => {
  let pg: PgServer;
  let dir: string;
  const servers: FixtureServer[] = [];
  const procs: CliProcess[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    dir = mkdtempSync(path.join(tmpdir(), 'hostscope-fleet-'));
  });

  afterAll(async () => {
    await Promise.all(procs.map(stop));
    await Promise.all(servers.map((s) => s.close()));
    await pg.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function sink(args: string[]): CliProcess {
    const p = runCli([
      'sink',
      `--database.url=${pg.url}`,
      // 2 s: the scrape time limit is the interval, and this machine may be busy with other tests.
      '--scrape.interval=2s',
      '--maintain.schedule=',
      '--web.listen-address=127.0.0.1:0',
      ...args,
    ]);
    procs.push(p);
    return p;
  }

  it('refuses to start on invalid file_sd files or a bad shard, naming every problem (exit 2)', async () => {
    const bad = path.join(dir, 'bad.json');
    const broken = path.join(dir, 'broken.yml');
    writeFileSync(bad, JSON.stringify([{ targets: ['http://h:9100/metrics'], labels: { 'a-b': 'x' } }]));
    writeFileSync(broken, '- targets: [h:1\n');
    const p = runCli([
      'sink',
      `--scrape.file-sd=${bad}`,
      `--scrape.file-sd=${broken}`,
      `--scrape.file-sd=${path.join(dir, 'missing.yaml')}`,
      '--scrape.shard=3/3',
    ]);
    expect(await p.exited).toBe(2);
    const out = p.output();
    expect(out).toContain(`${bad}: group 0: labels: "a-b" is not a valid label name`);
    expect(out).toContain(`${broken}: not valid YAML`);
    expect(out).toContain(`${path.join(dir, 'missing.yaml')}: cannot read it: ENOENT`);
    expect(out).toContain(
      '--scrape.shard (env HOSTSCOPE_SCRAPE_SHARD): the shard I must be between 0 and N-1 (2)',
    );
  });

  it('scrapes the targets of a file_sd file with its labels, and follows its edits while running', async () => {
    const [s1, s2, s3, s4] = await Promise.all([
      recordedTarget('# TYPE fleet_probe gauge\nfleet_probe{team="exposed"} 1\n'),
      recordedTarget(),
      recordedTarget(),
      recordedTarget(),
    ]);
    if (s1 === undefined || s2 === undefined || s3 === undefined || s4 === undefined)
      throw new Error('servers');
    servers.push(s1, s2, s3, s4);
    const file = path.join(dir, 'targets.yml');
    const groups = (first: FixtureServer[]): string =>
      [
        `- targets: ${JSON.stringify(first.map(addressOf))}`,
        '  labels: {team: a, env: prod}',
        `- targets: ["${addressOf(s3)}"]`,
        '  labels: {team: b, instance: custom-3}',
      ].join('\n') + '\n';
    writeFileSync(file, groups([s1, s2]));
    // A refresh interval of an hour: every change below is seen through fs.watch.
    const p = sink([
      `--scrape.file-sd=${file}`,
      '--scrape.file-sd.refresh-interval=1h',
      '--scrape.job=fleet',
    ]);
    const port = (await p.waitFor(/"port":(\d+)/))[1] ?? '';

    const upRows = async (): Promise<Map<string, Record<string, string>>> => {
      const rows = await query<{ labels: Record<string, string> }>(
        pg.url,
        `SELECT DISTINCT labels FROM hostscope.samples WHERE metric = 'up' AND labels->>'job' = 'fleet'`,
      );
      return new Map(rows.map((r) => [r.labels.instance ?? '', r.labels]));
    };
    await eventually(async () => (await upRows()).size === 3, 'the three file_sd targets stored');
    expect(Object.fromEntries(await upRows())).toEqual({
      [addressOf(s1)]: { instance: addressOf(s1), job: 'fleet', team: 'a', env: 'prod' },
      [addressOf(s2)]: { instance: addressOf(s2), job: 'fleet', team: 'a', env: 'prod' },
      'custom-3': { instance: 'custom-3', job: 'fleet', team: 'b' },
    });
    // The labels are on every series of the target, not only `up`; an exposed label of the same name is
    // kept as exported_<name>, as Prometheus does.
    const load = await query<{ labels: Record<string, string> }>(
      pg.url,
      `SELECT DISTINCT labels FROM hostscope.samples WHERE metric = 'node_load1' AND labels->>'instance' = 'custom-3'`,
    );
    expect(load.map((r) => r.labels)).toEqual([{ instance: 'custom-3', job: 'fleet', team: 'b' }]);
    const unlabelled = await query<{ n: string }>(
      pg.url,
      `SELECT count(*) AS n FROM hostscope.samples
        WHERE labels->>'job' = 'fleet' AND labels->>'instance' = $1 AND NOT labels @> '{"team": "a", "env": "prod"}'`,
      [addressOf(s1)],
    );
    expect(Number(unlabelled[0]?.n)).toBe(0);
    const probe = await query<{ labels: Record<string, string> }>(
      pg.url,
      `SELECT DISTINCT labels FROM hostscope.samples WHERE metric = 'fleet_probe'`,
    );
    expect(probe.map((r) => r.labels)).toEqual([
      { instance: addressOf(s1), job: 'fleet', team: 'a', env: 'prod', exported_team: 'exposed' },
    ]);

    // The sink shows its targets, their source and health.
    await eventually(async () => {
      const data = (await getJson(`http://127.0.0.1:${port}/api/v1/targets`)).data as {
        activeTargets: { health: string }[];
      };
      return data.activeTargets.every((t) => t.health === 'up');
    }, 'every target up in /api/v1/targets');
    const view = (await getJson(`http://127.0.0.1:${port}/api/v1/targets`)).data as Record<string, unknown>;
    expect(view.shard).toBeNull();
    expect(view.droppedTargets).toEqual([]);
    expect(view.activeTargets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          scrapeUrl: s3.url,
          address: addressOf(s3),
          labels: { instance: 'custom-3', job: 'fleet', team: 'b' },
          source: 'file_sd',
          file,
          shard: 0,
          health: 'up',
          lastError: '',
        }),
      ]),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('hostscope_sink_targets{source="file_sd"} 3');
    expect(metrics).toContain('hostscope_sink_targets{source="flag"} 0');
    expect(metrics).toContain(`hostscope_sink_file_sd_file_valid{file="${file}"} 1`);

    // Edit: s2 out, s4 in. s4 is scraped from the next round; s2 no more once a round has started since.
    writeAtomically(file, groups([s1, s4]));
    await p.waitFor(/"msg":"file_sd targets changed"/);
    expect(p.output()).toMatch(/"added":1,"removed":1,.*"msg":"file_sd targets changed"/);
    await eventually(async () => s4.requests >= 2, 's4 scraped twice');
    const s2After = s2.requests;
    const s4After = s4.requests;
    await eventually(async () => s4.requests >= s4After + 2, 's4 scraped in two more rounds');
    expect(s2.requests).toBe(s2After);
    await eventually(async () => (await upRows()).has(addressOf(s4)), 's4 stored');
    expect((await upRows()).get(addressOf(s4))).toEqual({
      instance: addressOf(s4),
      job: 'fleet',
      team: 'a',
      env: 'prod',
    });

    // Invalid: a clear log line, and the last good targets go on being scraped.
    writeAtomically(file, '- targets: [oops\n');
    await p.waitFor(/"msg":"file_sd: invalid file; keeping its last good targets"/);
    const line = p
      .output()
      .split('\n')
      .find((l) => l.includes('file_sd: invalid file'));
    expect(JSON.parse(line ?? '{}')).toEqual(
      expect.objectContaining({ level: 'error', file, problems: [expect.stringMatching(/^not valid YAML/)] }),
    );
    const before = [s1, s3, s4].map((s) => s.requests);
    await eventually(
      async () => [s1, s3, s4].every((s, i) => s.requests >= (before[i] ?? 0) + 2),
      'last good scraped',
    );
    expect(s2.requests).toBe(s2After);
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(after).toContain(`hostscope_sink_file_sd_file_valid{file="${file}"} 0`);
    expect(after).toMatch(/^hostscope_sink_file_sd_read_errors_total [1-9]/m);
    expect(after).toContain('hostscope_sink_targets{source="file_sd"} 3');

    expect(await stop(p)).toBe(0);
  });

  it('two sinks with --scrape.shard=0/2 and 1/2 share the targets: each stored by exactly one, every round', async () => {
    // Loopback targets until each shard has at least three (ports are random, so are their hashes).
    const fleet: FixtureServer[] = [];
    const count = [0, 0];
    while ((count[0] ?? 0) < 3 || (count[1] ?? 0) < 3) {
      if (fleet.length >= 40) throw new Error('40 targets and still a shard with fewer than 3');
      const s = await recordedTarget();
      servers.push(s);
      fleet.push(s);
      const shard = prometheusHashmod(addressOf(s), 2);
      count[shard] = (count[shard] ?? 0) + 1;
    }
    const file = path.join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify([{ targets: fleet.map(addressOf), labels: { site: 'lab' } }]));
    // Each sink marks what it stores with its own job, so that SQL can tell which sink stored a series.
    const sinks = [0, 1].map((i) =>
      sink([`--scrape.file-sd=${file}`, `--scrape.shard=${i}/2`, `--scrape.job=shard${i}`]),
    );
    const ports = await Promise.all(sinks.map(async (p) => (await p.waitFor(/"port":(\d+)/))[1] ?? ''));
    const rounds = async (job: string): Promise<number> =>
      Number(
        (
          await query<{ n: string }>(
            pg.url,
            `SELECT count(DISTINCT time) AS n FROM hostscope.samples WHERE metric = 'up' AND labels->>'job' = $1`,
            [job],
          )
        )[0]?.n,
      );
    await eventually(
      async () => (await rounds('shard0')) >= 3 && (await rounds('shard1')) >= 3,
      'three rounds each',
    );
    for (const [i, port] of ports.entries()) {
      const data = (await getJson(`http://127.0.0.1:${port}/api/v1/targets`)).data as {
        shard: unknown;
        activeTargets: { address: string; shard: number }[];
        droppedTargets: { address: string; shard: number }[];
      };
      expect(data.shard).toEqual({ index: i, count: 2 });
      expect(data.activeTargets.map((t) => t.address).sort()).toEqual(
        fleet
          .map(addressOf)
          .filter((a) => prometheusHashmod(a, 2) === i)
          .sort(),
      );
      expect(data.activeTargets.length + data.droppedTargets.length).toBe(fleet.length);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(`hostscope_sink_shard_info{shard="${i}",shards="2"} 1`);
      expect(metrics).toContain(`hostscope_sink_targets_discovered{source="file_sd"} ${fleet.length}`);
    }
    expect(await Promise.all(sinks.map(stop))).toEqual([0, 0]);

    // Every target's series were stored by exactly one sink, the one its hashmod names.
    const owners = await query<{ instance: string; jobs: string[] }>(
      pg.url,
      `SELECT labels->>'instance' AS instance, array_agg(DISTINCT labels->>'job') AS jobs
         FROM hostscope.samples WHERE labels->>'site' = 'lab' GROUP BY 1 ORDER BY 1`,
    );
    expect(owners).toEqual(
      fleet
        .map(addressOf)
        .sort()
        .map((a) => ({ instance: a, jobs: [`shard${prometheusHashmod(a, 2)}`] })),
    );
    // Each scrape once, and no gaps: a sink scrapes all its targets in every round, so each of its
    // targets has exactly one `up` sample (value 1) at each of that sink's round times.
    const perTarget = await query<{ job: string; instance: string; n: string; times: string; ups: string }>(
      pg.url,
      `SELECT labels->>'job' AS job, labels->>'instance' AS instance, count(*) AS n,
              count(DISTINCT time) AS times, sum(value) AS ups
         FROM hostscope.samples WHERE metric = 'up' AND labels->>'site' = 'lab' GROUP BY 1, 2`,
    );
    for (const job of ['shard0', 'shard1']) {
      const roundCount = await rounds(job);
      const rows = perTarget.filter((r) => r.job === job);
      expect(rows.length).toBe(count[Number(job.slice(-1))]);
      for (const r of rows)
        expect([r.instance, Number(r.n), Number(r.times), Number(r.ups)]).toEqual([
          r.instance,
          roundCount,
          roundCount,
          roundCount,
        ]);
    }
    // And every series of a target is there in every round: as many node_load1 rows as rounds.
    const loads = await query<{ instance: string; job: string; n: string }>(
      pg.url,
      `SELECT labels->>'instance' AS instance, labels->>'job' AS job, count(*) AS n
         FROM hostscope.samples WHERE metric = 'node_load1' AND labels->>'site' = 'lab' GROUP BY 1, 2`,
    );
    expect(loads).toHaveLength(fleet.length);
    for (const r of loads) expect(Number(r.n)).toBe(await rounds(r.job));
  });
});
