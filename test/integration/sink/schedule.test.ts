import type { ServerResponse } from 'node:http';
import { fixtureServer, runCli, text, type FixtureServer } from './harness';

/**
 * The scrape schedule against a target slower than the interval: every round times out at the interval
 * (--scrape.timeout is capped at it), so the next tick finds it still running. That must be logged once
 * per skipped tick through pino, counted, and nothing of node-cron's own console output may appear.
 */
describe('sink scrape schedule', () => {
  let slow: FixtureServer;
  const pending: ServerResponse[] = [];

  beforeAll(async () => {
    slow = await fixtureServer((_n, _req, res) => {
      pending.push(res);
      setTimeout(() => text(res, 'late_metric 1\n'), 3000).unref();
    });
  });

  afterAll(async () => {
    for (const r of pending) r.destroy();
    await slow.close();
  });

  it('skips a tick while the previous round runs, logs it through pino and counts it', async () => {
    const sink = runCli([
      'sink',
      `--scrape.target=${slow.url}`,
      '--scrape.interval=1s',
      '--scrape.timeout=5s',
      // Nothing listens on port 1: writes fail and scrapes go to the (temporary) disk buffer.
      '--database.url=postgres://hostscope@127.0.0.1:1/hostscope',
      '--web.listen-address=127.0.0.1:0',
      '--maintain.schedule=',
      '--shutdown.timeout=1s',
    ]);
    const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
    const line = await sink.waitFor(/^.*scrape round still running at the next tick.*$/m, 30_000);
    const entry = JSON.parse(line[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', targets: [slow.url] });
    expect(Number(entry.runningMs)).toBeGreaterThan(0);
    expect(typeof entry.tick).toBe('string');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(
      Number(/^hostscope_sink_scrape_rounds_skipped_total\{reason="overrun"\} (\S+)$/m.exec(metrics)?.[1]),
    ).toBeGreaterThan(0);
    sink.child.kill('SIGTERM');
    await sink.exited;
    const out = sink.output();
    // One log format: every line is pino JSON; node-cron's coloured console messages never appear.
    expect(out).not.toMatch(/still running, new execution blocked/);
    expect(out).not.toMatch(/NODE-CRON/);
    expect(out).not.toMatch(/\x1b\[/); // eslint-disable-line no-control-regex
    for (const l of out.split('\n').filter((x) => x.trim() !== '')) expect(() => JSON.parse(l)).not.toThrow();
  });
});
