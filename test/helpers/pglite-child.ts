import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Database, Queryable, Row } from '../../src/db/database';

const PGLITE = path.join(__dirname, '../../dist/db/pglite.js');

const SCRIPT = `
  const { PgliteDatabase } = require(${JSON.stringify(PGLITE)});
  PgliteDatabase.open(process.argv[1]).then((db) => {
    process.send({ id: 0, ok: true });
    process.on('message', async (m) => {
      try {
        let rows;
        if (m.op === 'query') rows = await db.query(m.sql, m.params);
        else if (m.op === 'exec') await db.exec(m.sql);
        else if (m.op === 'copy') await db.copyBinary(m.sql, Buffer.from(m.payload));
        else if (m.op === 'close') await db.close();
        process.send({ id: m.id, ok: true, rows });
        if (m.op === 'close') process.disconnect();
      } catch (e) {
        process.send({ id: m.id, ok: false, message: String(e && e.message), code: e && e.code });
      }
    });
  });`;

interface Reply {
  id: number;
  ok: boolean;
  rows?: Row[];
  message?: string;
  code?: string;
}

/**
 * The built PgliteDatabase in a child process, behind the Database interface (PGlite loads WebAssembly
 * through dynamic imports, which jest's VM does not allow in-process). Structured-clone IPC keeps Dates,
 * Buffers and NaN intact. Statements run one at a time in order, as on PGlite's single connection.
 */
export async function openPgliteChild(dataDir: string): Promise<Database> {
  const child = spawn(process.execPath, ['-e', SCRIPT, dataDir], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (r: Reply) => void>();
  child.on('message', (m: Reply) => waiting.get(m.id)?.(m));
  let next = 1;
  const call = (msg: Record<string, unknown>): Promise<Row[]> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, (r) => {
        waiting.delete(id);
        if (r.ok) resolve(r.rows ?? []);
        else reject(Object.assign(new Error(r.message), { code: r.code }));
      });
      child.send({ ...msg, id });
    });
  await new Promise<void>((resolve, reject) => {
    waiting.set(0, () => resolve());
    child.once('exit', (code) => reject(new Error(`PGlite child exited with ${code}`)));
  });
  const q: Queryable = {
    query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
      (await call({ op: 'query', sql, params })) as R[],
    exec: async (sql: string) => {
      await call({ op: 'exec', sql });
    },
    copyBinary: async (target: string, payload: Buffer) => {
      await call({ op: 'copy', sql: target, payload });
    },
  };
  return {
    kind: 'pglite',
    bulkWorkMem: '4MB',
    ...q,
    session: (fn) => fn(q),
    close: async () => {
      await call({ op: 'close' });
    },
  };
}

/** A PGlite database in a new temporary directory (in a child process), and how to close and remove it. */
export async function tempPgliteChild(): Promise<{ db: Database; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-pglite-'));
  const db = await openPgliteChild(dir);
  return {
    db,
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
