import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { HostscopeError } from '../errors';
import { acquireLockFile } from '../lock-file';
import type { Logger } from '../log/logger';
import { redactUrl, type Database } from './database';
import { PgliteDatabase } from './pglite';
import { PostgresDatabase } from './postgres';

export class DataDirLockedError extends HostscopeError {
  constructor(dir: string, pid: number) {
    super('E_DATA_DIR_LOCKED', `the embedded database in ${dir} is in use by process ${pid}`);
  }
}

/** An exclusive lock file: PGlite must never be opened by two processes at once. */
function lockDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  return acquireLockFile(path.join(dir, 'hostscope.lock'), (pid) => new DataDirLockedError(dir, pid));
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
    const db = await PgliteDatabase.open(dir);
    if (db.origin === 'template')
      logger.info({ dataDir: dir }, 'created the embedded database from the template');
    if (db.origin === 'initdb') {
      logger.info(
        { dataDir: dir },
        'created the embedded database with initdb (no template from npm run build: ~650 MB at its peak, once)',
      );
    }
    return new LockedDatabase(db, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}
