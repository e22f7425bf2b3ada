import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PGLITE_SETTINGS } from '../../../src/db/pglite';
import { CLI } from './harness';

interface Opened {
  readonly kind: string;
  readonly bulkWorkMem: string;
  readonly settings: Record<string, string>;
  readonly bulk: string;
  readonly rows: number;
  /** The log lines of openDatabase. */
  readonly log: string;
}

/**
 * Opens the embedded database through the built openDatabase (as the sink does) in a child process
 * (PGlite loads WebAssembly through dynamic imports, which jest's VM does not allow in-process), reads the
 * settings it runs with, and counts the rows of a table that survives restarts.
 */
function open(dataDir: string): Opened {
  const script = `
    const { openDatabase } = require(${JSON.stringify(path.join(path.dirname(CLI), 'db/open.js'))});
    const { transaction } = require(${JSON.stringify(path.join(path.dirname(CLI), 'db/database.js'))});
    const { createLogger } = require(${JSON.stringify(path.join(path.dirname(CLI), 'log/logger.js'))});
    (async () => {
      const logger = createLogger({ level: 'info', format: 'json' }, process.stderr);
      const db = await openDatabase({ dataDir: process.argv[1] }, logger);
      const settings = {};
      for (const name of JSON.parse(process.argv[2]))
        settings[name] = (await db.query('SELECT current_setting($1) AS v', [name]))[0].v;
      const bulk = await transaction(db, async (s) => {
        await s.exec("SET LOCAL work_mem = '" + db.bulkWorkMem + "'");
        return (await s.query("SELECT current_setting('work_mem') AS v"))[0].v;
      });
      await db.exec('CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (1)');
      const rows = Number((await db.query('SELECT count(*) AS n FROM kept'))[0].n);
      await db.close();
      process.stdout.write(JSON.stringify({ kind: db.kind, bulkWorkMem: db.bulkWorkMem, settings, bulk, rows }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = spawnSync(
    process.execPath,
    ['-e', script, dataDir, JSON.stringify(Object.keys(PGLITE_SETTINGS))],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`open failed: ${out.stderr}`);
  return { ...(JSON.parse(out.stdout) as Omit<Opened, 'log'>), log: out.stderr };
}

/**
 * The embedded database runs with bounded memory settings: PGlite's WebAssembly memory keeps the most it
 * ever held, so PostgreSQL's stock 128MB of shared buffers would stay resident. The settings must be the
 * ones PostgreSQL actually runs with, on the first start (from the build's cluster template, so that no
 * initdb runs in this process's WebAssembly memory) and on a restart of the same data.
 */
describe('embedded PGlite memory settings', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-pglite-settings-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with PGLITE_SETTINGS, and the rollup work_mem is the bounded one, across a restart', () => {
    const first = open(dir);
    const second = open(dir);
    for (const opened of [first, second]) {
      expect(opened.kind).toBe('pglite');
      expect(opened.settings).toEqual(PGLITE_SETTINGS);
      expect(opened.bulkWorkMem).toBe(PGLITE_SETTINGS.work_mem);
      expect(opened.bulk).toBe(PGLITE_SETTINGS.work_mem);
    }
    expect(first.log).toContain('created the embedded database from the template');
    expect(second.log).not.toContain('created the embedded database');
    // Committed rows of the first process are there after it closed (durability across a restart).
    expect(first.rows).toBe(1);
    expect(second.rows).toBe(2);
  });
});
