import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, type PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database, Queryable, Row } from './database';

function clientQueryable(client: PoolClient): Queryable {
  return {
    async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await client.query<R>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
    async copyBinary(target: string, payload: Buffer): Promise<void> {
      const stream = client.query(copyFrom(`COPY ${target} FROM STDIN (FORMAT binary)`));
      await pipeline(Readable.from([payload]), stream);
    },
  };
}

/** PostgreSQL over the network through a small pg pool. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly bulkWorkMem = '256MB';
  private readonly pool: Pool;

  constructor(
    url: string,
    options: { max?: number; connectTimeoutMs?: number; applicationName?: string } = {},
  ) {
    this.pool = new Pool({
      connectionString: url,
      max: options.max ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      application_name: options.applicationName ?? 'hostscope',
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its server (outage) emits here; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const result = await this.pool.query<R>(sql, params as unknown[]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async copyBinary(target: string, payload: Buffer): Promise<void> {
    await this.session((s) => s.copyBinary(target, payload));
  }

  async session<T>(fn: (s: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(clientQueryable(client));
    } catch (err) {
      broken = broken ?? (err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      client.off('error', onError);
      // A client whose statement failed may be mid-COPY or mid-transaction: never reuse it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
