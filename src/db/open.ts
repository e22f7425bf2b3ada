import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HostscopeError } from '../errors';
import type { Logger } from '../log/logger';
import { redactUrl, type Database } from './database';
import { PgliteDatabase } from './pglite';
import { PostgresDatabase } from './postgres';

export class DataDirLockedError extends HostscopeError {
  constructor(dir: string, pid: number) {
    super('E_DATA_DIR_LOCKED', `the embedded database in ${dir} is in use by process ${pid}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An exclusive lock file: PGlite must never be opened by two processes at once. */
function lockDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'hostscope.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new DataDirLockedError(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}`);
}

class LockedDatabase implements Database {
  readonly kind;
  readonly bulkWorkMem;
  constructor(
    private readonly inner: Database,
    private readonly unlock: () => void,
  ) {
    this.kind = inner.kind;
    this.bulkWorkMem = inner.bulkWorkMem;
  }
  query: Database['query'] = (sql, params) => this.inner.query(sql, params);
  exec: Database['exec'] = (sql) => this.inner.exec(sql);
  copyBinary: Database['copyBinary'] = (t, p) => this.inner.copyBinary(t, p);
  session: Database['session'] = (fn) => this.inner.session(fn);
  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.unlock();
    }
  }
}

/**
 * Opens PostgreSQL at `url`, or without one the embedded PGlite in `dataDir` (locked against a second
 * process). The embedded database lives in `<dataDir>/pglite`.
 */
export async function openDatabase(
  options: { url?: string; dataDir: string; applicationName?: string },
  logger: Logger,
): Promise<Database> {
  if (options.url !== undefined && options.url !== '') {
    logger.info({ database: redactUrl(options.url) }, 'using PostgreSQL');
    return new PostgresDatabase(options.url, { applicationName: options.applicationName ?? 'hostscope' });
  }
  const unlock = lockDir(options.dataDir);
  try {
    const dir = path.join(options.dataDir, 'pglite');
    logger.info({ dataDir: dir }, 'using the embedded PostgreSQL (PGlite)');
    return new LockedDatabase(await PgliteDatabase.open(dir), unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}
