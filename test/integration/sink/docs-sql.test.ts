import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { migrate } from '../../../src/db/migrate';
import { PostgresDatabase } from '../../../src/db/postgres';
import { silentLogger } from '../../../src/log/logger';
import { runSeed } from '../../../src/sink/seed';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';

/** Every SQL example in docs/sql.md and the README runs on a seeded database. */
describeWithService('PostgreSQL', hasPostgres, 'docs/sql.md examples', () => {
  let pg: PgServer;
  let db: PostgresDatabase;

  beforeAll(async () => {
    pg = await startPostgres();
    db = new PostgresDatabase(pg.url);
    await migrate(db, silentLogger());
    await runSeed(db, { hosts: 2, days: 2, stepMs: 300_000, nowMs: Date.now(), seed: 5 }, silentLogger());
  });

  afterAll(async () => {
    await db.close();
    await pg.destroy();
  });

  const doc = ['docs/sql.md', 'README.md']
    .map((f) => readFileSync(path.join(__dirname, '../../..', f), 'utf8'))
    .join('\n');
  const statements = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] as string).split(/;\s*\n/))
    .map((s) => s.trim())
    .filter((s) => s.replace(/--.*$/gm, '').trim() !== '');

  it('has examples', () => {
    expect(statements.length).toBeGreaterThanOrEqual(10);
  });

  it.each(statements.map((s) => [s.split('\n')[0] as string, s]))('%s', async (_title, sql) => {
    const seeded = sql.replace(/web-1/g, 'seed-host-01');
    await expect(db.query(seeded)).resolves.toBeDefined();
  });
});
