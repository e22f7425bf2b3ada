import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService, hasBinary } from '../../helpers/services';
import { CLI, errorLines, query, runCli } from './harness';

const run = promisify(execFile);
const HOUR = 3_600_000;
const STEP = 15_000;

/** One stored sample as the public view shows it. */
interface Row {
  time: string;
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Start of the backfilled range: a whole step, three hours ago (well inside the default retention). */
const T0 = Math.floor((Date.now() - 3 * HOUR) / STEP) * STEP;
const at = (i: number): number => T0 + i * STEP;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * An OpenMetrics backfill file as promtool takes it: families grouped, each series in time order,
 * timestamps in seconds (one with a fraction), `# EOF`. One series has the sample's own instance and job;
 * the others get --label.instance and the default job. One sample is older than the retention used.
 */
function openMetricsFile(): { text: string; rows: Row[] } {
  const rows: Row[] = [];
  const lines = ['# HELP req Requests.', '# TYPE req counter'];
  for (let i = 0; i < 4; i++) {
    lines.push(`req_total{code="200"} ${10 * i} ${at(i) / 1000}`);
    rows.push({
      time: iso(at(i)),
      metric: 'req_total',
      labels: { code: '200', instance: 'b:1', job: 'import' },
      value: 10 * i,
    });
  }
  lines.push(`req_total{code="500",instance="web:9100",job="node"} 1 ${at(0) / 1000}`);
  rows.push({
    time: iso(at(0)),
    metric: 'req_total',
    labels: { code: '500', instance: 'web:9100', job: 'node' },
    value: 1,
  });
  lines.push('# TYPE lat_seconds histogram', '# UNIT lat_seconds seconds');
  for (let i = 0; i < 2; i++) {
    for (const [le, v] of [
      ['0.5', 1 + i],
      ['+Inf', 2 + i],
    ] as const) {
      lines.push(`lat_seconds_bucket{le="${le}"} ${v} ${at(i) / 1000}`);
      rows.push({
        time: iso(at(i)),
        metric: 'lat_seconds_bucket',
        labels: { le, instance: 'b:1', job: 'import' },
        value: v,
      });
    }
  }
  lines.push('# TYPE temp gauge');
  lines.push(`temp 20.5 ${(at(0) + 500) / 1000}`);
  rows.push({
    time: iso(at(0) + 500),
    metric: 'temp',
    labels: { instance: 'b:1', job: 'import' },
    value: 20.5,
  });
  lines.push(`temp 21 ${at(1) / 1000}`);
  rows.push({ time: iso(at(1)), metric: 'temp', labels: { instance: 'b:1', job: 'import' }, value: 21 });
  lines.push('# EOF');
  return { text: lines.join('\n') + '\n', rows };
}

/** Three scrapes of the text format concatenated, each with its HELP/TYPE lines, ms timestamps. */
function multiScrapeTextFile(job: string): { text: string; rows: Row[] } {
  const rows: Row[] = [];
  const lines: string[] = [];
  for (let s = 0; s < 3; s++) {
    const t = at(10 + s);
    lines.push('# HELP node_load1 1m load average.', '# TYPE node_load1 gauge', `node_load1 ${s / 4} ${t}`);
    lines.push('# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.');
    lines.push('# TYPE node_cpu_seconds_total counter');
    for (const mode of ['idle', 'user']) {
      lines.push(`node_cpu_seconds_total{cpu="0",mode="${mode}"} ${100 * s + mode.length} ${t}`);
      rows.push({
        time: iso(t),
        metric: 'node_cpu_seconds_total',
        labels: { cpu: '0', mode, instance: 'host-a:9100', job },
        value: 100 * s + mode.length,
      });
    }
    rows.push({ time: iso(t), metric: 'node_load1', labels: { instance: 'host-a:9100', job }, value: s / 4 });
    lines.push('');
  }
  return { text: lines.join('\n'), rows };
}

const sortRows = (rows: Row[]): Row[] =>
  [...rows].sort((a, b) =>
    `${a.metric}${JSON.stringify(a.labels)}${a.time}`.localeCompare(
      `${b.metric}${JSON.stringify(b.labels)}${b.time}`,
    ),
  );

/** Runs `hostscope import` with `input` on stdin. */
function importFromStdin(
  args: readonly string[],
  input: Buffer,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [CLI, 'import', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
    child.stdin.end(input);
  });
}

describeWithService('PostgreSQL', hasPostgres, 'hostscope import on a real PostgreSQL', () => {
  let pg: PgServer;
  let dir: string;
  const file = (name: string, content: string | Buffer): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const db = (): string => `--database.url=${pg.url}`;
  const rowsOf = async (where: string, params: unknown[] = []): Promise<Row[]> => {
    const rows = await query<{ time: Date; metric: string; labels: Record<string, string>; value: number }>(
      pg.url,
      `SELECT time, metric, labels, value FROM hostscope.samples WHERE ${where}`,
      params,
    );
    return sortRows(rows.map((r) => ({ ...r, time: r.time.toISOString() })));
  };
  const count = async (): Promise<number> =>
    Number((await query<{ n: string }>(pg.url, 'SELECT count(*) AS n FROM hostscope.samples'))[0]?.n);

  beforeAll(async () => {
    pg = await startPostgres();
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-import-'));
  });

  afterAll(async () => {
    await pg.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports an OpenMetrics file: exactly its samples, its own instance/job kept, the old one skipped and reported', async () => {
    const om = openMetricsFile();
    // One more sample, 30 h old: outside --retention.raw=1d.
    const text = om.text.replace(
      '# TYPE temp gauge\n',
      `# TYPE temp gauge\ntemp 3 ${(T0 - 30 * HOUR) / 1000}\n`,
    );
    const p = file('backfill.om', text);
    const r = runCli(['import', db(), '--label.instance=b:1', '--retention.raw=1d', p]);
    expect(await r.exited).toBe(0);
    expect(errorLines(r.output())).toEqual([]);
    expect(await rowsOf("metric IN ('req_total', 'lat_seconds_bucket', 'temp')")).toEqual(sortRows(om.rows));
    const summary = JSON.parse(
      r
        .output()
        .split('\n')
        .find((l) => l.includes('"file imported"')) ?? '{}',
    ) as Record<string, unknown>;
    expect(summary).toMatchObject({
      file: p,
      format: 'openmetrics',
      samples: 12,
      written: 11,
      series: 5,
      outOfRetention: 1,
      outOfRetentionFrom: iso(T0 - 30 * HOUR),
      from: iso(at(0)),
      to: iso(at(3)),
    });
    expect(r.output()).toMatch(/"level":"warn".*"outOfRetention":1.*samples outside retention/);
    // Maintenance ran: the imported hours are rolled up.
    const hourly = await query<{ n: string }>(
      pg.url,
      "SELECT count(*) AS n FROM hostscope.samples_hourly WHERE metric = 'req_total' AND labels->>'code' = '200'",
    );
    expect(Number(hourly[0]?.n)).toBeGreaterThan(0);
  });

  it('the OpenMetrics fixture is valid for promtool too', async () => {
    if (!hasBinary('promtool')) {
      if (process.env.CI === 'true') throw new Error('promtool is not installed, and CI=true requires it');
      return;
    }
    const p = file('promtool.om', openMetricsFile().text);
    const out = path.join(dir, 'promtool-blocks');
    await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', p, out]);
    expect(readdirSync(out).length).toBeGreaterThan(0);
  });

  it('imports a multi-scrape text file, again without storing anything twice', async () => {
    const t = multiScrapeTextFile('scrapes');
    const p = file('scrapes.prom', t.text);
    for (let i = 0; i < 2; i++) {
      const r = runCli(['import', db(), '--label.instance=host-a:9100', '--label.job=scrapes', p]);
      expect(await r.exited).toBe(0);
      expect(r.output()).toContain('"format":"text"');
      expect(await rowsOf("labels->>'job' = 'scrapes'")).toEqual(sortRows(t.rows));
    }
  });

  it('rejects a malformed file whole, with line numbers, and still imports the good file given with it', async () => {
    const good = multiScrapeTextFile('mixed');
    const bad = multiScrapeTextFile('mixed').text.replaceAll('node_', 'bad_node_').split('\n');
    bad[3] = 'bad_node_cpu_seconds_total{cpu="0" 1 2'; // line 4: syntax
    bad[12] = `bad_node_load1 7 ${at(1)}`; // line 13: before the previous sample of the series
    const before = await count();
    const r = runCli([
      'import',
      db(),
      '--label.instance=host-a:9100',
      '--label.job=mixed',
      file('bad.prom', bad.join('\n')),
      file('good.prom', good.text),
    ]);
    expect(await r.exited).toBe(1);
    const rejected = errorLines(r.output()).join('\n');
    expect(rejected).toContain('file rejected');
    expect(rejected).toContain('line 4: ');
    expect(rejected).toContain('line 13: sample of bad_node_load1 goes back in time');
    // Nothing of the bad file, all of the good one.
    expect(await count()).toBe(before + good.rows.length);
  });

  it('reads gzip files and stdin (plain and gzip)', async () => {
    const gz = multiScrapeTextFile('gz');
    const r = runCli([
      'import',
      db(),
      '--label.instance=host-a:9100',
      '--label.job=gz',
      file('x.prom.gz', gzipSync(gz.text)),
    ]);
    expect(await r.exited).toBe(0);
    expect(await rowsOf("labels->>'job' = 'gz'")).toEqual(sortRows(gz.rows));

    for (const [job, compress] of [
      ['stdin', false],
      ['stdin-gz', true],
    ] as const) {
      const t = multiScrapeTextFile(job);
      const body = compress ? gzipSync(t.text) : Buffer.from(t.text);
      const s = await importFromStdin(
        [db(), '--label.instance=host-a:9100', `--label.job=${job}`, '-'],
        body,
      );
      expect(s.code).toBe(0);
      expect(s.out).toContain('"file":"-"');
      expect(await rowsOf("labels->>'job' = $1", [job])).toEqual(sortRows(t.rows));
    }
  });

  it('reports a file whose writing failed halfway as partial, to be imported again', async () => {
    // A database error on the third batch (a trigger refusing the value 666), after two were stored.
    await query(
      pg.url,
      `CREATE FUNCTION refuse_666() RETURNS trigger LANGUAGE plpgsql AS
         $$BEGIN IF NEW.value = 666 THEN RAISE EXCEPTION 'value 666 refused'; END IF; RETURN NEW; END$$`,
    );
    await query(
      pg.url,
      'CREATE TRIGGER refuse_666 BEFORE INSERT ON hostscope.samples_raw FOR EACH ROW EXECUTE FUNCTION refuse_666()',
    );
    try {
      const values = [1, 2, 3, 4, 666, 6];
      const p = file('partial.prom', values.map((v, i) => `partial ${v} ${at(i)}`).join('\n'));
      const r = runCli(['import', db(), '--label.instance=p:1', '--write.batch-samples=2', p]);
      expect(await r.exited).toBe(1);
      expect(r.output()).toContain('part of it is stored: import it again to complete it');
      expect(r.output()).toContain('value 666 refused');
      expect((await rowsOf("metric = 'partial'")).map((row) => row.value)).toEqual([1, 2, 3, 4]);
    } finally {
      await query(pg.url, 'DROP TRIGGER refuse_666 ON hostscope.samples_raw');
    }
  });

  it('says which sample has no timestamp, and exits 2 on bad flags or a missing file', async () => {
    const r = runCli(['import', db(), '--label.instance=x', file('nots.prom', `a 1 ${at(0)}\na 2\n`)]);
    expect(await r.exited).toBe(1);
    expect(r.output()).toContain('line 2: sample a has no timestamp');
    const usage = runCli(['import', db(), '--format=xml', path.join(dir, 'missing.om')]);
    expect(await usage.exited).toBe(2);
    expect(usage.output()).toContain('--format');
    expect(usage.output()).toContain('missing.om: cannot be read (ENOENT)');
    const none = runCli(['import', db()]);
    expect(await none.exited).toBe(2);
    expect(none.output()).toContain('at least one file');
  });
});

/**
 * Queries the embedded database in a child process (PGlite loads WebAssembly through dynamic imports,
 * which jest's VM does not allow in-process), as embedded.test.ts does.
 */
function pgliteQuery(dataDir: string, sql: string): Record<string, unknown>[] {
  const script = `
    const { PgliteDatabase } = require(${JSON.stringify(path.join(path.dirname(CLI), 'db/pglite.js'))});
    (async () => {
      const db = await PgliteDatabase.open(process.argv[1]);
      const rows = await db.query(process.argv[2]);
      await db.close();
      process.stdout.write(JSON.stringify(rows));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script, path.join(dataDir, 'pglite'), sql], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, unknown>[];
}

describe('hostscope import into the embedded PGlite (no database URL)', () => {
  it('imports an OpenMetrics file into --data.dir', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-import-pglite-'));
    try {
      const om = openMetricsFile();
      const p = path.join(dir, 'backfill.om.gz');
      writeFileSync(p, gzipSync(om.text));
      const r = runCli(['import', `--data.dir=${dir}`, '--label.instance=b:1', p]);
      expect(await r.exited).toBe(0);
      expect(r.output()).toContain('using the embedded PostgreSQL (PGlite)');
      const rows = pgliteQuery(
        dir,
        `SELECT time, metric, labels, value FROM hostscope.samples WHERE metric IN ('req_total', 'lat_seconds_bucket', 'temp')`,
      ).map((row) => ({ ...row, time: new Date(String(row.time)).toISOString() }) as Row);
      expect(sortRows(rows)).toEqual(sortRows(om.rows));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
