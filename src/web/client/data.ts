/**
 * The page's chart data, built without I/O: from the live stream's points, or from `/api/v1/series`
 * answers (counters turned into rates, CPUs and devices summed, bytes into percentages). Both give the
 * same charts, so Live and History look alike.
 */
import { CPU_MODES, type LivePoint } from '../protocol';
import type { Unit } from './format';

export type ChartId =
  'cpu' | 'memory' | 'load' | 'network' | 'disk' | 'filesystems' | 'containers_cpu' | 'containers_memory';

export interface ChartDef {
  readonly id: ChartId;
  readonly title: string;
  readonly unit: Unit;
}

export const CHARTS: readonly ChartDef[] = [
  { id: 'cpu', title: 'CPU by mode', unit: 'percent' },
  { id: 'memory', title: 'Memory', unit: 'bytes' },
  { id: 'load', title: 'Load average', unit: 'number' },
  { id: 'filesystems', title: 'Filesystems used', unit: 'percent' },
  { id: 'network', title: 'Network throughput (all devices but lo)', unit: 'bytes/s' },
  { id: 'disk', title: 'Disk throughput', unit: 'bytes/s' },
];

/** History has these too: its containers, from `/api/v1/containers` (the live tab has their table). */
export const CONTAINER_CHARTS: readonly ChartDef[] = [
  { id: 'containers_cpu', title: 'Containers: CPU (the busiest, share of the host)', unit: 'percent' },
  { id: 'containers_memory', title: 'Containers: memory (the largest, working set)', unit: 'bytes' },
];

/** Containers drawn apart on each container chart (the rest is one `other` line). */
export const CHART_CONTAINERS = 5;

/** Most filesystems drawn on one chart (the fullest). */
export const CHART_FILESYSTEMS = 5;

export interface ChartSeries {
  readonly label: string;
  readonly values: (number | null)[];
}

export interface ChartData {
  /** Unix seconds, ascending. */
  readonly x: number[];
  readonly series: ChartSeries[];
}

export type Charts = Record<ChartId, ChartData>;
export type LiveChartId = Exclude<ChartId, 'containers_cpu' | 'containers_memory'>;
export type LiveCharts = Record<LiveChartId, ChartData>;

/** `[time, avg, min, max, count]`, as `/api/v1/series` answers. */
export type Point = [number, number | null, number | null, number | null, number];

export interface SeriesAnswer {
  readonly metric: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly source: 'raw' | 'hourly';
  readonly series: readonly {
    readonly labels: Readonly<Record<string, string>>;
    readonly points: readonly Point[];
  }[];
}

/** `GET /api/v1/rates`: counters as rates per second, summed by a label on the server (src/api/history.ts). */
export type RatePoint = [number, number, number];
export interface RatesAnswer {
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly source: 'raw' | 'hourly';
  readonly series_count: number;
  readonly groups: readonly {
    readonly value: string;
    readonly series: number;
    readonly points: readonly RatePoint[];
  }[];
  readonly other: {
    readonly groups: number;
    readonly series: number;
    readonly points: readonly RatePoint[];
  } | null;
}

/** `GET /api/v1/filesystems`: used % of the fullest filesystems. */
export interface FilesystemsAnswer {
  readonly filesystem_count: number;
  readonly filesystems: readonly {
    readonly mountpoint: string;
    readonly device: string;
    readonly points: readonly [number, number][];
  }[];
}

/** `GET /api/v1/containers`: CPU and memory of the busiest containers, and the rest summed. */
export interface ContainerChartAnswer {
  readonly containers: readonly { readonly name: string; readonly points: readonly [number, number][] }[];
  readonly other: { readonly containers: number; readonly points: readonly [number, number][] } | null;
}
export interface ContainersAnswer {
  readonly container_count: number;
  readonly cpu: ContainerChartAnswer;
  readonly memory: ContainerChartAnswer;
}

type TimeMap = Map<number, number>;

/** Series that share their times, as uPlot wants them: one x array, one value array per series. */
export function align(series: readonly { label: string; values: TimeMap }[]): ChartData {
  const times = new Set<number>();
  for (const s of series) for (const t of s.values.keys()) times.add(t);
  const x = [...times].sort((a, b) => a - b);
  return {
    x,
    series: series.map((s) => ({ label: s.label, values: x.map((t) => s.values.get(t) ?? null) })),
  };
}

/** Averages by time. */
export function averages(points: readonly Point[]): TimeMap {
  const out: TimeMap = new Map();
  for (const [t, avg] of points) if (avg !== null) out.set(t, avg);
  return out;
}

/** Sums of several series at each time any of them has. */
export function sumByTime(maps: readonly TimeMap[]): TimeMap {
  const out: TimeMap = new Map();
  for (const m of maps) for (const [t, v] of m) out.set(t, (out.get(t) ?? 0) + v);
  return out;
}

function emptyCharts(): LiveCharts {
  return {
    cpu: { x: [], series: [] },
    memory: { x: [], series: [] },
    load: { x: [], series: [] },
    network: { x: [], series: [] },
    disk: { x: [], series: [] },
    filesystems: { x: [], series: [] },
  };
}

const fromPoints = (
  points: readonly LivePoint[],
  pick: (p: LivePoint) => number | null | undefined,
): TimeMap => {
  const m: TimeMap = new Map();
  for (const p of points) {
    const v = pick(p);
    if (v !== null && v !== undefined && Number.isFinite(v)) m.set(p.t, v);
  }
  return m;
};

/** The live charts from the stream's points of one host. */
export function liveCharts(points: readonly LivePoint[]): LiveCharts {
  if (points.length === 0) return emptyCharts();
  const modes = CPU_MODES.filter((m) => m !== 'idle' && points.some((p) => p.cpu[m] !== undefined));
  const last = points[points.length - 1];
  const mounts = Object.entries(last?.fs ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, CHART_FILESYSTEMS)
    .map(([m]) => m);
  return {
    cpu: align(modes.map((m) => ({ label: m, values: fromPoints(points, (p) => p.cpu[m]) }))),
    memory: align([
      { label: 'used', values: fromPoints(points, (p) => p.mem_used) },
      { label: 'total', values: fromPoints(points, (p) => p.mem_total) },
    ]),
    load: align([
      { label: '1m', values: fromPoints(points, (p) => p.load1) },
      { label: '5m', values: fromPoints(points, (p) => p.load5) },
      { label: '15m', values: fromPoints(points, (p) => p.load15) },
    ]),
    network: align([
      { label: 'receive', values: fromPoints(points, (p) => p.rx) },
      { label: 'transmit', values: fromPoints(points, (p) => p.tx) },
    ]),
    disk: align([
      { label: 'read', values: fromPoints(points, (p) => p.read) },
      { label: 'written', values: fromPoints(points, (p) => p.written) },
    ]),
    filesystems: align(mounts.map((m) => ({ label: m, values: fromPoints(points, (p) => p.fs[m]) }))),
  };
}

/** The answers History asks for (`undefined`: that metric has no series for the host). */
export interface HistoryAnswers {
  /** node_cpu_seconds_total by mode. */
  readonly cpu?: RatesAnswer;
  readonly memTotal?: SeriesAnswer;
  readonly memAvailable?: SeriesAnswer;
  readonly load1?: SeriesAnswer;
  readonly load5?: SeriesAnswer;
  readonly load15?: SeriesAnswer;
  /** Byte counters summed over every device (network without `lo`). */
  readonly rx?: RatesAnswer;
  readonly tx?: RatesAnswer;
  readonly read?: RatesAnswer;
  readonly written?: RatesAnswer;
  readonly filesystems?: FilesystemsAnswer;
  readonly containers?: ContainersAnswer;
}

/** Every group of a rates answer, `other` included, summed by time. */
function rateTotal(a: RatesAnswer | undefined): TimeMap {
  if (a === undefined) return new Map();
  const groups = [...a.groups.map((g) => g.points), ...(a.other === null ? [] : [a.other.points])];
  return sumByTime(groups.map((points) => new Map(points.map(([t, v]) => [t, v]))));
}

const pairs = (points: readonly (readonly [number, number])[]): TimeMap =>
  new Map(points.map(([t, v]) => [t, v]));

function containerChart(a: ContainerChartAnswer | undefined): ChartData {
  if (a === undefined) return { x: [], series: [] };
  return align([
    ...a.containers.map((c) => ({ label: c.name, values: pairs(c.points) })),
    ...(a.other === null
      ? []
      : [
          {
            label: `${a.other.containers} other${a.other.containers === 1 ? '' : 's'}`,
            values: pairs(a.other.points),
          },
        ]),
  ]);
}

/** The history charts from the API's answers over one range. */
export function historyCharts(a: HistoryAnswers): Charts {
  // CPU: per mode, the rate of its CPUs' counters summed (on the server), over the CPUs in that sum.
  const cpuSeries = CPU_MODES.filter((m) => m !== 'idle').flatMap((m) => {
    const g = a.cpu?.groups.find((x) => x.value === m);
    if (g === undefined) return [];
    return [{ label: m, values: new Map(g.points.map(([t, v, n]) => [t, (100 * v) / Math.max(1, n)])) }];
  });

  const total = averages(a.memTotal?.series[0]?.points ?? []);
  const avail = averages(a.memAvailable?.series[0]?.points ?? []);
  const used: TimeMap = new Map();
  for (const [t, v] of total) {
    const av = avail.get(t);
    if (av !== undefined) used.set(t, v - av);
  }

  return {
    cpu: align(cpuSeries),
    memory: align([
      { label: 'used', values: used },
      { label: 'total', values: total },
    ]),
    load: align([
      { label: '1m', values: averages(a.load1?.series[0]?.points ?? []) },
      { label: '5m', values: averages(a.load5?.series[0]?.points ?? []) },
      { label: '15m', values: averages(a.load15?.series[0]?.points ?? []) },
    ]),
    network: align([
      { label: 'receive', values: rateTotal(a.rx) },
      { label: 'transmit', values: rateTotal(a.tx) },
    ]),
    disk: align([
      { label: 'read', values: rateTotal(a.read) },
      { label: 'written', values: rateTotal(a.written) },
    ]),
    filesystems: align(
      (a.filesystems?.filesystems ?? [])
        .slice(0, CHART_FILESYSTEMS)
        .map((f) => ({ label: f.mountpoint, values: pairs(f.points) })),
    ),
    containers_cpu: containerChart(a.containers?.cpu),
    containers_memory: containerChart(a.containers?.memory),
  };
}

/** True when a chart has something to draw: a series with two values or more. */
export function hasData(d: ChartData): boolean {
  return d.series.some((s) => s.values.filter((v) => v !== null).length >= 2);
}

export type RangeId = '1h' | '24h' | '7d' | '30d';
export const RANGES: readonly { readonly id: RangeId; readonly label: string; readonly seconds: number }[] = [
  { id: '1h', label: '1 h', seconds: 3600 },
  { id: '24h', label: '24 h', seconds: 86_400 },
  { id: '7d', label: '7 d', seconds: 7 * 86_400 },
  { id: '30d', label: '30 d', seconds: 30 * 86_400 },
];

/** Merges points by time (a reconnect's backlog overlaps what the page has), keeping at most `max`. */
export function mergePoints(have: readonly LivePoint[], add: readonly LivePoint[], max: number): LivePoint[] {
  const byT = new Map<number, LivePoint>();
  for (const p of have) byT.set(p.t, p);
  for (const p of add) byT.set(p.t, p);
  const all = [...byT.values()].sort((a, b) => a.t - b.t);
  return all.length > max ? all.slice(all.length - max) : all;
}
