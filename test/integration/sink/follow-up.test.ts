import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { fixtureServer, query, runCli, sleep, text, type FixtureServer } from './harness';

/**
 * Follow-up scrapes (Sink.followUp): a target's first successful scrape is followed by two more, 1 s
 * apart, within the same round, so that rates exist at once (the live page's CPU and throughput charts
 * need two of them). They are stored like any scrape and counted; a target whose first scrape fails gets
 * them after its first success; they are never taken when they could overrun the next tick (a time limit
 * as long as the interval), and later rounds take one scrape per target. Rounds are told apart by the
 * sink's own counter (hostscope_sink_scrape_rounds_total), not by a clock.
 */
describeWithService('PostgreSQL', hasPostgres, 'sink follow-up scrapes', () => {
  let pg: PgServer;
  const servers: FixtureServer[] = [];
  const body = (n: number): string =>
    `# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total{cpu="0",mode="idle"} ${100 + n}\nnode_cpu_seconds_total{cpu="0",mode="user"} ${10 + n}\n`;

  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    await pg?.destroy();
  });

  const counter = (metrics: string, name: string, labels = ''): number =>
    Number(
      new RegExp(`^${name}${labels.replace(/[{}]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics)?.[1] ??
        NaN,
    );

  it('scrapes a new target twice more within its first round, stores them, and only once a round after', async () => {
    // Request numbers, by target, tagged with the sink's round counter read when the request came in.
    const seen: { target: string; n: number; round: number }[] = [];
    let metricsUrl = '';
    const roundNow = async (): Promise<number> =>
      metricsUrl === ''
        ? 0
        : counter(await (await fetch(metricsUrl)).text(), 'hostscope_sink_scrape_rounds_total');
    const good = await fixtureServer((n, _req, res) => {
      void roundNow().then((round) => {
        seen.push({ target: 'good', n, round });
        text(res, body(n));
      });
    });
    // Fails its first scrape: its follow-ups come with its first success, in the next round.
    const flaky = await fixtureServer((n, _req, res) => {
      void roundNow().then((round) => {
        seen.push({ target: 'flaky', n, round });
        if (n === 1) text(res, 'down\n', 500);
        else text(res, body(n));
      });
    });
    servers.push(good, flaky);
    const sink = runCli([
      'sink',
      `--scrape.target=${good.url}`,
      `--scrape.target=${flaky.url}`,
      '--scrape.interval=10s',
      '--scrape.timeout=2s',
      `--database.url=${pg.url}`,
      '--web.listen-address=127.0.0.1:0',
      '--maintain.schedule=',
    ]);
    try {
      const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
      metricsUrl = `http://127.0.0.1:${port}/metrics`;
      // Five requests each: the good target's first round (three) and two more rounds.
      const deadline = Date.now() + 60_000;
      while (['good', 'flaky'].some((t) => seen.filter((s) => s.target === t).length < 5)) {
        if (Date.now() > deadline)
          throw new Error(`five requests each did not come: ${JSON.stringify(seen)}`);
        await sleep(250);
      }
      const rounds = (target: string): number[] =>
        seen.filter((s) => s.target === target).map((s) => s.round);
      // good: its first round's scrape and two follow-ups, then one a round.
      expect(rounds('good').slice(0, 5)).toEqual([1, 1, 1, 2, 3]);
      // flaky: a failed first scrape (no follow-ups), then its first success and two follow-ups.
      expect(rounds('flaky').slice(0, 5)).toEqual([1, 2, 2, 2, 3]);
      const metrics = await (await fetch(metricsUrl)).text();
      expect(counter(metrics, 'hostscope_sink_follow_up_scrapes_total')).toBe(4);
      expect(counter(metrics, 'hostscope_sink_scrape_rounds_skipped_total', '{reason="overrun"}')).toBe(0);
      // Stored like any scrape: the good target's first round is three `up` samples, 1 s apart at least.
      await sleep(1000);
      const ups = await query<{ t: number }>(
        pg.url,
        `SELECT extract(epoch FROM time)::float8 AS t FROM hostscope.samples
          WHERE metric = 'up' AND value = 1 AND labels->>'instance' = $1 ORDER BY time LIMIT 3`,
        [new URL(good.url).host],
      );
      expect(ups).toHaveLength(3);
      const [a, b, c] = ups.map((r) => r.t) as [number, number, number];
      expect(b - a).toBeGreaterThanOrEqual(0.999);
      expect(c - b).toBeGreaterThanOrEqual(0.999);
      // And the rates they were taken for: host_usage has a CPU figure from the second scrape on.
      const usage = await query<{ cpu: number | null }>(
        pg.url,
        `SELECT cpu_percent AS cpu FROM hostscope.host_usage WHERE instance = $1 ORDER BY time LIMIT 2`,
        [new URL(good.url).host],
      );
      expect(usage.map((u) => u.cpu === null)).toEqual([true, false]);
    } finally {
      sink.child.kill('SIGTERM');
      await sink.exited;
    }
  }, 120_000);

  it('takes none when a follow-up could overrun the next tick (time limit as long as the interval)', async () => {
    const target = await fixtureServer((n, _req, res) => text(res, body(n)));
    servers.push(target);
    const sink = runCli([
      'sink',
      `--scrape.target=${target.url}`,
      '--scrape.interval=2s', // --scrape.timeout (10 s) is capped at the interval
      `--database.url=${pg.url}`,
      '--web.listen-address=127.0.0.1:0',
      '--maintain.schedule=',
    ]);
    try {
      const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
      const url = `http://127.0.0.1:${port}/metrics`;
      const deadline = Date.now() + 60_000;
      let metrics = '';
      for (;;) {
        metrics = await (await fetch(url)).text();
        if (counter(metrics, 'hostscope_sink_scrape_rounds_total') >= 3) break;
        if (Date.now() > deadline) throw new Error('three rounds did not start');
        await sleep(250);
      }
      expect(counter(metrics, 'hostscope_sink_follow_up_scrapes_total')).toBe(0);
      expect(target.requests).toBe(counter(metrics, 'hostscope_sink_scrape_rounds_total'));
    } finally {
      sink.child.kill('SIGTERM');
      await sink.exited;
    }
  }, 120_000);
});
