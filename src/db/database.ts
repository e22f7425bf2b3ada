/**
 * The sink's view of a database: PostgreSQL over the network (pg) or the embedded PGlite. Both speak the
 * same SQL; only the transport of binary COPY differs.
 */

export type Row = Record<string, unknown>;

export interface Queryable {
  /** Runs one parameterised statement and returns its rows. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** `COPY <target> FROM STDIN (FORMAT binary)` with an already encoded payload. */
  copyBinary(target: string, payload: Buffer): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * `work_mem` for one large statement such as the hourly rollup (`SET LOCAL work_mem = ...`). Small for
   * PGlite, whose WebAssembly memory grows to what one statement took and never shrinks.
   */
  readonly bulkWorkMem: string;
  /** Runs `fn` on one dedicated connection (advisory locks, transactions). */
  session<T>(fn: (s: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Runs `fn` inside BEGIN/COMMIT on one connection; rolls back when it throws. */
export async function transaction<T>(db: Database, fn: (s: Queryable) => Promise<T>): Promise<T> {
  return db.session((s) => inTransaction(s, fn));
}

/** Runs `fn` inside BEGIN/COMMIT on a session; rolls back when it throws. */
export async function inTransaction<T>(s: Queryable, fn: (s: Queryable) => Promise<T>): Promise<T> {
  await s.exec('BEGIN');
  try {
    const result = await fn(s);
    await s.exec('COMMIT');
    return result;
  } catch (err) {
    await s.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** One table's share of a bulk write: its rows as a binary COPY payload. */
export interface CopyPart {
  readonly table: string;
  readonly columns: readonly string[];
  readonly payload: Buffer;
  /** What a row that collides with a stored one does (default: keeps the stored one). */
  readonly onConflict?: string;
}

/**
 * Bulk writes of new rows (`seed`), all parts in one transaction: COPY straight into the `hostscope`
 * tables, the fast path. When some rows are already stored (a unique violation: the same range seeded
 * twice), the whole write is redone through staging tables with `INSERT ... ON CONFLICT`. `s` must be
 * one session.
 */
export async function copyNewRows(s: Queryable, parts: readonly CopyPart[]): Promise<void> {
  try {
    await inTransaction(s, async () => {
      for (const p of parts) await s.copyBinary(`hostscope.${p.table} (${p.columns.join(', ')})`, p.payload);
    });
    return;
  } catch (err) {
    if (sqlState(err) !== '23505') throw err;
  }
  for (const p of parts)
    await s.exec(
      `CREATE TEMP TABLE IF NOT EXISTS hs_staging_${p.table} (LIKE hostscope.${p.table}) ON COMMIT DELETE ROWS`,
    );
  await inTransaction(s, async () => {
    for (const p of parts) {
      const list = p.columns.join(', ');
      await s.copyBinary(`hs_staging_${p.table} (${list})`, p.payload);
      await s.exec(
        `INSERT INTO hostscope.${p.table} (${list}) SELECT ${list} FROM hs_staging_${p.table}
         ON CONFLICT ${p.onConflict ?? 'DO NOTHING'}`,
      );
    }
  });
}

/** SQLSTATE of a database error, when there is one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** True for errors that mean "the server is unreachable or went away" (retry later, keep buffering). */
export function isConnectionError(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P03';
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code))
    return true;
  const message = err instanceof Error ? err.message : String(err);
  return /Connection terminated|connection (?:is )?closed|not queryable|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    message,
  );
}

/**
 * A URL fit for a log: its password replaced by `***`. Also a malformed one (`postgres:/user:pass@host`
 * parses with the credentials in its path): anything shaped like `user:password@` is masked.
 */
export function redactUrl(url: string): string {
  let out = url;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    out = u.toString();
  } catch {
    // masked below
  }
  return out.replace(/([^/:@\s]*):[^/@\s]*@/g, '$1:***@');
}
