import * as path from 'node:path';
import type { HostFs } from '../../host/host-fs';
import {
  parseProcCgroup,
  specFromV1,
  specFromV2,
  statsFromV1,
  statsFromV2,
  type ContainerSpec,
  type ContainerStats,
  type V1SpecTexts,
  type V1Texts,
  type V2SpecTexts,
  type V2Texts,
} from './cgroup.parse';
import type { ContainerMeta, EngineInfo } from './engine.parse';
import type { ReadGroup, ReadItem } from './reader';

/** Where the cgroup filesystem is and which version the containers live in. */
export interface CgroupLayout {
  readonly version: 1 | 2;
  /** `<sysfs>/fs/cgroup` (v1: one directory per controller below it; v2: the unified hierarchy). */
  readonly root: string;
}

/** One container's cgroup directories. */
export interface ContainerCgroup {
  /** The cgroup path relative to the hierarchy root: cAdvisor's `id` label (`/docker/<id>`, ...). */
  readonly name: string;
  readonly version: 1 | 2;
  readonly cpu: string;
  readonly cpuacct: string;
  readonly memory: string;
  readonly blkio: string;
  readonly pids: string;
}

/**
 * Detects the cgroup layout under `<sysfs>/fs/cgroup`: v2 when the root is the unified hierarchy, v1 when
 * per-controller hierarchies exist (a hybrid host counts as v1: Docker uses the v1 controllers there).
 * Undefined when no cgroup filesystem is visible (remote engine, or /sys not mounted into the exporter).
 */
export async function detectCgroupLayout(fs: HostFs): Promise<CgroupLayout | undefined> {
  const root = fs.sys('fs', 'cgroup');
  if (await fs.exists(path.join(root, 'cgroup.controllers'))) return { version: 2, root };
  if (await fs.exists(path.join(root, 'memory'))) return { version: 1, root };
  if (await fs.exists(path.join(root, 'cpuacct'))) return { version: 1, root };
  return undefined;
}

/** systemd's slice naming: `a-b.slice` lives at `/a.slice/a-b.slice`. */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice')) return slice.startsWith('/') ? slice : `/${slice}`;
  const base = slice.slice(0, -'.slice'.length);
  if (base === '' || base === '-') return '/';
  const parts = base.split('-');
  let prefix = '';
  let out = '';
  for (const p of parts) {
    prefix = prefix === '' ? p : `${prefix}-${p}`;
    out += `/${prefix}.slice`;
  }
  return out;
}

/**
 * Where a container's cgroup should be, from the engine's cgroup driver and the container's cgroup
 * parent, in the order to try: Docker cgroupfs (`/docker/<id>`), Docker systemd
 * (`/system.slice/docker-<id>.scope`), then Podman's usual places.
 */
export function derivedCgroupNames(meta: ContainerMeta, info: EngineInfo | undefined): string[] {
  const id = meta.id;
  const parent = meta.cgroupParent;
  const cgroupfs = path.posix.join('/', parent === '' ? 'docker' : parent, id);
  const systemd = `${expandSlice(parent === '' ? 'system.slice' : parent)}/docker-${id}.scope`.replace(
    /^\/\//,
    '/',
  );
  const ordered = info?.cgroupDriver === 'systemd' ? [systemd, cgroupfs] : [cgroupfs, systemd];
  return [
    ...ordered,
    `/machine.slice/libpod-${id}.scope`,
    `/machine.slice/libpod-${id}.scope/container`,
    `/libpod_parent/libpod-${id}`,
  ];
}

/**
 * The cgroup name of a container from its main process's /proc/<pid>/cgroup: exact for any driver, cgroup
 * parent or runtime. Paths with `..` (the exporter in a private cgroup namespace) are not usable.
 */
export function cgroupNameFromProc(text: string, version: 1 | 2): string | undefined {
  const entries = parseProcCgroup(text);
  const entry =
    version === 2
      ? entries.find((e) => e.hierarchy === 0 && e.controllers.length === 0)
      : (entries.find((e) => e.controllers.includes('memory')) ??
        entries.find((e) => e.controllers.includes('cpuacct')));
  if (entry === undefined || entry.path.includes('..') || entry.path === '/') return undefined;
  return entry.path;
}

export function cgroupDirs(layout: CgroupLayout, name: string): ContainerCgroup {
  if (layout.version === 2) {
    const dir = path.join(layout.root, name);
    return { name, version: 2, cpu: dir, cpuacct: dir, memory: dir, blkio: dir, pids: dir };
  }
  const at = (controller: string): string => path.join(layout.root, controller, name);
  return {
    name,
    version: 1,
    cpu: at('cpu'),
    cpuacct: at('cpuacct'),
    memory: at('memory'),
    blkio: at('blkio'),
    pids: at('pids'),
  };
}

/** Finds a running container's cgroup, or undefined when none of the candidates exists on this host. */
export async function resolveContainerCgroup(
  fs: HostFs,
  layout: CgroupLayout,
  meta: ContainerMeta,
  info: EngineInfo | undefined,
): Promise<ContainerCgroup | undefined> {
  const candidates: string[] = [];
  if (meta.pid > 0) {
    const text = await fs.readAttr(fs.proc(String(meta.pid), 'cgroup'));
    const fromProc = text === undefined ? undefined : cgroupNameFromProc(text, layout.version);
    if (fromProc !== undefined) candidates.push(fromProc);
  }
  for (const n of derivedCgroupNames(meta, info)) if (!candidates.includes(n)) candidates.push(n);
  for (const name of candidates) {
    const dirs = cgroupDirs(layout, name);
    const probe =
      layout.version === 2 ? path.join(dirs.memory, 'cgroup.procs') : path.join(dirs.memory, 'memory.stat');
    if (await fs.exists(probe)) return dirs;
  }
  return undefined;
}

/** The cgroup name cAdvisor would report for a container whose cgroup we have not seen (not running). */
export function expectedCgroupName(meta: ContainerMeta, info: EngineInfo | undefined): string {
  return derivedCgroupNames(meta, info)[0] as string;
}

export interface ReadPlanOptions {
  /** Read cpuacct.usage_percpu (v1) for per-CPU container_cpu_usage_seconds_total. */
  readonly perCpu: boolean;
  /** Read the states of the cgroup's threads for container_tasks_state. */
  readonly tasks: boolean;
  /** Read /proc/<pid>/net/dev (false for containers sharing another container's network). */
  readonly network: boolean;
}

/** A stable group of files to read and how to turn their texts into a result. */
export interface ReadPlan<T> extends ReadGroup {
  build(texts: readonly (string | undefined)[]): T;
}

type FileSpec<K extends string> = readonly [K, string, Omit<ReadItem, 'path'>];

const CGROUP: Omit<ReadItem, 'path'> = { keepOpen: true };
/** Read with open+read+close: /proc files, and cgroup files read only now and then. */
const ONCE: Omit<ReadItem, 'path'> = { keepOpen: false };

function plan<K extends string, T>(
  key: string,
  files: readonly FileSpec<K>[],
  build: (texts: Partial<Record<K, string>>) => T,
): ReadPlan<T> {
  return {
    key,
    items: files.map(([, p, opts]) => ({ ...opts, path: p })),
    build(texts) {
      const named: Partial<Record<K, string>> = {};
      files.forEach(([name], i) => {
        const t = texts[i];
        if (t !== undefined) named[name] = t;
      });
      return build(named);
    },
  };
}

/**
 * The files of one scrape of a container. Build it once per container run and reuse it: the reader
 * keeps the cgroup descriptors open between scrapes.
 */
export function statsReadPlan(
  fs: HostFs,
  cg: ContainerCgroup,
  pid: number,
  opts: ReadPlanOptions,
  useHierarchy: string | undefined,
): ReadPlan<ContainerStats | undefined> {
  const key = `stats:${cg.name}:${pid}:${opts.perCpu ? 1 : 0}${opts.tasks ? 1 : 0}${opts.network ? 1 : 0}`;
  // cgroup v1 builds the pid list of cgroup.procs and tasks when an open file is first read, and serves
  // it again to every read of that file (from the start too) until a second after the last one: held
  // open, they would show the processes of the first scrape for as long as scrapes come less than a
  // second apart. v1 reads them with open+read+close; v2's restart their walk at offset 0.
  const lists = cg.version === 2;
  const states = { keepOpen: lists, kind: 'states', procfs: fs.proc() } as const;
  const count = { keepOpen: lists, kind: 'count' } as const;
  const net: FileSpec<'netDev'>[] =
    opts.network && pid > 0 ? [['netDev', fs.proc(String(pid), 'net', 'dev'), ONCE]] : [];
  if (cg.version === 2) {
    const d = cg.memory;
    const files: FileSpec<keyof V2Texts>[] = [
      ['cpuStat', path.join(d, 'cpu.stat'), CGROUP],
      ['memCurrent', path.join(d, 'memory.current'), CGROUP],
      ['memPeak', path.join(d, 'memory.peak'), CGROUP],
      ['memStat', path.join(d, 'memory.stat'), CGROUP],
      ['memEvents', path.join(d, 'memory.events'), CGROUP],
      ['memSwapCurrent', path.join(d, 'memory.swap.current'), CGROUP],
      ['ioStat', path.join(d, 'io.stat'), CGROUP],
      ['pidsCurrent', path.join(d, 'pids.current'), CGROUP],
      ['pidsMax', path.join(d, 'pids.max'), CGROUP],
      ['procs', path.join(d, 'cgroup.procs'), count],
      ...net,
    ];
    if (opts.tasks) files.push(['threads', path.join(d, 'cgroup.threads'), states]);
    return plan(key, files, (t) => statsFromV2(t));
  }
  const files: FileSpec<keyof V1Texts>[] = [
    ['cpuacctUsage', path.join(cg.cpuacct, 'cpuacct.usage'), CGROUP],
    ['cpuacctStat', path.join(cg.cpuacct, 'cpuacct.stat'), CGROUP],
    ['cpuStat', path.join(cg.cpu, 'cpu.stat'), CGROUP],
    ['memUsage', path.join(cg.memory, 'memory.usage_in_bytes'), CGROUP],
    ['memMaxUsage', path.join(cg.memory, 'memory.max_usage_in_bytes'), CGROUP],
    ['memFailcnt', path.join(cg.memory, 'memory.failcnt'), CGROUP],
    ['memStat', path.join(cg.memory, 'memory.stat'), CGROUP],
    ['memOomControl', path.join(cg.memory, 'memory.oom_control'), CGROUP],
    ['blkioBfqBytes', path.join(cg.blkio, 'blkio.bfq.io_service_bytes_recursive'), CGROUP],
    ['blkioBfqIos', path.join(cg.blkio, 'blkio.bfq.io_serviced_recursive'), CGROUP],
    ['blkioThrottleBytes', path.join(cg.blkio, 'blkio.throttle.io_service_bytes_recursive'), CGROUP],
    ['blkioThrottleIos', path.join(cg.blkio, 'blkio.throttle.io_serviced_recursive'), CGROUP],
    ['pidsCurrent', path.join(cg.pids, 'pids.current'), CGROUP],
    ['pidsMax', path.join(cg.pids, 'pids.max'), CGROUP],
    ['procs', path.join(cg.pids, 'cgroup.procs'), count],
    ...net,
  ];
  if (opts.perCpu) files.push(['cpuacctPercpu', path.join(cg.cpuacct, 'cpuacct.usage_percpu'), CGROUP]);
  if (opts.tasks) files.push(['tasks', path.join(cg.pids, 'tasks'), states]);
  return plan(key, files, (t) =>
    statsFromV1(useHierarchy === undefined ? t : { ...t, memUseHierarchy: useHierarchy }),
  );
}

export interface SpecResult {
  readonly spec: ContainerSpec;
  /** v1 memory.use_hierarchy, which decides between total_* and plain memory.stat keys. */
  readonly useHierarchy?: string;
}

/** The resource settings of a container's cgroup (read when it starts and on `update` events). */
export function specReadPlan(cg: ContainerCgroup): ReadPlan<SpecResult> {
  const key = `spec:${cg.name}`;
  if (cg.version === 2) {
    const d = cg.memory;
    const files: FileSpec<keyof V2SpecTexts>[] = [
      ['cpuWeight', path.join(d, 'cpu.weight'), ONCE],
      ['cpuMax', path.join(d, 'cpu.max'), ONCE],
      ['memMax', path.join(d, 'memory.max'), ONCE],
      ['memSwapMax', path.join(d, 'memory.swap.max'), ONCE],
      ['memMin', path.join(d, 'memory.min'), ONCE],
    ];
    return plan(key, files, (t) => ({ spec: specFromV2(t) }));
  }
  const files: FileSpec<keyof V1SpecTexts | 'useHierarchy'>[] = [
    ['cpuShares', path.join(cg.cpu, 'cpu.shares'), ONCE],
    ['cpuPeriod', path.join(cg.cpu, 'cpu.cfs_period_us'), ONCE],
    ['cpuQuota', path.join(cg.cpu, 'cpu.cfs_quota_us'), ONCE],
    ['memLimit', path.join(cg.memory, 'memory.limit_in_bytes'), ONCE],
    ['memSwLimit', path.join(cg.memory, 'memory.memsw.limit_in_bytes'), ONCE],
    ['memSoftLimit', path.join(cg.memory, 'memory.soft_limit_in_bytes'), ONCE],
    ['useHierarchy', path.join(cg.memory, 'memory.use_hierarchy'), ONCE],
  ];
  return plan(key, files, (t) => {
    const spec = specFromV1(t);
    return t.useHierarchy === undefined ? { spec } : { spec, useHierarchy: t.useHierarchy };
  });
}
