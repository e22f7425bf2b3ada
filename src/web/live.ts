import { filesystemFigures } from '../api/overview';
import type { ParsedFamily } from '../expfmt/types';
import type { ContainerUsageRow, HostUsageRow } from '../sink/usage';
import { containerIdFromCgroup } from '../sink/usage';
import type { Target } from '../sink/types';
import type {
  LiveContainer,
  LiveDevice,
  LiveFilesystem,
  LiveHost,
  LiveHostSummary,
  LivePoint,
} from './protocol';

export { CPU_MODES } from './protocol';
export type {
  LiveContainer,
  LiveDevice,
  LiveFilesystem,
  LiveHost,
  LiveHostSummary,
  LivePoint,
} from './protocol';

/**
 * The live overview's figures, computed in memory from each scrape the sink takes (no database read):
 * per target, CPU by mode, memory, load, filesystems, network and disk throughput (from the counters of
 * two consecutive scrapes) and its containers. Pure: families in, plain data out. The hub (hub.ts)
 * serialises them once per scrape round and fans them out to the page's clients.
 */

/** Bounds of what one host's message lists (a 7,000-container host stays a few kB a message). */
export const MAX_FILESYSTEMS = 20;
export const MAX_DEVICES = 8;
export const MAX_CONTAINERS = 50;
/** Filesystems drawn on the live chart (the fullest). */
export const CHART_FILESYSTEMS = 5;

const LIVE_NAMES = new Set([
  'node_cpu_seconds_total',
  'node_filesystem_size_bytes',
  'node_filesystem_avail_bytes',
  'node_network_receive_bytes_total',
  'node_network_transmit_bytes_total',
  'node_disk_read_bytes_total',
  'node_disk_written_bytes_total',
  'hostscope_container_state',
  'hostscope_container_restarts_total',
  'container_oom_events_total',
]);

type Labels = Readonly<Record<string, string>>;

/**
 * Calls `fn` for every sample of the wanted names, reading a columnar parse's columns directly (its
 * `samples` would build an object per sample of a 1,500-device family on every scrape).
 */
export function forEachSample(
  families: readonly ParsedFamily[],
  names: ReadonlySet<string>,
  fn: (name: string, labels: Labels, value: number) => void,
): void {
  for (const f of families) {
    if (!names.has(f.name) && !names.has(`${f.name}_total`)) continue;
    const col = f.columnar;
    if (col !== undefined) {
      const { lines, values } = col.columns;
      for (const i of col.indices) {
        const line = lines[i];
        if (line !== undefined && names.has(line.name)) fn(line.name, line.labels, values[i] ?? NaN);
      }
    } else for (const s of f.samples) if (names.has(s.name)) fn(s.name, s.labels, s.value);
  }
}

interface TargetState {
  /** Per mode, the sum over CPUs of node_cpu_seconds_total at the last scrape. */
  cpu?: { readonly timeMs: number; readonly byMode: ReadonlyMap<string, number> };
  /**
   * The device counters of the last scrape: metric -> device -> value, all taken at `timeMs`. Replaced by
   * each scrape, so devices that are gone do not pile up.
   */
  counters: { readonly timeMs: number; readonly values: ReadonlyMap<string, ReadonlyMap<string, number>> };
  host?: LiveHost;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const finite = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

/** A counter's rate per second from its previous value `dt` seconds before; none after a reset. */
function rate(prev: number | undefined, value: number, dt: number): number | null {
  if (prev === undefined || !(dt > 0) || value < prev) return null;
  return (value - prev) / dt;
}

function sum(values: readonly (number | null)[]): number | null {
  let s: number | null = null;
  for (const v of values) if (v !== null) s = (s ?? 0) + v;
  return s;
}

/** The key of a filesystem's fill trend: instance, mountpoint and device. */
export function trendKey(instance: string, mountpoint: string, device: string): string {
  return `${instance}\u0000${mountpoint}\u0000${device}`;
}

/**
 * Keeps, per target, the previous counters and the latest live figures. `observe` is called with every
 * scrape (in scrape order, as the sink accepts them), `hosts()` gives the current figures of every target.
 */
export class LiveTracker {
  private readonly targets = new Map<string, TargetState>();
  /** Least-squares slope of used bytes per second, by trendKey (from the hourly rollups, set by the hub). */
  private trends: ReadonlyMap<string, number> = new Map();

  setTrends(trends: ReadonlyMap<string, number>): void {
    this.trends = trends;
  }

  /** Forgets targets that are no longer scraped (none but the configured ones are ever observed). */
  retain(instances: ReadonlySet<string>): void {
    for (const k of this.targets.keys()) if (!instances.has(k)) this.targets.delete(k);
  }

  observe(scrape: {
    readonly target: Target;
    readonly timeMs: number;
    readonly durationSeconds: number;
    readonly families?: readonly ParsedFamily[];
    readonly error?: string;
    readonly hostUsage?: HostUsageRow;
    readonly containerUsage: readonly ContainerUsageRow[];
  }): LiveHost {
    const { target, timeMs } = scrape;
    let state = this.targets.get(target.instance);
    if (state === undefined) {
      state = { counters: { timeMs: 0, values: new Map() } };
      this.targets.set(target.instance, state);
    }
    const families = scrape.families;
    if (families === undefined) {
      // A failed scrape: the last figures stay, marked down, so the page shows what was last known.
      const last = state.host;
      const host: LiveHost = {
        ...(last ?? emptyHost(target, timeMs)),
        time: timeMs / 1000,
        up: false,
        scrape_duration_seconds: scrape.durationSeconds,
        error: scrape.error ?? 'scrape failed',
      };
      state.host = host;
      return host;
    }

    const cpuByMode = new Map<string, number>();
    const cpus = new Set<string>();
    const fs = new Map<
      string,
      { mountpoint: string; device: string; fstype: string; size?: number; avail?: number }
    >();
    const counters = new Map<string, Map<string, number>>();
    const deviceRates = new Map<string, Map<string, number | null>>();
    const states = new Map<string, string>();
    const restarts = new Map<string, number>();
    const ooms = new Map<string, number>();
    const prevCounters = state.counters.values;
    const dt = (timeMs - state.counters.timeMs) / 1000;
    forEachSample(families, LIVE_NAMES, (name, labels, value) => {
      switch (name) {
        case 'node_cpu_seconds_total': {
          if (!Number.isFinite(value)) return;
          const mode = labels.mode ?? '';
          cpuByMode.set(mode, (cpuByMode.get(mode) ?? 0) + value);
          cpus.add(labels.cpu ?? '');
          return;
        }
        case 'node_filesystem_size_bytes':
        case 'node_filesystem_avail_bytes': {
          const mountpoint = labels.mountpoint ?? '';
          const device = labels.device ?? '';
          const key = `${mountpoint}\u0000${device}`;
          let f = fs.get(key);
          if (f === undefined) {
            f = { mountpoint, device, fstype: labels.fstype ?? '' };
            fs.set(key, f);
          }
          if (name === 'node_filesystem_size_bytes') f.size = value;
          else f.avail = value;
          return;
        }
        case 'node_network_receive_bytes_total':
        case 'node_network_transmit_bytes_total':
        case 'node_disk_read_bytes_total':
        case 'node_disk_written_bytes_total': {
          const device = labels.device ?? '';
          if (!Number.isFinite(value)) return;
          let values = counters.get(name);
          let byDevice = deviceRates.get(name);
          if (values === undefined || byDevice === undefined) {
            values = new Map();
            byDevice = new Map();
            counters.set(name, values);
            deviceRates.set(name, byDevice);
          }
          values.set(device, value);
          byDevice.set(device, rate(prevCounters.get(name)?.get(device), value, dt));
          return;
        }
        case 'hostscope_container_state':
          if (value === 1 && labels.state !== undefined && labels.id !== undefined)
            states.set(containerIdFromCgroup(labels.id), labels.state);
          return;
        case 'hostscope_container_restarts_total':
          if (labels.id !== undefined) restarts.set(containerIdFromCgroup(labels.id), value);
          return;
        case 'container_oom_events_total':
          if (labels.id !== undefined) ooms.set(containerIdFromCgroup(labels.id), value);
          return;
      }
    });
    state.counters = { timeMs, values: counters };

    // CPU by mode: each mode's share of all CPU time since the previous scrape.
    const cpu: Record<string, number> = {};
    const prevCpu = state.cpu;
    if (prevCpu !== undefined && timeMs > prevCpu.timeMs) {
      let total = 0;
      const deltas = new Map<string, number>();
      for (const [mode, v] of cpuByMode) {
        const d = v - (prevCpu.byMode.get(mode) ?? NaN);
        if (!Number.isFinite(d) || d < 0) {
          deltas.clear();
          break;
        }
        deltas.set(mode, d);
        total += d;
      }
      if (total > 0) for (const [mode, d] of deltas) cpu[mode] = round3((100 * d) / total);
    }
    if (cpuByMode.size > 0) state.cpu = { timeMs, byMode: cpuByMode };

    // Only what is listed is built: a host with 1,200 filesystems or 7,000 containers is ranked on numbers.
    const fsRanked: { f: (typeof fsList)[number]; used: number }[] = [];
    const fsList = [...fs.values()];
    for (const f of fsList) {
      if (f.size === undefined || f.avail === undefined || !(f.size > 0) || !Number.isFinite(f.avail))
        continue;
      fsRanked.push({ f, used: (f.size - f.avail) / f.size });
    }
    fsRanked.sort((a, b) => b.used - a.used || byText(a.f.mountpoint, b.f.mountpoint));
    const filesystems: LiveFilesystem[] = fsRanked.slice(0, MAX_FILESYSTEMS).map(({ f }) => ({
      mountpoint: f.mountpoint,
      device: f.device,
      fstype: f.fstype,
      ...filesystemFigures(
        f.size ?? 0,
        f.avail ?? 0,
        this.trends.get(trendKey(target.instance, f.mountpoint, f.device)) ?? null,
      ),
    }));

    const devices = (
      inName: string,
      outName: string,
      skip: (d: string) => boolean,
    ): { count: number; top: LiveDevice[]; in: number | null; out: number | null } => {
      const ins = deviceRates.get(inName) ?? new Map<string, number | null>();
      const outs = deviceRates.get(outName) ?? new Map<string, number | null>();
      const names = new Set([...ins.keys(), ...outs.keys()]);
      const list: LiveDevice[] = [];
      for (const d of names)
        if (!skip(d)) list.push({ device: d, in: ins.get(d) ?? null, out: outs.get(d) ?? null });
      const busy = (x: LiveDevice): number => (x.in ?? 0) + (x.out ?? 0);
      list.sort((a, b) => busy(b) - busy(a) || byText(a.device, b.device));
      return {
        count: list.length,
        top: list.slice(0, MAX_DEVICES),
        in: sum(list.map((d) => d.in)),
        out: sum(list.map((d) => d.out)),
      };
    };
    const network = devices(
      'node_network_receive_bytes_total',
      'node_network_transmit_bytes_total',
      (d) => d === 'lo',
    );
    const disks = devices('node_disk_read_bytes_total', 'node_disk_written_bytes_total', () => false);

    interface Ranked {
      readonly row?: ContainerUsageRow;
      readonly id: string;
      readonly labels?: Labels;
      readonly state: string;
      readonly cpu: number;
      readonly mem: number;
    }
    // The busiest MAX_CONTAINERS, kept sorted while the rows go by: no object per container of a big host.
    const ranked: Ranked[] = [];
    const better = (a: { cpu: number; mem: number; id: string }, b: Ranked): boolean =>
      a.cpu > b.cpu || (a.cpu === b.cpu && (a.mem > b.mem || (a.mem === b.mem && a.id < b.id)));
    const offer = (r: Ranked): void => {
      const last = ranked[ranked.length - 1];
      if (ranked.length >= MAX_CONTAINERS && last !== undefined && !better(r, last)) return;
      let lo = 0;
      let hi = ranked.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (better(r, ranked[mid] as Ranked)) hi = mid;
        else lo = mid + 1;
      }
      ranked.splice(lo, 0, r);
      if (ranked.length > MAX_CONTAINERS) ranked.pop();
    };
    const seen = new Set<string>();
    let running = 0;
    let count = 0;
    for (const c of scrape.containerUsage) {
      const state = states.get(c.container_id) ?? c.status;
      if (state === 'running') running++;
      count++;
      seen.add(c.container_id);
      const cpu = c.cpu_percent ?? -1;
      const mem = c.memory_usage_bytes ?? -1;
      const last = ranked[ranked.length - 1];
      if (
        ranked.length < MAX_CONTAINERS ||
        last === undefined ||
        better({ cpu, mem, id: c.container_id }, last)
      )
        offer({ row: c, id: c.container_id, state, cpu, mem });
    }
    // Containers the engine knows without cgroup figures (stopped ones) still belong in the table.
    forEachSample(families, STATE_NAMES, (_name, labels, value) => {
      if (value !== 1 || labels.id === undefined) return;
      const id = containerIdFromCgroup(labels.id);
      if (seen.has(id)) return;
      seen.add(id);
      count++;
      const state = labels.state ?? 'unknown';
      if (state === 'running') running++;
      offer({ id, labels, state, cpu: -1, mem: -1 });
    });
    const containerList: LiveContainer[] = ranked.map((r) => ({
      name: r.row?.container ?? r.labels?.name ?? r.id.slice(0, 12),
      id: r.id,
      image: r.row?.image ?? r.labels?.image ?? '',
      state: r.state,
      cpu_percent: r.row?.cpu_percent ?? null,
      cpu_cores: r.row?.cpu_cores ?? null,
      memory_usage_bytes: r.row?.memory_usage_bytes ?? null,
      memory_limit_bytes: r.row?.memory_limit_bytes ?? null,
      memory_percent: r.row?.memory_percent ?? null,
      restarts: restarts.get(r.id) ?? null,
      oom_events: ooms.get(r.id) ?? null,
    }));

    const u = scrape.hostUsage;
    const fsPoint: Record<string, number> = {};
    for (const f of filesystems.slice(0, CHART_FILESYSTEMS)) fsPoint[f.mountpoint] = round3(f.used_percent);
    const point: LivePoint = {
      t: timeMs / 1000,
      cpu,
      mem_used: finite(u?.memory_used_bytes),
      mem_total: finite(u?.memory_total_bytes),
      load1: finite(u?.load1),
      load5: finite(u?.load5),
      load15: finite(u?.load15),
      rx: network.in,
      tx: network.out,
      read: disks.in,
      written: disks.out,
      fs: fsPoint,
    };
    const host: LiveHost = {
      instance: target.instance,
      job: target.job,
      host: u?.host ?? target.instance,
      time: timeMs / 1000,
      up: true,
      scrape_duration_seconds: scrape.durationSeconds,
      error: null,
      cpu: { count: cpus.size > 0 ? cpus.size : finite(u?.cpu_count), percent: finite(u?.cpu_percent) },
      memory: {
        total_bytes: finite(u?.memory_total_bytes),
        available_bytes: finite(u?.memory_available_bytes),
        used_bytes: finite(u?.memory_used_bytes),
        percent: finite(u?.memory_percent),
      },
      point,
      filesystems: { count: fsRanked.length, list: filesystems },
      network: { count: network.count, devices: network.top },
      disks: { count: disks.count, devices: disks.top },
      containers: { count, running, list: containerList },
    };
    state.host = host;
    return host;
  }

  /** The latest figures of every observed target, ordered by instance. */
  hosts(): LiveHost[] {
    const out: LiveHost[] = [];
    for (const s of this.targets.values()) if (s.host !== undefined) out.push(s.host);
    return out.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
  }
}

const STATE_NAMES = new Set(['hostscope_container_state']);

/** Plain code-unit order: stable and cheap (localeCompare costs a microsecond a call). */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function emptyHost(target: Target, timeMs: number): LiveHost {
  return {
    instance: target.instance,
    job: target.job,
    host: target.instance,
    time: timeMs / 1000,
    up: false,
    scrape_duration_seconds: 0,
    error: null,
    cpu: { count: null, percent: null },
    memory: { total_bytes: null, available_bytes: null, used_bytes: null, percent: null },
    point: {
      t: timeMs / 1000,
      cpu: {},
      mem_used: null,
      mem_total: null,
      load1: null,
      load5: null,
      load15: null,
      rx: null,
      tx: null,
      read: null,
      written: null,
      fs: {},
    },
    filesystems: { count: 0, list: [] },
    network: { count: 0, devices: [] },
    disks: { count: 0, devices: [] },
    containers: { count: 0, running: 0, list: [] },
  };
}

export function summary(h: LiveHost): LiveHostSummary {
  return {
    instance: h.instance,
    host: h.host,
    time: h.time,
    up: h.up,
    cpu_percent: h.cpu.percent,
    memory_percent: h.memory.percent,
  };
}
