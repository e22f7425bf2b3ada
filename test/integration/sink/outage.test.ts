import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeRecord } from '../../../src/sink/buffer/record';
import { readFrames, scanSegment } from '../../../src/sink/buffer/segment-file';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { errorLines, eventually, fixtureServer, query, runCli, text, type FixtureServer } from './harness';

/** The counter values in the scrapes of a buffer directory (read-only: the sink may be running). */
async function bufferedCounterValues(dir: string): Promise<number[]> {
  const values: number[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort()) {
    const file = path.join(dir, name);
    const scan = await scanSegment(file).catch(() => undefined); // deleted meanwhile
    if (scan === undefined) continue;
    const { frames } = await readFrames(file, 8, scan.validBytes, Number.MAX_SAFE_INTEGER).catch(() => ({
      frames: [],
    }));
    for (const f of frames) {
      const m = /^fixture_requests_total (\d+)$/m.exec(
        (await decodeRecord(f.payload)).body?.toString() ?? '',
      );
      if (m !== null) values.push(Number(m[1]));
    }
  }
  return values;
}

async function sinkMetrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function metricValue(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  return m === null ? NaN : Number(m[1]);
}

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
      `SELECT series_id, time FROM hostscope.samples GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);
    const series = await query<{ n: string }>(pg.url, `SELECT count(*) AS n FROM hostscope.series`);
    expect(Number(series[0]?.n)).toBe(5); // fixture_requests_total, fixture_gauge, up, duration, scraped
  });

  it('after kill -9 during an outage, a restart writes every scrape buffered before the kill, each once', async () => {
    // A target whose counter counts the responses it sent; while `hold` is set it answers nothing, so
    // that the test knows the last value served before the kill.
    let served = 0;
    let hold = false;
    const held: ServerResponse[] = [];
    const counter = await fixtureServer((_n, _req, res) => {
      if (hold) {
        held.push(res);
        return;
      }
      served++;
      text(res, `# TYPE fixture_requests_total counter\nfixture_requests_total ${served}\n`);
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-outage-buffer-'));
    try {
      const args = [
        ...sinkArgs().filter((a) => !a.startsWith('--scrape.target')),
        `--scrape.target=${counter.url}`,
        `--buffer.dir=${dir}`,
      ];
      const first = runCli(args);
      const port = Number((await first.waitFor(/"port":(\d+)/))[1]);
      await eventually(
        async () => (await storedCount('fixture_requests_total')) >= 2,
        'first scrapes stored',
      );
      await pg.stop();
      const atStop = served;
      await eventually(async () => served >= atStop + 4, 'scrapes during the outage');
      hold = true;
      const last = served;
      // Every scrape not stored before the stop is on disk (synced) before the kill.
      await eventually(async () => (await bufferedCounterValues(dir)).includes(last), 'last scrape on disk');
      const metrics = await sinkMetrics(port);
      expect(metricValue(metrics, /^hostscope_sink_buffer_bytes (\S+)$/m)).toBeGreaterThan(0);
      expect(metricValue(metrics, /^hostscope_sink_buffer_segments (\S+)$/m)).toBeGreaterThan(0);
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<
        string,
        unknown
      >;
      expect(Number(health.buffer_bytes)).toBeGreaterThan(0);
      const onDisk = await bufferedCounterValues(dir);
      first.child.kill('SIGKILL');
      await first.exited;
      for (const r of held.splice(0)) r.destroy();
      hold = false;

      // Restarted while the database is still down: it finds the segments and keeps buffering.
      const second = runCli(args);
      await second.waitFor(/found buffered scrapes from a previous run/);
      await eventually(async () => served >= last + 2, 'scrapes after the restart');
      await pg.start();
      await eventually(
        async () => (await storedCount('fixture_requests_total')) >= served - 1,
        'buffer written',
      );
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      // Every scrape on disk at the kill is stored; every value served is stored once, in order, but for
      // scrapes the sink gave up on (a timeout on a loaded machine: the target counted a response the
      // sink never took), each of which it logged.
      const stored = await storedCounterValues();
      expect(stored).toEqual([...new Set(stored)].sort((x, y) => x - y));
      expect(onDisk.filter((v) => !stored.includes(v))).toEqual([]);
      const missing = Array.from({ length: served }, (_, i) => i + 1).filter((v) => !stored.includes(v));
      const failedScrapes = [first, second]
        .map(
          (p) =>
            p
              .output()
              .split('\n')
              .filter((l) => l.includes('"msg":"scrape failed"')).length,
        )
        .reduce((x, y) => x + y, 0);
      expect(missing.length).toBeLessThanOrEqual(failedScrapes);
      // No damaged record, no failed write: only the outage itself is an error.
      const outageErrors = /database unreachable|maintenance failed/;
      expect(errorLines(second.output()).filter((l) => !outageErrors.test(l))).toEqual([]);
      // Committed segments are deleted; only the lock is gone too after a clean exit.
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await counter.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with a small --buffer.max-bytes drops the oldest scrapes, counts them and says so', async () => {
    // About 4 KB per scrape once compressed: random values do not compress.
    const noise = Array.from({ length: 300 }, (_, i) => `noise{i="${i}"} ${Math.random()}`).join('\n');
    let served = 0;
    const big = await fixtureServer((_n, _req, res) => {
      served++;
      text(
        res,
        `# TYPE fixture_requests_total counter\nfixture_requests_total ${served}\n${noise.replace(/ 0\.\d+/g, () => ` ${Math.random()}`)}\n`,
      );
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-outage-buffer-'));
    try {
      const sink = runCli([
        ...sinkArgs().filter((a) => !a.startsWith('--scrape.target')),
        `--scrape.target=${big.url}`,
        `--buffer.dir=${dir}`,
        '--buffer.max-bytes=16384',
      ]);
      const port = Number((await sink.waitFor(/"port":(\d+)/))[1]);
      await eventually(async () => (await storedCount('fixture_requests_total')) >= 1, 'first scrape stored');
      await pg.stop();
      await sink.waitFor(/buffer full \(--buffer.max-bytes\); dropped the oldest scrapes/, 60_000);
      const metrics = await sinkMetrics(port);
      const dropped = metricValue(
        metrics,
        /^hostscope_sink_samples_dropped_total\{reason="buffer_full"\} (\S+)$/m,
      );
      expect(dropped).toBeGreaterThan(0);
      expect(metricValue(metrics, /^hostscope_sink_buffer_bytes (\S+)$/m)).toBeLessThanOrEqual(16384);
      expect(metricValue(metrics, /^hostscope_sink_buffer_max_bytes (\S+)$/m)).toBe(16384);
      const log = sink
        .output()
        .split('\n')
        .find((l) => l.includes('buffer full (--buffer.max-bytes)'));
      expect(JSON.parse(log ?? '{}')).toMatchObject({ level: 'error', maxBytes: 16384 });
      expect(JSON.parse(log ?? '{}').samples).toBeGreaterThan(0);
      await pg.start();
      await eventually(async () => (await storedCounterValues()).includes(served), 'buffer written');
      sink.child.kill('SIGTERM');
      expect(await sink.exited).toBe(0);
      // The oldest scrapes of the outage are missing, the newest are all there.
      const values = await storedCounterValues();
      const gaps = values.filter((v, i) => i > 0 && v !== (values[i - 1] as number) + 1);
      expect(gaps.length).toBeGreaterThan(0);
      expect(values[values.length - 1]).toBe(served);
      expect(new Set(values).size).toBe(values.length);
    } finally {
      await big.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
