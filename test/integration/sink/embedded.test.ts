import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CLI, errorLines, fixtureServer, runCli, text, type FixtureServer } from './harness';

/**
 * Runs queries on the embedded database in a child process (PGlite loads WebAssembly through dynamic
 * imports, which jest's VM does not allow in-process), through the built PgliteDatabase.
 */
function pgliteQueries(dataDir: string, sqls: readonly string[]): Record<string, unknown>[][] {
  const script = `
    const { PgliteDatabase } = require(${JSON.stringify(path.join(path.dirname(CLI), 'db/pglite.js'))});
    (async () => {
      const db = await PgliteDatabase.open(process.argv[1]);
      const out = [];
      for (const sql of JSON.parse(process.argv[2])) out.push(await db.query(sql));
      await db.close();
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(
    process.execPath,
    ['-e', script, path.join(dataDir, 'pglite'), JSON.stringify(sqls)],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(out) as Record<string, unknown>[][];
}

/**
 * The embedded default: no --database.url and no DATABASE_URL, so the built CLI uses PGlite (PostgreSQL
 * compiled to WebAssembly, in-process) in --data.dir. Same migrations, same SQL, binary COPY through
 * PGlite's /dev/blob. Needs nothing installed, so it always runs.
 */
describe('embedded PGlite mode (no database URL)', () => {
  let dir: string;
  let target: FixtureServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-pglite-'));
    target = await fixtureServer((n, _req, res) =>
      text(
        res,
        [
          '# TYPE node_cpu_seconds_total counter',
          `node_cpu_seconds_total{cpu="0",mode="idle"} ${100 + n}`,
          `node_cpu_seconds_total{cpu="0",mode="user"} ${50 + 3 * n}`,
          'node_memory_MemTotal_bytes 4000',
          'node_memory_MemAvailable_bytes 1000',
          `hostile{v="'); drop table hostscope.samples; --"} 1`,
          'hostscope_system_info{hostname="embedded-host",os="Debian"} 1',
          'hostscope_disk_info{device="/dev/vda",size_bytes="5000"} 1',
        ].join('\n') + '\n',
      ),
    );
  });

  afterAll(async () => {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sink --once twice, maintain and seed work on the embedded database with the same schema', async () => {
    const args = ['--once', `--scrape.target=${target.url}`, `--data.dir=${dir}`, '--web.listen-address='];
    for (let i = 0; i < 2; i++) {
      const sink = runCli(['sink', ...args]);
      expect(await sink.exited).toBe(0);
      expect(sink.output()).toContain('using the embedded PostgreSQL (PGlite)');
      expect(errorLines(sink.output())).toEqual([]);
    }
    const maintain = runCli(['maintain', `--data.dir=${dir}`]);
    expect(await maintain.exited).toBe(0);
    const seed = runCli(['seed', '--hosts', '1', '--days', '1', '--seed.interval=10m', `--data.dir=${dir}`]);
    expect(await seed.exited).toBe(0);

    const [ups, hostile, usage, disks, seeded, hourly, migrations] = pgliteQueries(dir, [
      `SELECT value FROM hostscope.samples WHERE metric = 'up' AND labels->>'job' = 'hostscope'`,
      `SELECT labels->>'v' AS v FROM hostscope.samples WHERE metric = 'hostile'`,
      `SELECT cpu_percent, memory_percent FROM hostscope.host_usage WHERE host = 'embedded-host' ORDER BY time`,
      `SELECT d.device, d.is_deleted FROM hostscope.disk_info d JOIN hostscope.hosts h ON h.id = d.host_id WHERE h.hostname = 'embedded-host'`,
      `SELECT count(*)::int AS n FROM hostscope.host_usage WHERE host = 'seed-host-01'`,
      `SELECT count(*)::int AS n FROM hostscope.samples_hourly`,
      'SELECT count(*)::int AS n FROM hostscope.schema_migrations',
    ]);
    expect(ups).toEqual([{ value: 1 }, { value: 1 }]);
    const drop = `'); drop table hostscope.samples; --`;
    expect(hostile).toEqual([{ v: drop }, { v: drop }]);
    // Each --once run starts without a previous scrape, so CPU % needs the long-running sink; memory is per scrape.
    expect(usage).toEqual([
      { cpu_percent: null, memory_percent: 75 },
      { cpu_percent: null, memory_percent: 75 },
    ]);
    expect(disks).toEqual([{ device: '/dev/vda', is_deleted: false }]);
    expect(Number(seeded?.[0]?.n)).toBeGreaterThan(100);
    expect(Number(hourly?.[0]?.n)).toBeGreaterThan(0);
    expect(Number(migrations?.[0]?.n)).toBeGreaterThan(0);
    // Five PGlite start-ups in a row (each loads and initialises the WebAssembly PostgreSQL).
  }, 180_000);

  it('one command on a fresh machine: sink --exporter.embedded scrapes the exporter it runs itself', async () => {
    const own = mkdtempSync(path.join(os.tmpdir(), 'hostscope-pglite-'));
    try {
      const sink = runCli([
        'sink',
        '--once',
        '--exporter.embedded',
        '--exporter.listen-address=127.0.0.1:0',
        `--data.dir=${own}`,
        '--web.listen-address=',
      ]);
      expect(await sink.exited).toBe(0);
      expect(sink.output()).toContain('hostscope exporter listening');
      const [rows, exporterSelf, trims] = pgliteQueries(own, [
        `SELECT count(*)::int AS n FROM hostscope.samples WHERE metric IN ('node_cpu_seconds_total', 'node_load1') AND labels->>'job' = 'hostscope'`,
        `SELECT count(*)::int AS n FROM hostscope.samples WHERE metric = 'hostscope_build_info'`,
        `SELECT count(*)::int AS n FROM hostscope.samples WHERE metric = 'hostscope_memory_trims_total'`,
      ]);
      expect(Number(rows?.[0]?.n)).toBeGreaterThan(1);
      // The embedded exporter leaves the heap to the sink: no memory trims of its own.
      expect(Number(exporterSelf?.[0]?.n)).toBeGreaterThan(0);
      expect(Number(trims?.[0]?.n)).toBe(0);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('refuses a second process on the same data directory while the first runs', async () => {
    const first = runCli([
      'sink',
      `--scrape.target=${target.url}`,
      `--data.dir=${dir}`,
      '--web.listen-address=',
      '--maintain.schedule=',
    ]);
    await first.waitFor(/hostscope sink started/, 60_000);
    const second = runCli(['migrate', `--data.dir=${dir}`]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('is in use by process');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
