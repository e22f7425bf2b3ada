import {
  align,
  counterRates,
  historyCharts,
  liveCharts,
  mergePoints,
  type Point,
  type SeriesAnswer,
} from '../../../src/web/client/data';
import { bytes, duration } from '../../../src/web/client/format';
import type { LivePoint } from '../../../src/web/protocol';

const answer = (
  metric: string,
  series: { labels: Record<string, string>; points: Point[] }[],
): SeriesAnswer => ({
  metric,
  from: 0,
  to: 1000,
  step: 100,
  source: 'raw',
  series,
});
const pts = (values: (number | null)[], step = 100): Point[] => values.map((v, i) => [i * step, v, v, v, 1]);

describe('page chart data (pure)', () => {
  it('turns counters into rates, skipping resets and gaps', () => {
    expect([...counterRates(pts([0, 100, 300, 50, 150]))]).toEqual([
      [100, 1],
      [200, 2],
      [400, 1],
    ]);
    expect([
      ...counterRates([
        [0, 0, 0, 0, 1],
        [300, 600, 600, 600, 1],
      ]),
    ]).toEqual([[300, 2]]);
  });

  it('aligns series on the union of their times', () => {
    const d = align([
      {
        label: 'a',
        values: new Map([
          [1, 10],
          [3, 30],
        ]),
      },
      { label: 'b', values: new Map([[2, 20]]) },
    ]);
    expect(d.x).toEqual([1, 2, 3]);
    expect(d.series).toEqual([
      { label: 'a', values: [10, null, 30] },
      { label: 'b', values: [null, 20, null] },
    ]);
  });

  it('history: CPU % per mode over every CPU, memory used, network without lo, filesystems used %', () => {
    const cpu = answer('node_cpu_seconds_total', [
      { labels: { cpu: '0', mode: 'user' }, points: pts([0, 50, 100]) },
      { labels: { cpu: '1', mode: 'user' }, points: pts([0, 30, 60]) },
      { labels: { cpu: '0', mode: 'idle' }, points: pts([0, 50, 100]) },
      { labels: { cpu: '1', mode: 'idle' }, points: pts([0, 70, 140]) },
    ]);
    const charts = historyCharts({
      cpu: [cpu],
      memTotal: answer('t', [{ labels: {}, points: pts([1000, 1000]) }]),
      memAvailable: answer('a', [{ labels: {}, points: pts([600, 400]) }]),
      rx: answer('rx', [
        { labels: { device: 'eth0' }, points: pts([0, 1000]) },
        { labels: { device: 'lo' }, points: pts([0, 99_999]) },
      ]),
      fsSize: answer('s', [{ labels: { mountpoint: '/', device: 'sda' }, points: pts([200, 200]) }]),
      fsAvail: answer('a', [{ labels: { mountpoint: '/', device: 'sda' }, points: pts([150, 50]) }]),
    });
    expect(charts.cpu.series.map((s) => s.label)).toEqual(['user']);
    // (0.5 + 0.3) / 2 CPUs = 40 %.
    expect(charts.cpu.series[0]?.values).toEqual([40, 40]);
    expect(charts.memory.series).toEqual([
      { label: 'used', values: [400, 600] },
      { label: 'total', values: [1000, 1000] },
    ]);
    expect(charts.network.series[0]).toEqual({ label: 'receive', values: [10] });
    expect(charts.filesystems.series).toEqual([{ label: '/', values: [25, 75] }]);
    expect(charts.disk.x).toEqual([]);
  });

  it('live: charts from the stream points, modes but idle, the fullest filesystems', () => {
    const p = (t: number, fs: Record<string, number>): LivePoint => ({
      t,
      cpu: { user: 10, system: 5, idle: 85 },
      mem_used: 1,
      mem_total: 2,
      load1: 1,
      load5: 1,
      load15: 1,
      rx: 5,
      tx: 6,
      read: null,
      written: null,
      fs,
    });
    const charts = liveCharts([p(1, { '/': 50 }), p(2, { '/': 51, '/data': 90 })]);
    expect(charts.cpu.series.map((s) => s.label)).toEqual(['user', 'system']);
    expect(charts.filesystems.series.map((s) => s.label)).toEqual(['/data', '/']);
    expect(charts.disk.series.every((s) => s.values.every((v) => v === null))).toBe(true);
  });

  it('merges a reconnect backlog by time, bounded', () => {
    const p = (t: number): LivePoint => ({
      t,
      cpu: {},
      mem_used: t,
      mem_total: null,
      load1: null,
      load5: null,
      load15: null,
      rx: null,
      tx: null,
      read: null,
      written: null,
      fs: {},
    });
    expect(mergePoints([p(1), p(2), p(3)], [p(3), p(4), p(5)], 4).map((x) => x.t)).toEqual([2, 3, 4, 5]);
  });

  it('formats bytes and durations', () => {
    expect(bytes(1536)).toBe('1.50 KiB');
    expect(bytes(5 * 1024 ** 3)).toBe('5.00 GiB');
    expect(duration(90_000)).toBe('1 d 1 h');
    expect(duration(59)).toBe('59 s');
  });
});
