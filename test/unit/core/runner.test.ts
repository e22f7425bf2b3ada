import { Writable } from 'node:stream';
import { CollectorRunner } from '../../../src/collectors/runner';
import { NoDataError, SourceUnavailableError } from '../../../src/errors';
import { gather } from '../../../src/exporter/gather';
import { createLogger } from '../../../src/log/logger';
import { MetricSet } from '../../../src/metrics/metric-set';
import type { MetricFamily } from '../../../src/metrics/types';

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n'))
        if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', format: 'json' }, sink), lines };
}

const ok = { update: async () => new MetricSet().gauge('x_value', 'x', 1).families() };
const failing = {
  update: async (): Promise<MetricFamily[]> => {
    throw new Error('boom');
  },
};
const hanging = {
  update: (ctx: { signal: AbortSignal }) =>
    new Promise<MetricFamily[]>((resolve) => ctx.signal.addEventListener('abort', () => resolve([]))),
};
const noData = {
  update: async (): Promise<MetricFamily[]> => {
    throw new NoDataError('no hwmon here');
  },
};

function success(families: MetricFamily[], collector: string): number | undefined {
  return families
    .find((f) => f.name === 'node_scrape_collector_success')
    ?.samples.find((s) => s.labels.collector === collector)?.value;
}

describe('CollectorRunner', () => {
  it('serves the rest of the scrape when collectors fail, hang or have no data', async () => {
    const { logger, lines } = captureLogger();
    const runner = new CollectorRunner(
      [
        { name: 'ok', collector: ok },
        { name: 'failing', collector: failing },
        { name: 'hanging', collector: hanging },
        { name: 'nodata', collector: noData },
      ],
      50,
      logger,
    );
    const families = await runner.collect();
    expect(families.find((f) => f.name === 'x_value')?.samples[0]?.value).toBe(1);
    expect(success(families, 'ok')).toBe(1);
    expect(success(families, 'failing')).toBe(0);
    expect(success(families, 'hanging')).toBe(0);
    expect(success(families, 'nodata')).toBe(0);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.collector).sort()).toEqual(['failing', 'hanging']);
    expect(JSON.stringify(errors)).toContain('boom');
    expect(JSON.stringify(errors)).toContain('did not finish within 50 ms');
    expect(lines.some((l) => l.level === 'debug' && l.collector === 'nodata')).toBe(true);
  });

  it('logs a repeated failure at error level once, then at debug', async () => {
    const { logger, lines } = captureLogger();
    const runner = new CollectorRunner([{ name: 'failing', collector: failing }], 1000, logger);
    await runner.collect();
    await runner.collect();
    await runner.collect();
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'debug')).toHaveLength(2);
  });

  it('speaks of an absent source once when it goes and once when it is back, without a stack trace', async () => {
    const { logger, lines } = captureLogger();
    let reason: string | undefined = 'connect ENOENT /run/engine.sock';
    const engine = {
      update: async (): Promise<MetricFamily[]> => {
        if (reason === undefined) return new MetricSet().gauge('engine_up', 'up', 1).families();
        throw new SourceUnavailableError(
          'E_ENGINE',
          `engine not reachable: ${reason}`,
          new MetricSet().gauge('engine_up', 'up', 0).families(),
          {
            off: 'engine metrics are off',
            on: 'engine metrics are on',
            fields: { socket: '/run/engine.sock' },
            reason,
          },
        );
      },
    };
    const runner = new CollectorRunner([{ name: 'engine', collector: engine }], 1000, logger);
    const up = async (): Promise<number | undefined> =>
      (await runner.collect()).find((f) => f.name === 'engine_up')?.samples[0]?.value;
    expect(await up()).toBe(0);
    expect(await up()).toBe(0);
    reason = 'connect ECONNREFUSED /run/engine.sock'; // the socket appeared, the daemon is not listening yet
    expect(await up()).toBe(0);
    reason = undefined;
    expect(await up()).toBe(1);
    expect(await up()).toBe(1);
    const visible = lines
      .filter((l) => l.level !== 'debug')
      .map(({ level, msg, collector, socket, reason: r, err }) => ({
        level,
        msg,
        collector,
        socket,
        reason: r,
        err,
      }));
    expect(visible).toEqual([
      {
        level: 'warn',
        msg: 'engine metrics are off',
        collector: 'engine',
        socket: '/run/engine.sock',
        reason: 'connect ENOENT /run/engine.sock',
        err: undefined,
      },
      {
        level: 'info',
        msg: 'engine metrics are on',
        collector: 'engine',
        socket: '/run/engine.sock',
        reason: undefined,
        err: undefined,
      },
    ]);
    // Gone again: one more warning.
    reason = 'connect ENOENT /run/engine.sock';
    expect(await up()).toBe(0);
    expect(await up()).toBe(0);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });
});

describe('gather', () => {
  it('merges same-name families, drops conflicting types, duplicate series and invalid names', () => {
    const { families, problems } = gather([
      { name: 'a_total', help: 'a', type: 'counter', samples: [{ labels: { x: '1' }, value: 1 }] },
      {
        name: 'a_total',
        help: 'a',
        type: 'counter',
        samples: [
          { labels: { x: '2' }, value: 2 },
          { labels: { x: '1' }, value: 9 },
        ],
      },
      { name: 'a_total', help: 'a', type: 'gauge', samples: [{ labels: { x: '3' }, value: 3 }] },
      { name: 'bad-name', help: '', type: 'gauge', samples: [{ labels: {}, value: 1 }] },
      { name: 'b', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'v' }, value: 1 }] },
    ]);
    const a = families.find((f) => f.name === 'a_total');
    expect(a?.samples.map((s) => s.value)).toEqual([1, 2]);
    expect(problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/duplicate series/),
      expect.stringMatching(/type gauge conflicts with counter/),
      expect.stringMatching(/invalid label name/),
      'invalid metric name',
    ]);
    // Sorted by name, the exposition's order.
    expect(families.map((f) => f.name)).toEqual(['a_total', 'b']);
  });

  it('sorts a family collected out of order by series, keeping the first of a repeated series', () => {
    const { families, problems } = gather([
      {
        name: 'net_bytes',
        help: 'n',
        type: 'counter',
        samples: [
          { labels: { device: 'lo' }, value: 1 },
          { labels: { device: 'eth0' }, value: 2 },
          { labels: { device: 'ifb0' }, value: 3 },
          { labels: { device: 'eth0' }, value: 4 },
          { labels: { 'bad-label': 'x' }, value: 5 },
        ],
      },
    ]);
    expect(families[0]?.samples.map((s) => s.value)).toEqual([2, 3, 1]);
    expect(problems.map((p) => p.problem)).toEqual([
      'invalid label name; sample dropped',
      'duplicate series {device="eth0"}; sample dropped',
    ]);
  });
});
