import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { errorLines, eventually, fixtureServer, query, runCli, text, type FixtureServer } from './harness';

/**
 * The sink against its own private PostgreSQL that the tests stop and start. The fixture target serves a
 * counter equal to its request number, so every scrape is identifiable: "no gap" means every number from 1
 * to the number of requests served is stored, each once.
 */
describeWithService('PostgreSQL', hasPostgres, 'sink through database outages, SIGTERM and crashes', () => {
  let pg: PgServer;
  let target: FixtureServer;

  beforeAll(async () => {
    pg = await startPostgres();
    target = await fixtureServer((n, _req, res) =>
      text(
        res,
        `# TYPE fixture_requests_total counter\nfixture_requests_total ${n}\nfixture_gauge{kind="x"} ${n * 2}\n`,
      ),
    );
  });

  afterAll(async () => {
    await target.close();
    await pg.destroy();
  });

  beforeEach(async () => {
    await query(pg.url, 'DROP SCHEMA IF EXISTS hostscope CASCADE');
    target.requests = 0;
  });

  const sinkArgs = (): string[] => [
    'sink',
    `--scrape.target=${target.url}`,
    '--scrape.interval=1s',
    '--scrape.timeout=900ms',
    `--database.url=${pg.url}`,
    '--web.listen-address=127.0.0.1:0',
    '--maintain.schedule=',
    '--shutdown.timeout=60s',
  ];

  async function storedCounterValues(): Promise<number[]> {
    const rows = await query<{ value: number }>(
      pg.url,
      `SELECT value FROM hostscope.samples WHERE metric = 'fixture_requests_total' ORDER BY time`,
    );
    return rows.map((r) => r.value);
  }

  async function storedCount(metric: string): Promise<number> {
    const rows = await query<{ n: string }>(
      pg.url,
      'SELECT count(*) AS n FROM hostscope.samples WHERE metric = $1',
      [metric],
    );
    return Number(rows[0]?.n);
  }

  it('buffers while PostgreSQL is stopped and writes every scrape when it returns, with no gap', async () => {
    const sink = runCli(sinkArgs());
    const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
    await eventually(async () => (await storedCount('fixture_requests_total')) >= 3, 'first scrapes stored');

    await pg.stop();
    const atStop = target.requests;
    await eventually(async () => target.requests >= atStop + 4, 'scrapes during the outage');
    // While down: scrapes go on, the buffer holds them, /health says so.
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    expect(health.database).toBe('unreachable');
    expect(Number(health.buffer_samples)).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/hostscope_sink_buffer_samples [1-9]/);
    expect(metrics).toMatch(/hostscope_sink_write_failures_total [1-9]/);

    await pg.start();
    await eventually(
      async () => (await storedCount('fixture_requests_total')) >= target.requests - 1,
      'buffer written',
    );
    sink.child.kill('SIGTERM');
    expect(await sink.exited).toBe(0);

    const values = await storedCounterValues();
    const served = target.requests;
    expect(values).toEqual(Array.from({ length: served }, (_, i) => i + 1));
    // One up=1 per scrape, on the same timestamps.
    expect(await storedCount('up')).toBe(served);
    expect(sink.output()).toContain('database unreachable; buffering');
    expect(sink.output()).toContain('database reachable again');
    const after = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    expect(after).toBeUndefined(); // the listener is closed after exit
  });

  it('on SIGTERM writes what is buffered before exiting, waiting for the database within the deadline', async () => {
    const sink = runCli(sinkArgs());
    await eventually(async () => (await storedCount('fixture_requests_total')) >= 2, 'first scrapes stored');
    await pg.stop();
    const atStop = target.requests;
    await eventually(async () => target.requests >= atStop + 3, 'scrapes buffered during the outage');
    sink.child.kill('SIGTERM');
    await sink.waitFor(/shutting down; writing the buffer/);
    await pg.start();
    expect(await sink.exited).toBe(0);
    const values = await storedCounterValues();
    expect(values).toEqual(Array.from({ length: target.requests }, (_, i) => i + 1));
  });

  it('starts while PostgreSQL is down: scrapes and buffers, then migrates and writes everything', async () => {
    await pg.stop();
    const sink = runCli(sinkArgs());
    await sink.waitFor(/hostscope sink started/);
    await eventually(async () => target.requests >= 3, 'scrapes before the database exists');
    await pg.start();
    await eventually(
      async () => (await storedCount('fixture_requests_total')) >= 3,
      'buffer written after migrating',
    );
    sink.child.kill('SIGTERM');
    expect(await sink.exited).toBe(0);
    expect(await storedCounterValues()).toEqual(Array.from({ length: target.requests }, (_, i) => i + 1));
    expect(sink.output()).toContain('applied migration');
  });

  it('after a crash (SIGKILL) restarts without duplicates or errors', async () => {
    const first = runCli(sinkArgs());
    await eventually(async () => (await storedCount('fixture_requests_total')) >= 3, 'first run stored');
    first.child.kill('SIGKILL');
    await first.exited;
    const before = await storedCounterValues();
    const second = runCli(sinkArgs());
    await eventually(
      async () => (await storedCount('fixture_requests_total')) >= before.length + 3,
      'second run stored',
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(errorLines(second.output())).toEqual([]);
    const values = await storedCounterValues();
    // Strictly increasing: every stored scrape is a different one, none twice.
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1] as number);
    const dupes = await query(
      pg.url,
      `SELECT series_id, time FROM hostscope.samples_raw GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);
    const series = await query<{ n: string }>(pg.url, `SELECT count(*) AS n FROM hostscope.series`);
    expect(Number(series[0]?.n)).toBe(5); // fixture_requests_total, fixture_gauge, up, duration, scraped
  });
});
