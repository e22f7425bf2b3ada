import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { errorLines, fixtureServer, query, runCli, text, type FixtureServer } from './harness';

const HOSTILE = [
  `'); drop table hostscope.samples; --`,
  'quote " backslash \\ newline \n tab \t',
  'unicode: 日本語 ☃ 😀 \u202e rtl',
  'x'.repeat(10_240),
];
const LONG_NAME = `hostile_${'n'.repeat(2000)}`;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

describeWithService(
  'PostgreSQL',
  hasPostgres,
  'sink --once against good, down, slow and garbage targets',
  () => {
    let pg: PgServer;
    let exporter: ReturnType<typeof runCli>;
    let exporterUrl: string;
    const servers: FixtureServer[] = [];

    beforeAll(async () => {
      pg = await startPostgres();
      exporter = runCli(['exporter', '--web.listen-address=127.0.0.1:0', '--log.format=json']);
      const m = await exporter.waitFor(/"port":(\d+)/);
      exporterUrl = `http://127.0.0.1:${m[1]}/metrics`;
    });

    afterAll(async () => {
      exporter.child.kill('SIGTERM');
      await exporter.exited;
      await Promise.all(servers.map((s) => s.close()));
      await pg.destroy();
    });

    it('stores the real exporter and hostile samples verbatim, records failing targets as up 0, exits 0', async () => {
      const hostileBody =
        HOSTILE.map((v, i) => `hostile_labels{i="${i}",v="${escapeLabel(v)}"} ${i}`).join('\n') +
        `\n${LONG_NAME} 42\nspecial_values{v="nan"} NaN\nspecial_values{v="inf"} +Inf\nspecial_values{v="-inf"} -Inf\n`;
      const hostile = await fixtureServer((_n, _req, res) => text(res, hostileBody));
      const garbage = await fixtureServer((_n, _req, res) => text(res, 'this is { not "an exposition\n'));
      const failing = await fixtureServer((_n, _req, res) => text(res, 'oops\n', 500));
      const slow = await fixtureServer((_n, _req, res) => {
        setTimeout(() => text(res, 'late_metric 1\n'), 5000).unref();
      });
      servers.push(hostile, garbage, failing, slow);
      const down = 'http://127.0.0.1:1/metrics';
      const targets = [exporterUrl, hostile.url, garbage.url, failing.url, slow.url, down];
      const sink = runCli([
        'sink',
        '--once',
        `--database.url=${pg.url}`,
        '--web.listen-address=',
        '--scrape.timeout=3s',
        ...targets.map((t) => `--scrape.target=${t}`),
      ]);
      expect(await sink.exited).toBe(0);
      const out = sink.output();
      for (const t of [garbage.url, failing.url, slow.url, down]) expect(out).toContain(`"target":"${t}"`);
      expect(errorLines(out)).toEqual([]);

      const ups = await query<{ instance: string; value: number }>(
        pg.url,
        `SELECT labels->>'instance' AS instance, value FROM hostscope.samples WHERE metric = 'up'`,
      );
      const up = Object.fromEntries(ups.map((r) => [r.instance, r.value]));
      const inst = (u: string): string => new URL(u).host;
      expect(up).toEqual({
        [inst(exporterUrl)]: 1,
        [inst(hostile.url)]: 1,
        [inst(garbage.url)]: 0,
        [inst(failing.url)]: 0,
        [inst(slow.url)]: 0,
        '127.0.0.1:1': 0,
      });
      // The real exporter's samples are all there, with its instance and the default job.
      const exp = await query<{ n: string; scraped: number }>(
        pg.url,
        `SELECT count(*) AS n,
              (SELECT value FROM hostscope.samples WHERE metric = 'scrape_samples_scraped' AND labels->>'instance' = $1) AS scraped
         FROM hostscope.samples WHERE labels->>'instance' = $1 AND labels->>'job' = 'hostscope'
          AND metric NOT IN ('up', 'scrape_duration_seconds', 'scrape_samples_scraped')`,
        [inst(exporterUrl)],
      );
      expect(Number(exp[0]?.n)).toBe(exp[0]?.scraped);
      expect(Number(exp[0]?.n)).toBeGreaterThan(100);
      const load = await query(pg.url, `SELECT 1 FROM hostscope.samples WHERE metric = 'node_load1'`);
      expect(load).toHaveLength(1);

      // Hostile values and names: stored byte for byte, and the schema is intact.
      const rows = await query<{ i: string; v: string; value: number }>(
        pg.url,
        `SELECT labels->>'i' AS i, labels->>'v' AS v, value FROM hostscope.samples WHERE metric = 'hostile_labels' ORDER BY 1`,
      );
      expect(rows.map((r) => r.v)).toEqual(HOSTILE);
      const long = await query<{ value: number }>(
        pg.url,
        'SELECT value FROM hostscope.samples WHERE metric = $1',
        [LONG_NAME],
      );
      expect(long).toEqual([{ value: 42 }]);
      const special = await query<{ v: string; value: string }>(
        pg.url,
        `SELECT labels->>'v' AS v, value::text AS value FROM hostscope.samples WHERE metric = 'special_values' ORDER BY 1`,
      );
      expect(special).toEqual([
        { v: '-inf', value: '-Infinity' },
        { v: 'inf', value: 'Infinity' },
        { v: 'nan', value: 'NaN' },
      ]);

      // Its last line accounts for everything: scrapes, failed ones, and every sample written is stored.
      const last = JSON.parse(out.trim().split('\n').pop() as string) as {
        msg: string;
        written: number;
        scrapes: number;
        scrapeFailures: number;
        dropped: Record<string, number>;
      };
      const stored = await query<{ n: string }>(pg.url, 'SELECT count(*) AS n FROM hostscope.samples');
      expect(last).toMatchObject({ msg: 'stopped', scrapes: targets.length, scrapeFailures: 4 });
      expect(last.written).toBe(Number(stored[0]?.n));
      expect(Object.values(last.dropped).reduce((a, b) => a + b, 0)).toBe(0);
    });
  },
);
