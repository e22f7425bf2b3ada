import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, Row } from './database';
import { prepareDataDir, type DataDirOrigin } from './pglite-template';

/**
 * PostgreSQL settings of the embedded database, bounded for a small resident size. PGlite runs PostgreSQL
 * in one WebAssembly memory that grows to the most it ever held and never shrinks, so what the stock
 * settings let one moment take (128MB of shared buffers, 64MB for maintenance) stays for the process's
 * life. Reads that miss the small buffer pool are served by the kernel's page cache (files on disk).
 */
export const PGLITE_SETTINGS = {
  shared_buffers: '8MB',
  work_mem: '4MB',
  hash_mem_multiplier: '1',
  maintenance_work_mem: '16MB',
  temp_buffers: '1MB',
} as const;

/**
 * Embedded PostgreSQL (PGlite: the real PostgreSQL compiled to WebAssembly, in this process) with its data
 * in a directory. One connection: every statement and every session is serialised through a queue so a
 * session's transaction is never interleaved with other statements.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly bulkWorkMem = PGLITE_SETTINGS.work_mem;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: PGlite,
    /** Whether the cluster was there, was copied from the build's template, or was made by initdb. */
    readonly origin: DataDirOrigin,
  ) {}

  static async open(dataDir: string): Promise<PgliteDatabase> {
    const origin = await prepareDataDir(dataDir);
    mkdirSync(dataDir, { recursive: true });
    const settings = Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    const db = new PGlite(dataDir, { startParams: [...PGlite.defaultStartParams, ...settings] });
    await db.waitReady;
    return new PgliteDatabase(db, origin);
  }

  private direct(): Queryable {
    const db = this.db;
    return {
      async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
        const result = await db.query<R>(sql, params as unknown[]);
        return result.rows;
      },
      async exec(sql: string): Promise<void> {
        await db.exec(sql);
      },
      async copyBinary(target: string, payload: Buffer): Promise<void> {
        // PGlite has no COPY FROM STDIN; it reads the same binary payload from the virtual /dev/blob.
        await db.query(`COPY ${target} FROM '/dev/blob' (FORMAT binary)`, [], {
          blob: new Blob([payload]),
        });
      },
    };
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.enqueue(() => this.direct().query<R>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.enqueue(() => this.direct().exec(sql));
  }

  copyBinary(target: string, payload: Buffer): Promise<void> {
    return this.enqueue(() => this.direct().copyBinary(target, payload));
  }

  session<T>(fn: (s: Queryable) => Promise<T>): Promise<T> {
    return this.enqueue(() => fn(this.direct()));
  }

  async close(): Promise<void> {
    await this.enqueue(() => this.db.close());
  }
}
