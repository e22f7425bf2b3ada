import { Client } from 'pg';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { eventually, fixtureServer, query, runCli, text, type FixtureServer } from './harness';

/**
 * A database that is reachable but does not keep up (here: its samples table locked by another session)
 * is not an outage. The sink keeps at most --buffer.max-samples in memory, then skips scrape rounds
 * (logged, counted with reason "backlog") rather than sending the backlog to disk, and once the database
 * moves again every scrape it did take is written.
 */
describeWithService('PostgreSQL', hasPostgres, 'sink behind a reachable but stalled database', () => {
  let pg: PgServer;
  let target: FixtureServer;
  const served: number[] = [];
  const gauges = Array.from({ length: 2000 }, (_, i) => `backlog_gauge{i="${i}"} ${i}`).join('\n');

  beforeAll(async () => {
    pg = await startPostgres();
    target = await fixtureServer((n, _req, res) => {
      served.push(n);
      text(res, `# TYPE backlog_requests_total counter\nbacklog_requests_total ${n}\n${gauges}\n`);
    });
  });

  afterAll(async () => {
    await target.close();
    await pg.destroy();
  });

  it('skips rounds while memory holds --buffer.max-samples, keeps nothing on disk, loses no scrape it took', async () => {
    const sink = runCli([
      'sink',
      `--scrape.target=${target.url}`,
      '--scrape.interval=1s',
      `--database.url=${pg.url}`,
      '--buffer.max-samples=5000', // two scrapes of ~2,004 samples
      '--web.listen-address=127.0.0.1:0',
      '--maintain.schedule=',
    ]);
    const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
    const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (text: string, series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? NaN : Number(line.slice(series.length + 1));
    };
    await eventually(
      async () => value(await metrics(), 'hostscope_sink_samples_written_total') > 0,
      'a first write',
    );

    const blocker = new Client({ connectionString: pg.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE hostscope.samples_blocks IN ACCESS EXCLUSIVE MODE');
      await sink.waitFor(/the database is behind by more than --buffer\.max-samples/, 60_000);
      await eventually(
        async () =>
          value(await metrics(), 'hostscope_sink_scrape_rounds_skipped_total{reason="backlog"}') >= 2,
        'rounds skipped for the backlog',
      );
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<
        string,
        unknown
      >;
      // Reachable, behind, bounded: a couple of scrapes in memory, nothing on disk.
      expect(health.database).toBe('up');
      expect(health.buffer_bytes).toBe(0);
      expect(Number(health.buffer_samples)).toBeLessThan(5000 + 2 * 2004);
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }

    // Moving again: scraping resumes, and on SIGTERM everything taken is written.
    const takenBefore = served.length;
    await eventually(async () => served.length >= takenBefore + 2, 'scraping again');
    sink.child.kill('SIGTERM');
    expect(await sink.exited).toBe(0);
    const stored = await query<{ v: number }>(
      pg.url,
      `SELECT value AS v FROM hostscope.samples WHERE metric = 'backlog_requests_total' ORDER BY value`,
    );
    // Every body the target served (each a scrape the sink took) is stored once; skipped rounds never
    // asked the target, so they are not in `served`.
    expect(stored.map((r) => r.v)).toEqual([...served].sort((a, b) => a - b));
  });
});
