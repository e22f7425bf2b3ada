import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, Row } from './database';

/**
 * Embedded PostgreSQL (PGlite: the real PostgreSQL compiled to WebAssembly, in this process) with its data
 * in a directory. One connection: every statement and every session is serialised through a queue so a
 * session's transaction is never interleaved with other statements.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: PGlite) {}

  static async open(dataDir: string): Promise<PgliteDatabase> {
    mkdirSync(dataDir, { recursive: true });
    const db = new PGlite(dataDir);
    await db.waitReady;
    return new PgliteDatabase(db);
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
