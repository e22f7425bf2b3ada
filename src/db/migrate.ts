import { createHash } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { Database } from './database';
import { MIGRATIONS, type Migration } from './migrations';

/** Advisory lock key shared by every hostscope migrator (any constant would do; this one spells "hsmg"). */
export const MIGRATION_LOCK_KEY = 0x68736d67;

export interface MigrationResult {
  readonly applied: readonly number[];
  readonly current: number;
}

function checksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

/**
 * Applies pending migrations under a session advisory lock, each in its own transaction, so that two
 * sinks starting at once (or `hostscope migrate` next to a running sink) never apply one twice.
 */
export async function migrate(
  db: Database,
  logger: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  return db.session(async (s) => {
    await s.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await s.exec(`
        CREATE SCHEMA IF NOT EXISTS hostscope;
        CREATE TABLE IF NOT EXISTS hostscope.schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        );`);
      const rows = await s.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM hostscope.schema_migrations ORDER BY version',
      );
      const done = new Map(rows.map((r) => [Number(r.version), r.checksum]));
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        const sum = checksum(m);
        const prior = done.get(m.version);
        if (prior !== undefined) {
          if (prior !== sum)
            logger.warn({ version: m.version, name: m.name }, 'applied migration differs from this build');
          continue;
        }
        await s.exec('BEGIN');
        try {
          await s.exec(m.sql);
          await s.query(
            'INSERT INTO hostscope.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
            [m.version, m.name, sum],
          );
          await s.exec('COMMIT');
        } catch (err) {
          await s.exec('ROLLBACK').catch(() => undefined);
          throw err;
        }
        applied.push(m.version);
        logger.info({ version: m.version, name: m.name }, 'applied migration');
      }
      const versions = [...done.keys(), ...applied];
      return { applied, current: versions.length === 0 ? 0 : Math.max(...versions) };
    } finally {
      await s.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
}
