import {
  align,
  historyCharts,
  liveCharts,
  mergePoints,
  type Point,
  type RatePoint,
  type RatesAnswer,
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

  it('history: CPU % per mode over the CPUs summed, memory used, throughput with other, filesystems, containers', () => {
    const rates = (
      groups: { value: string; points: RatePoint[] }[],
      other: RatePoint[] | null = null,
    ): RatesAnswer => ({
      from: 0,
      to: 1000,
      step: 100,
      source: 'raw',
      series_count: 2,
      groups: groups.map((g) => ({ ...g, series: 2 })),
      other: other === null ? null : { groups: 3, series: 3, points: other },
    });
    const charts = historyCharts({
      // Two CPUs: user 0.8 CPU-seconds/s in all = 40 %; one CPU missing from the second bucket.
      cpu: rates([
        {
          value: 'idle',
          points: [
            [100, 1.2, 2],
            [200, 0.6, 1],
          ],
        },
        {
          value: 'user',
          points: [
            [100, 0.8, 2],
            [200, 0.3, 1],
          ],
        },
      ]),
      memTotal: answer('t', [{ labels: {}, points: pts([1000, 1000]) }]),
      memAvailable: answer('a', [{ labels: {}, points: pts([600, 400]) }]),
      // The top devices and the others, summed into one line.
      rx: rates(
        [
          {
            value: '',
            points: [
              [100, 10, 1],
              [200, 20, 1],
            ],
          },
        ],
        [
          [100, 5, 3],
          [300, 1, 3],
        ],
      ),
      filesystems: {
        filesystem_count: 300,
        filesystems: [
          {
            mountpoint: '/',
            device: 'sda',
            points: [
              [0, 25],
              [100, 75],
            ],
          },
        ],
      },
      containers: {
        container_count: 9,
        cpu: {
          containers: [{ name: 'db', points: [[0, 12]] }],
          other: { containers: 8, points: [[0, 3]] },
        },
        memory: { containers: [{ name: 'db', points: [[0, 1e9]] }], other: null },
      },
    });
    expect(charts.cpu.series.map((s) => s.label)).toEqual(['user']);
    expect(charts.cpu.x).toEqual([100, 200]);
    expect(charts.cpu.series[0]?.values).toEqual([40, 30]);
    expect(charts.memory.series).toEqual([
      { label: 'used', values: [400, 600] },
      { label: 'total', values: [1000, 1000] },
    ]);
    expect(charts.network.x).toEqual([100, 200, 300]);
    expect(charts.network.series[0]).toEqual({ label: 'receive', values: [15, 20, 1] });
    expect(charts.filesystems.series).toEqual([{ label: '/', values: [25, 75] }]);
    expect(charts.disk.x).toEqual([]);
    expect(charts.containers_cpu.series).toEqual([
      { label: 'db', values: [12] },
      { label: '8 others', values: [3] },
    ]);
    expect(charts.containers_memory.series).toEqual([{ label: 'db', values: [1e9] }]);
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
