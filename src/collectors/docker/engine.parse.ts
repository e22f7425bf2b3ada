/**
 * Pure conversions of Docker Engine API JSON (container inspect, /info, /events) into the small typed
 * records the docker collector keeps. The API is read defensively: Podman's Docker-compatible API and
 * older engines omit some fields.
 */

export const HEALTH_STATUSES = ['none', 'starting', 'healthy', 'unhealthy'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Container states of the Engine API (State.Status). */
export const CONTAINER_STATES = [
  'created',
  'restarting',
  'running',
  'removing',
  'paused',
  'exited',
  'dead',
] as const;

/** The resource settings of HostConfig, used for container_spec_* when the cgroup files are not readable. */
export interface HostResources {
  readonly cpuShares: number;
  readonly cpuPeriod: number;
  readonly cpuQuota: number;
  readonly nanoCpus: number;
  readonly memory: number;
  readonly memorySwap: number;
  readonly memoryReservation: number;
}

export interface ContainerMeta {
  /** Full 64-hex container id. */
  readonly id: string;
  /** Name without the leading slash (cAdvisor's `name` label). */
  readonly name: string;
  /** The configured image name (Config.Image), cAdvisor's `image` label. */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  /** State.Status: running, paused, exited, ... */
  readonly state: string;
  /** Main process pid on the host (0 when not running). */
  readonly pid: number;
  /** Creation time, unix seconds (cAdvisor's container_start_time_seconds). */
  readonly createdSeconds: number;
  readonly restartCount: number;
  readonly exitCode: number;
  readonly oomKilled: boolean;
  readonly health: HealthStatus;
  readonly networkMode: string;
  readonly cgroupParent: string;
  readonly resources: HostResources;
  /** Writable layer directory on the host (overlay2 UpperDir), when the storage driver has one. */
  readonly upperDir?: string;
  /** json-file log path on the host, whose directory cAdvisor counts in the container's fs usage. */
  readonly logPath?: string;
}

export interface EngineInfo {
  readonly cgroupDriver: string;
  readonly cgroupVersion: string;
  readonly dockerRootDir: string;
  readonly serverVersion: string;
}

export interface EngineEvent {
  readonly id: string;
  /** Action without arguments: `health_status: healthy` -> `health_status`, `exec_start: sh` -> `exec_start`. */
  readonly action: string;
  /** The part after `: ` in the action, if any (the health status). */
  readonly detail: string;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v)))
    if (typeof val !== 'string') continue;
    // Assigning `__proto__` would set the prototype (or do nothing): a label of that name was lost.
    else if (k === '__proto__')
      Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
    else out[k] = val;
  return out;
}

/** RFC 3339 with nanoseconds -> unix seconds, truncated like Go's time.Unix(). */
export function unixSeconds(rfc3339: string): number {
  const ms = Date.parse(rfc3339);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

function health(state: Json): HealthStatus {
  const h = str(obj(state.Health).Status);
  return h === 'starting' || h === 'healthy' || h === 'unhealthy' ? h : 'none';
}

/** GET /containers/{id}/json -> ContainerMeta; undefined when the document has no Id. */
export function metaFromInspect(json: unknown): ContainerMeta | undefined {
  const c = obj(json);
  const id = str(c.Id);
  if (id === '') return undefined;
  const state = obj(c.State);
  const config = obj(c.Config);
  const host = obj(c.HostConfig);
  const graph = obj(obj(c.GraphDriver).Data);
  const upperDir = str(graph.UpperDir);
  const logPath = str(c.LogPath);
  return {
    id,
    name: str(c.Name).replace(/^\//, ''),
    image: str(config.Image),
    labels: stringRecord(config.Labels),
    state: str(state.Status, state.Running === true ? 'running' : 'exited'),
    pid: int(state.Pid),
    createdSeconds: unixSeconds(str(c.Created)),
    restartCount: int(c.RestartCount),
    exitCode: int(state.ExitCode),
    oomKilled: state.OOMKilled === true,
    health: health(state),
    networkMode: str(host.NetworkMode),
    cgroupParent: str(host.CgroupParent),
    resources: {
      cpuShares: int(host.CpuShares),
      cpuPeriod: int(host.CpuPeriod),
      cpuQuota: int(host.CpuQuota),
      nanoCpus: int(host.NanoCpus),
      memory: int(host.Memory),
      memorySwap: int(host.MemorySwap),
      memoryReservation: int(host.MemoryReservation),
    },
    ...(upperDir === '' ? {} : { upperDir }),
    ...(logPath === '' ? {} : { logPath }),
  };
}

/** GET /info -> the fields the collector needs. */
export function engineInfoFrom(json: unknown): EngineInfo {
  const i = obj(json);
  return {
    cgroupDriver: str(i.CgroupDriver, 'cgroupfs'),
    cgroupVersion: str(i.CgroupVersion, '1'),
    dockerRootDir: str(i.DockerRootDir, '/var/lib/docker'),
    serverVersion: str(i.ServerVersion),
  };
}

/** One decoded /events message about a container, or undefined for anything else. */
export function parseEvent(json: unknown): EngineEvent | undefined {
  const e = obj(json);
  const type = str(e.Type, str(e.type));
  if (type !== '' && type !== 'container') return undefined;
  const id = str(e.id, str(obj(e.Actor).ID));
  const full = str(e.Action, str(e.status));
  if (id === '' || full === '') return undefined;
  const colon = full.indexOf(':');
  return colon < 0
    ? { id, action: full, detail: '' }
    : { id, action: full.slice(0, colon), detail: full.slice(colon + 1).trim() };
}

/** Events that change nothing the collector exports. */
const IGNORED_ACTIONS = new Set([
  'exec_create',
  'exec_start',
  'exec_die',
  'exec_detach',
  'attach',
  'detach',
  'resize',
  'top',
  'commit',
  'copy',
  'archive-path',
  'extract-to-dir',
  'export',
]);

export function isIgnoredAction(action: string): boolean {
  return IGNORED_ACTIONS.has(action);
}

/** Parses `unix:///path`, `tcp://host:port` (and a bare `/path`) into dockerode connection options. */
export function connectionOptions(
  host: string,
): { socketPath: string } | { host: string; port: number; protocol: 'http' | 'https' } {
  const h = host.trim();
  if (h.startsWith('unix://')) return { socketPath: h.slice('unix://'.length) || '/var/run/docker.sock' };
  if (h.startsWith('/')) return { socketPath: h };
  const withScheme = /^[a-z]+:\/\//.test(h) ? h : `tcp://${h}`;
  const url = new URL(withScheme);
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol))
    throw new Error(`unsupported Docker host "${host}" (use unix:///path or tcp://host:port)`);
  const protocol = url.protocol === 'https:' || url.port === '2376' ? 'https' : 'http';
  const port = url.port === '' ? (protocol === 'https' ? 2376 : 2375) : Number(url.port);
  return { host: url.hostname, port, protocol };
}
