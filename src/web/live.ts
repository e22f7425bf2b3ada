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

interface Counter {
  readonly timeMs: number;
  readonly value: number;
}

interface TargetState {
  /** Per mode, the sum over CPUs of node_cpu_seconds_total at the last scrape. */
  cpu?: { readonly timeMs: number; readonly byMode: ReadonlyMap<string, number> };
  /** `<metric>\0<device>` -> last value. Replaced by each scrape, so gone devices do not pile up. */
  counters: ReadonlyMap<string, Counter>;
  host?: LiveHost;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const finite = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

function rate(prev: Counter | undefined, value: number, timeMs: number): number | null {
  if (prev === undefined || timeMs <= prev.timeMs || value < prev.value) return null;
  return (value - prev.value) / ((timeMs - prev.timeMs) / 1000);
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
      state = { counters: new Map() };
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
    const counters = new Map<string, Counter>();
    const deviceRates = new Map<string, Map<string, number | null>>();
    const states = new Map<string, string>();
    const restarts = new Map<string, number>();
    const ooms = new Map<string, number>();
    const prevCounters = state.counters;
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
          const key = `${name}\u0000${device}`;
          const c = { timeMs, value };
          counters.set(key, c);
          let byDevice = deviceRates.get(name);
          if (byDevice === undefined) {
            byDevice = new Map();
            deviceRates.set(name, byDevice);
          }
          byDevice.set(device, rate(prevCounters.get(key), value, timeMs));
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
    state.counters = counters;

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

    const filesystems: LiveFilesystem[] = [];
    for (const f of fs.values()) {
      if (f.size === undefined || f.avail === undefined || !(f.size > 0) || !Number.isFinite(f.avail))
        continue;
      const slope = this.trends.get(trendKey(target.instance, f.mountpoint, f.device));
      filesystems.push({
        mountpoint: f.mountpoint,
        device: f.device,
        fstype: f.fstype,
        ...filesystemFigures(f.size, f.avail, slope ?? null),
      });
    }
    filesystems.sort((a, b) => b.used_percent - a.used_percent || a.mountpoint.localeCompare(b.mountpoint));

    const devices = (inName: string, outName: string, skip: (d: string) => boolean): LiveDevice[] => {
      const ins = deviceRates.get(inName) ?? new Map<string, number | null>();
      const outs = deviceRates.get(outName) ?? new Map<string, number | null>();
      const names = new Set([...ins.keys(), ...outs.keys()]);
      const list: LiveDevice[] = [];
      for (const d of names)
        if (!skip(d)) list.push({ device: d, in: ins.get(d) ?? null, out: outs.get(d) ?? null });
      const busy = (x: LiveDevice): number => (x.in ?? 0) + (x.out ?? 0);
      return list.sort((a, b) => busy(b) - busy(a) || a.device.localeCompare(b.device));
    };
    const network = devices(
      'node_network_receive_bytes_total',
      'node_network_transmit_bytes_total',
      (d) => d === 'lo',
    );
    const disks = devices('node_disk_read_bytes_total', 'node_disk_written_bytes_total', () => false);

    const containers = new Map<string, LiveContainer>();
    for (const c of scrape.containerUsage)
      containers.set(c.container_id, {
        name: c.container,
        id: c.container_id,
        image: c.image,
        state: states.get(c.container_id) ?? c.status,
        cpu_percent: c.cpu_percent,
        cpu_cores: c.cpu_cores,
        memory_usage_bytes: c.memory_usage_bytes,
        memory_limit_bytes: c.memory_limit_bytes,
        memory_percent: c.memory_percent,
        restarts: restarts.get(c.container_id) ?? null,
        oom_events: ooms.get(c.container_id) ?? null,
      });
    // Containers the engine knows without cgroup figures (stopped ones) still belong in the table.
    forEachSample(families, STATE_NAMES, (_name, labels, value) => {
      if (value !== 1 || labels.id === undefined) return;
      const id = containerIdFromCgroup(labels.id);
      if (containers.has(id)) return;
      containers.set(id, {
        name: labels.name ?? id.slice(0, 12),
        id,
        image: labels.image ?? '',
        state: labels.state ?? 'unknown',
        cpu_percent: null,
        cpu_cores: null,
        memory_usage_bytes: null,
        memory_limit_bytes: null,
        memory_percent: null,
        restarts: restarts.get(id) ?? null,
        oom_events: ooms.get(id) ?? null,
      });
    });
    const allContainers = [...containers.values()].sort(
      (a, b) =>
        (b.cpu_percent ?? -1) - (a.cpu_percent ?? -1) ||
        (b.memory_usage_bytes ?? -1) - (a.memory_usage_bytes ?? -1) ||
        a.name.localeCompare(b.name),
    );

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
      rx: sum(network.map((d) => d.in)),
      tx: sum(network.map((d) => d.out)),
      read: sum(disks.map((d) => d.in)),
      written: sum(disks.map((d) => d.out)),
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
      filesystems: { count: filesystems.length, list: filesystems.slice(0, MAX_FILESYSTEMS) },
      network: { count: network.length, devices: network.slice(0, MAX_DEVICES) },
      disks: { count: disks.length, devices: disks.slice(0, MAX_DEVICES) },
      containers: {
        count: allContainers.length,
        running: allContainers.filter((c) => c.state === 'running').length,
        list: allContainers.slice(0, MAX_CONTAINERS),
      },
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
