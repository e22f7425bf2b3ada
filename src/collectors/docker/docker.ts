import * as path from 'node:path';
import type { HostFs } from '../../host/host-fs';
import type { Logger } from '../../log/logger';
import type { MetricFamily } from '../../metrics/types';
import type { Collector, ScrapeContext } from '../types';
import type { ContainerStats } from './cgroup.parse';
import {
  detectCgroupLayout,
  expectedCgroupName,
  resolveContainerCgroup,
  specReadPlan,
  statsReadPlan,
  type CgroupLayout,
  type ContainerCgroup,
  type ReadPlan,
  type SpecResult,
} from './cgroup';
import { DockerEngine, DockerUnavailableError, type TrackedMeta } from './engine';
import {
  assemble,
  containerSamples,
  hostscopeSamples,
  LabelCache,
  SampleList,
  SeriesOrder,
  type CollectorFigures,
  type Entry,
  type Out,
} from './families';
import { FsUsageTracker, type FsTarget } from './fs-usage';
import { LabelFilter } from './labels';
import { readMachineInfo, type MachineInfo } from './machine';
import { BatchFileReader } from './reader';
import { StatsApiPoller } from './stats-api';
import { specFromHostConfig } from './stats-api.parse';
import type { DockerSettings } from './definition';

/** Per-container state kept between scrapes. */
interface Tracked {
  cgroup: ContainerCgroup | undefined;
  /** The pid the cgroup was resolved for (a restart gets a new pid and maybe a new cgroup). */
  cgroupPid: number;
  cgroupTriedMs: number;
  spec: SpecResult | undefined;
  specFor: TrackedMeta | undefined;
  plan: ReadPlan<ContainerStats | undefined> | undefined;
  planPid: number;
  base: Record<string, string> | undefined;
  baseFor: TrackedMeta | undefined;
  baseId: string;
  /** Last live container_* samples, frozen (with their container_last_seen) once the container is gone. */
  live: readonly Out[] | undefined;
  liveSeenMs: number;
  /** Where the live samples are written, scrape after scrape (see SampleList). */
  sampleList: SampleList;
  hostscope: readonly Out[] | undefined;
  hostscopeFor: TrackedMeta | undefined;
  lastMetaMs: number;
  labels: LabelCache;
}

const NONE: readonly Out[] = [];
const MACHINE_REFRESH_MS = 5 * 60_000;
const LAYOUT_REFRESH_MS = 60_000;
const CGROUP_RETRY_MS = 60_000;

function isLive(meta: TrackedMeta): boolean {
  return meta.state === 'running' || meta.state === 'paused';
}

/**
 * The docker collector instance: all state lives here (engine connection and cache, open cgroup file
 * descriptors in the reader, per-container snapshots for the grace window). Per scrape it makes no
 * Docker API call in the cgroup path: the container list comes from the event-fed cache and the counters
 * from one batched read of every container's cgroup files.
 */
export class DockerCollector implements Collector {
  private readonly engine: DockerEngine;
  private readonly reader = new BatchFileReader();
  private readonly poller: StatsApiPoller;
  private readonly fsUsage: FsUsageTracker | undefined;
  private readonly labels: LabelFilter;
  private readonly tracked = new Map<string, Tracked>();
  private readonly order = new SeriesOrder();
  private readonly devices = new Map<string, string>();
  private machine: { info: MachineInfo; atMs: number } | undefined;
  private layout: { value: CgroupLayout | undefined; atMs: number } | undefined;

  constructor(
    private readonly fs: HostFs,
    private readonly logger: Logger,
    private readonly settings: DockerSettings,
  ) {
    this.engine = new DockerEngine({ host: settings.host, logger, requestTimeoutMs: settings.apiTimeoutMs });
    this.poller = new StatsApiPoller(this.engine, settings.statsConcurrency, logger);
    this.fsUsage =
      settings.fsUsageIntervalMs > 0 ? new FsUsageTracker(fs, settings.fsUsageIntervalMs, logger) : undefined;
    this.labels = new LabelFilter(settings.labelInclude, settings.labelExclude);
  }

  /** The engine's current record of a container (diagnostics and tests). */
  knownContainer(id: string): TrackedMeta | undefined {
    return this.engine.snapshot().get(id);
  }

  get engineUp(): boolean {
    return this.engine.up;
  }

  /** The measurement of container filesystems in progress, if any (tests wait for it). */
  fsUsageSettled(): Promise<void> {
    return this.fsUsage?.settled() ?? Promise.resolve();
  }

  async update(ctx: ScrapeContext): Promise<MetricFamily[]> {
    const nowMs = Date.now();
    // Waits (a reconnection attempt, first stats API answers) end a little before the runner gives up,
    // so that a slow engine still yields hostscope_docker_up 0 rather than a timeout.
    const waitMs = Number.isFinite(ctx.deadlineMs)
      ? Math.max(0, Math.floor(ctx.deadlineMs - nowMs - 250))
      : 10_000;
    const budget = AbortSignal.any([ctx.signal, AbortSignal.timeout(waitMs)]);
    const [machine, connected] = await Promise.all([
      this.machineInfo(nowMs),
      this.engine.ensureConnected(budget),
    ]);
    if (!connected) {
      throw new DockerUnavailableError(
        this.engine.host,
        this.engine.error,
        assemble([], { up: false, apiFallback: false, machine }),
      );
    }
    const metas = this.engine.snapshot();
    const layout = this.settings.statsSource === 'api' ? undefined : await this.cgroupLayout(nowMs);
    const live = [...metas.values()].filter(isLive);
    await Promise.all(live.map((m) => this.resolveCgroup(m, layout, nowMs)));

    const viaCgroup = live.filter((m) => this.state(m.id).cgroup !== undefined);
    const viaApi = this.settings.statsSource === 'cgroup' ? [] : live.filter((m) => !viaCgroup.includes(m));
    const [cgroupStats] = await Promise.all([
      this.readCgroupStats(viaCgroup),
      viaApi.length > 0
        ? this.poller.refresh(
            viaApi.map((m) => m.id),
            this.cgroupVersion(layout),
            budget,
          )
        : Promise.resolve(),
    ]);

    const entries: Entry[] = [];
    const produced = new Set<string>();
    const nowSeconds = Math.floor(nowMs / 1000);
    const deviceName = (major: number, minor: number): string => this.devices.get(`${major}:${minor}`) ?? '';
    await this.learnDevices([...cgroupStats.values()]);
    for (const meta of live) {
      const stats =
        cgroupStats.get(meta.id) ?? (viaApi.includes(meta) ? this.poller.get(meta.id) : undefined);
      if (stats === undefined) continue; // vanished mid-scrape: skipped, its last values stay frozen
      const t = this.state(meta.id);
      const spec =
        t.cgroup !== undefined
          ? t.spec?.spec
          : specFromHostConfig(meta.resources, this.cgroupVersion(layout));
      t.live = containerSamples(
        {
          meta,
          oomEvents: meta.oomEvents,
          stats,
          spec,
          fs: this.fsUsage?.get(meta.id),
          perCpu: this.settings.perCpu,
          nowSeconds,
          deviceName,
        },
        t.sampleList,
      );
      t.liveSeenMs = nowMs;
      produced.add(meta.id);
    }

    for (const meta of metas.values()) {
      const t = this.state(meta.id);
      t.lastMetaMs = nowMs;
      if (t.hostscopeFor !== meta) {
        t.hostscope = hostscopeSamples(meta);
        t.hostscopeFor = meta;
      }
      t.base = this.baseLabels(t, meta, this.engine.engineInfo);
    }
    const grace = this.settings.goneGraceMs;
    for (const [id, t] of this.tracked) {
      // A container not read this scrape keeps its last samples (container_last_seen included, so it
      // stays frozen) for the grace window; then its series disappear.
      if (t.live !== undefined && !produced.has(id) && nowMs - t.liveSeenMs > grace) t.live = undefined;
      const hasMeta = metas.has(id);
      const hostscope = hasMeta || nowMs - t.lastMetaMs <= grace ? t.hostscope : undefined;
      if (!hasMeta && t.live === undefined && hostscope === undefined) {
        this.tracked.delete(id);
        continue;
      }
      if (t.base === undefined) continue;
      const samples = t.live ?? NONE;
      const more = hostscope ?? NONE;
      if (samples.length + more.length > 0) entries.push({ base: t.base, samples, more, cache: t.labels });
    }

    this.fsUsage?.maybeRefresh(this.fsTargets(live), nowMs);
    const figures: CollectorFigures = { up: true, apiFallback: viaApi.length > 0, machine };
    return assemble(entries, figures, this.order);
  }

  async close(): Promise<void> {
    this.fsUsage?.close();
    await Promise.all([this.engine.close(), this.reader.close()]);
  }

  private state(id: string): Tracked {
    let t = this.tracked.get(id);
    if (t === undefined) {
      t = {
        cgroup: undefined,
        cgroupPid: -1,
        cgroupTriedMs: 0,
        spec: undefined,
        specFor: undefined,
        plan: undefined,
        planPid: -1,
        base: undefined,
        baseFor: undefined,
        baseId: '',
        live: undefined,
        liveSeenMs: 0,
        sampleList: new SampleList(),
        hostscope: undefined,
        hostscopeFor: undefined,
        lastMetaMs: 0,
        labels: new LabelCache(),
      };
      this.tracked.set(id, t);
    }
    return t;
  }

  private baseLabels(
    t: Tracked,
    meta: TrackedMeta,
    info: Parameters<typeof expectedCgroupName>[1],
  ): Record<string, string> {
    const id = t.cgroup?.name ?? expectedCgroupName(meta, info);
    if (t.base !== undefined && t.baseFor === meta && t.baseId === id) return t.base;
    t.baseFor = meta;
    t.baseId = id;
    return { id, name: meta.name, image: meta.image, ...this.labels.containerLabels(meta.labels) };
  }

  private cgroupVersion(layout: CgroupLayout | undefined): 1 | 2 {
    if (layout !== undefined) return layout.version;
    return this.engine.engineInfo?.cgroupVersion === '2' ? 2 : 1;
  }

  private async machineInfo(nowMs: number): Promise<MachineInfo> {
    if (this.machine === undefined || nowMs - this.machine.atMs > MACHINE_REFRESH_MS) {
      this.machine = { info: await readMachineInfo(this.fs), atMs: nowMs };
    }
    return this.machine.info;
  }

  private async cgroupLayout(nowMs: number): Promise<CgroupLayout | undefined> {
    const cached = this.layout;
    if (cached !== undefined && (cached.value !== undefined || nowMs - cached.atMs < LAYOUT_REFRESH_MS)) {
      return cached.value;
    }
    const value = await detectCgroupLayout(this.fs);
    this.layout = { value, atMs: nowMs };
    return value;
  }

  private async resolveCgroup(
    meta: TrackedMeta,
    layout: CgroupLayout | undefined,
    nowMs: number,
  ): Promise<void> {
    const t = this.state(meta.id);
    if (layout === undefined) {
      t.cgroup = undefined;
      return;
    }
    if (t.cgroupPid === meta.pid && (t.cgroup !== undefined || nowMs - t.cgroupTriedMs < CGROUP_RETRY_MS))
      return;
    t.cgroupPid = meta.pid;
    t.cgroupTriedMs = nowMs;
    t.cgroup = await resolveContainerCgroup(this.fs, layout, meta, this.engine.engineInfo);
    t.spec = undefined;
    t.specFor = undefined;
    t.plan = undefined;
  }

  /** One batched read of every container's files (spec files first for containers that need them). */
  private async readCgroupStats(metas: readonly TrackedMeta[]): Promise<Map<string, ContainerStats>> {
    const out = new Map<string, ContainerStats>();
    const needSpec = metas.filter((m) => {
      const t = this.state(m.id);
      return t.spec === undefined || t.specFor !== m;
    });
    if (needSpec.length > 0) {
      const plans = needSpec.map((m) => specReadPlan(this.state(m.id).cgroup as ContainerCgroup));
      const texts = await this.reader.read(plans);
      let at = 0;
      needSpec.forEach((m, i) => {
        const p = plans[i] as (typeof plans)[number];
        const t = this.state(m.id);
        t.spec = p.build(texts.slice(at, at + p.items.length));
        t.specFor = m;
        t.plan = undefined;
        at += p.items.length;
      });
    }
    const plans = metas.map((m) => this.statsPlan(m));
    const texts = await this.reader.read(plans);
    let at = 0;
    metas.forEach((m, i) => {
      const p = plans[i] as (typeof plans)[number];
      const stats = p.build(texts.slice(at, at + p.items.length));
      at += p.items.length;
      if (stats !== undefined) out.set(m.id, stats);
    });
    return out;
  }

  /** The container's read plan, built once per run (pid) and spec. */
  private statsPlan(meta: TrackedMeta): ReadPlan<ContainerStats | undefined> {
    const t = this.state(meta.id);
    if (t.plan !== undefined && t.planPid === meta.pid) return t.plan;
    t.planPid = meta.pid;
    t.plan = statsReadPlan(
      this.fs,
      t.cgroup as ContainerCgroup,
      meta.pid,
      {
        perCpu: this.settings.perCpu,
        tasks: this.settings.tasksState,
        // Shared network namespaces are counted once, on their owner (as cAdvisor); "none" has only lo,
        // which cAdvisor ignores anyway.
        network: meta.networkMode !== 'none' && !meta.networkMode.startsWith('container:'),
      },
      t.spec?.useHierarchy,
    );
    return t.plan;
  }

  /** Names block devices (`/dev/vda`) by major:minor from sysfs, once per device. */
  private async learnDevices(stats: readonly ContainerStats[]): Promise<void> {
    const unknown = new Set<string>();
    for (const s of stats) {
      for (const d of s.blkio) {
        const key = `${d.major}:${d.minor}`;
        if (!this.devices.has(key)) unknown.add(key);
      }
    }
    await Promise.all(
      [...unknown].map(async (key) => {
        const uevent = await this.fs.readAttr(this.fs.sys('dev', 'block', key, 'uevent'));
        const m = uevent === undefined ? null : /^DEVNAME=(.+)$/m.exec(uevent);
        this.devices.set(key, m === null ? '' : `/dev/${m[1] as string}`);
      }),
    );
  }

  private fsTargets(live: readonly TrackedMeta[]): FsTarget[] {
    const out: FsTarget[] = [];
    for (const m of live) {
      if (m.upperDir === undefined) continue;
      const dirs = [m.upperDir];
      if (m.logPath !== undefined) dirs.push(path.dirname(m.logPath));
      out.push({ id: m.id, dirs });
    }
    return out;
  }
}
