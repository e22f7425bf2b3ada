/**
 * The page's chart data, built without I/O: from the live stream's points, or from `/api/v1/series`
 * answers (counters turned into rates, CPUs and devices summed, bytes into percentages). Both give the
 * same charts, so Live and History look alike.
 */
import { CPU_MODES, type LivePoint } from '../protocol';
import type { Unit } from './format';

export type ChartId = 'cpu' | 'memory' | 'load' | 'network' | 'disk' | 'filesystems';

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

/** A counter's rate per second between consecutive points (bucket averages); a decrease is a reset: none. */
export function counterRates(points: readonly Point[]): TimeMap {
  const out: TimeMap = new Map();
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (a === undefined || b === undefined) continue;
    const [t0, v0] = a;
    const [t1, v1] = b;
    if (v0 === null || v1 === null || t1 <= t0 || v1 < v0) continue;
    out.set(t1, (v1 - v0) / (t1 - t0));
  }
  return out;
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

function emptyCharts(): Charts {
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
export function liveCharts(points: readonly LivePoint[]): Charts {
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
  readonly cpu: readonly SeriesAnswer[];
  readonly memTotal?: SeriesAnswer;
  readonly memAvailable?: SeriesAnswer;
  readonly load1?: SeriesAnswer;
  readonly load5?: SeriesAnswer;
  readonly load15?: SeriesAnswer;
  readonly rx?: SeriesAnswer;
  readonly tx?: SeriesAnswer;
  readonly read?: SeriesAnswer;
  readonly written?: SeriesAnswer;
  readonly fsSize?: SeriesAnswer;
  readonly fsAvail?: SeriesAnswer;
}

/** Per-device counters summed into one rate (devices named `lo` left out, as on the live chart). */
function deviceRates(a: SeriesAnswer | undefined): TimeMap {
  if (a === undefined) return new Map();
  return sumByTime(a.series.filter((s) => s.labels.device !== 'lo').map((s) => counterRates(s.points)));
}

/** The history charts from `/api/v1/series` answers over one range. */
export function historyCharts(a: HistoryAnswers): Charts {
  // CPU: per mode, the rate of every CPU's counter, summed and divided by the number of CPUs.
  const byMode = new Map<string, TimeMap[]>();
  const cpus = new Set<string>();
  for (const answer of a.cpu)
    for (const s of answer.series) {
      const mode = s.labels.mode ?? '';
      cpus.add(s.labels.cpu ?? '');
      const list = byMode.get(mode) ?? [];
      list.push(counterRates(s.points));
      byMode.set(mode, list);
    }
  const cpuSeries = CPU_MODES.filter((m) => m !== 'idle' && byMode.has(m)).map((m) => {
    const sum = sumByTime(byMode.get(m) ?? []);
    const pct: TimeMap = new Map();
    for (const [t, v] of sum) pct.set(t, (100 * v) / Math.max(1, cpus.size));
    return { label: m, values: pct };
  });

  const total = averages(a.memTotal?.series[0]?.points ?? []);
  const avail = averages(a.memAvailable?.series[0]?.points ?? []);
  const used: TimeMap = new Map();
  for (const [t, v] of total) {
    const av = avail.get(t);
    if (av !== undefined) used.set(t, v - av);
  }

  // Filesystems: used % of the fullest mountpoints at the end of the range.
  const key = (l: Readonly<Record<string, string>>): string => `${l.mountpoint ?? ''}\u0000${l.device ?? ''}`;
  const sizes = new Map((a.fsSize?.series ?? []).map((s) => [key(s.labels), averages(s.points)]));
  const fsUsed: { label: string; values: TimeMap; last: number }[] = [];
  const seenMounts = new Set<string>();
  for (const s of a.fsAvail?.series ?? []) {
    const mount = s.labels.mountpoint ?? '';
    const size = sizes.get(key(s.labels));
    if (size === undefined || seenMounts.has(mount)) continue;
    const pct: TimeMap = new Map();
    let lastT = -Infinity;
    let last = 0;
    for (const [t, av] of averages(s.points)) {
      const sz = size.get(t);
      if (sz === undefined || !(sz > 0)) continue;
      const v = (100 * (sz - av)) / sz;
      pct.set(t, v);
      if (t > lastT) {
        lastT = t;
        last = v;
      }
    }
    if (pct.size === 0) continue;
    seenMounts.add(mount);
    fsUsed.push({ label: mount, values: pct, last });
  }
  fsUsed.sort((x, y) => y.last - x.last || x.label.localeCompare(y.label));

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
      { label: 'receive', values: deviceRates(a.rx) },
      { label: 'transmit', values: deviceRates(a.tx) },
    ]),
    disk: align([
      { label: 'read', values: deviceRates(a.read) },
      { label: 'written', values: deviceRates(a.written) },
    ]),
    filesystems: align(fsUsed.slice(0, CHART_FILESYSTEMS).map(({ label, values }) => ({ label, values }))),
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

/** The modes History asks for one by one when a host has too many CPUs for one answer. */
export const CPU_MODES_HISTORY: readonly string[] = CPU_MODES.filter((m) => m !== 'idle');
