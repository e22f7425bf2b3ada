import type Dockerode from 'dockerode';
import { describe, SourceUnavailableError } from '../../errors';
import { mapLimit } from '../../map-limit';
import { loadDockerode } from './load-dockerode';
import type { Logger } from '../../log/logger';
import type { MetricFamily } from '../../metrics/types';
import {
  connectionOptions,
  engineInfoFrom,
  isIgnoredAction,
  metaFromInspect,
  parseEvent,
  type ContainerMeta,
  type EngineEvent,
  type EngineInfo,
  type HealthStatus,
} from './engine.parse';

/**
 * The Engine API did not answer. Carries the families the collector still has to say (hostscope_docker_up
 * 0, machine_*), so a runner that knows this error can export them while reporting success 0.
 */
export class DockerUnavailableError extends SourceUnavailableError {
  constructor(host: string, reason: string, families: readonly MetricFamily[]) {
    const where = engineAddress(host);
    super('E_DOCKER_UNAVAILABLE', `Docker Engine not reachable at ${host}: ${reason}`, families, {
      off: `Docker Engine not reachable: container metrics are off until it appears at ${where}`,
      on: `Docker Engine reachable at ${where}: container metrics are on`,
      fields: { docker: where },
      reason,
    });
  }
}

/** The socket path of a unix:// host, else the host as given. */
function engineAddress(host: string): string {
  try {
    const conn = connectionOptions(host);
    return 'socketPath' in conn ? conn.socketPath : host;
  } catch {
    return host;
  }
}

export interface EngineOptions {
  /** `unix:///var/run/docker.sock`, `tcp://host:2375`, ... */
  readonly host: string;
  readonly logger: Logger;
  /** Time limit of each API request except the event stream. */
  readonly requestTimeoutMs: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Parallel inspects while (re)synchronising the container list. */
  readonly inspectConcurrency?: number;
}

/** A container record plus what the event stream adds to it. */
export interface TrackedMeta extends ContainerMeta {
  /** `oom` events seen for this container since the exporter started (cAdvisor counts the same way). */
  readonly oomEvents: number;
}

type ConnState = 'idle' | 'connecting' | 'up' | 'down';

interface AbortableCalls {
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  info(opts: { abortSignal: AbortSignal }): Promise<unknown>;
}

/**
 * The collector's view of the Docker Engine: one connection, a container metadata cache filled once by
 * list + inspect and then kept current from the event stream (one inspect per relevant event, never one
 * per container per scrape), and reconnection with exponential backoff when the engine goes away.
 * A scrape that finds the engine down triggers an immediate attempt, so containers are back on the
 * first scrape after the daemon returns.
 */
export class DockerEngine {
  private readonly docker: Dockerode;
  private readonly containers = new Map<string, TrackedMeta>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly abort = new AbortController();
  /**
   * Containers destroyed while an inspect of theirs was under way: its answer (given before the removal)
   * must not bring them back, as no event would ever remove them again. Emptied as those inspects end.
   */
  private readonly destroyed = new Set<string>();
  /** API requests under way (see request()), aborted by close(). */
  private readonly requests = new Set<AbortController>();
  private state: ConnState = 'idle';
  private lastError: string | undefined;
  private connecting: Promise<boolean> | undefined;
  private events: NodeJS.ReadableStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private info: EngineInfo | undefined;
  private closed = false;
  private generation = 0;

  constructor(private readonly opts: EngineOptions) {
    // Explicit options, so that DOCKER_HOST / DOCKER_CERT_PATH in the environment cannot override them.
    const conn = connectionOptions(opts.host);
    const DockerodeClient = loadDockerode();
    this.docker = new DockerodeClient(
      'socketPath' in conn
        ? { socketPath: conn.socketPath, host: undefined, port: undefined }
        : { host: conn.host, port: conn.port, protocol: conn.protocol, socketPath: undefined },
    );
    this.backoffMs = opts.backoffInitialMs ?? 500;
  }

  get up(): boolean {
    return this.state === 'up';
  }

  get host(): string {
    return this.opts.host;
  }

  /** Why the engine is not reachable, e.g. `connect ENOENT /var/run/docker.sock`. */
  get error(): string {
    return this.lastError ?? 'not connected yet';
  }

  get engineInfo(): EngineInfo | undefined {
    return this.info;
  }

  get api(): Dockerode {
    return this.docker;
  }

  /** The cached containers (all states). */
  snapshot(): ReadonlyMap<string, TrackedMeta> {
    return this.containers;
  }

  /**
   * Resolves true when connected. While down, tries to connect now (one attempt shared by concurrent
   * callers) instead of waiting for the backoff timer.
   */
  async ensureConnected(signal?: AbortSignal): Promise<boolean> {
    if (this.closed) return false;
    if (this.state === 'up') return true;
    if (this.connecting === undefined) this.connect();
    const attempt = this.connecting;
    if (attempt === undefined) return this.up;
    if (signal === undefined) return attempt;
    return Promise.race([
      attempt,
      new Promise<boolean>((resolve) => {
        if (signal.aborted) resolve(false);
        signal.addEventListener('abort', () => resolve(false), { once: true });
      }),
    ]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'down';
    this.abort.abort();
    for (const c of this.requests) c.abort();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.dropEvents();
    await Promise.allSettled([this.connecting, ...this.inflight.values()]);
  }

  /**
   * Runs one API request with a signal that aborts on the request timeout or close(), whichever comes
   * first. Not AbortSignal.any() over the engine's long-lived signal: on Node 20 every such call leaves a
   * WeakRef in that signal's dependants for the life of the process, one per request (inspects on every
   * container event, stats API calls on every scrape): a slow leak the soak found.
   */
  async request<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const c = new AbortController();
    if (this.closed) c.abort();
    const timer = setTimeout(
      () => c.abort(new DOMException('the Docker API request timed out', 'TimeoutError')),
      this.opts.requestTimeoutMs,
    );
    timer.unref();
    this.requests.add(c);
    try {
      return await fn(c.signal);
    } finally {
      clearTimeout(timer);
      this.requests.delete(c);
    }
  }

  private connect(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const wasDown = this.state === 'down';
    this.state = 'connecting';
    const generation = ++this.generation;
    this.connecting = this.sync(generation).then(
      () => {
        this.connecting = undefined;
        if (this.closed || generation !== this.generation) return false;
        this.state = 'up';
        this.lastError = undefined;
        this.backoffMs = this.opts.backoffInitialMs ?? 500;
        // The runner tells the user (once, at info) on the next scrape; this is the mechanics.
        if (wasDown) this.opts.logger.debug({ host: this.opts.host }, 'Docker Engine connection restored');
        return true;
      },
      (err: unknown) => {
        this.connecting = undefined;
        if (this.closed || generation !== this.generation) return false;
        this.dropEvents();
        this.markDown(err);
        return false;
      },
    );
  }

  private markDown(err: unknown): void {
    this.state = 'down';
    this.lastError = reason(err);
    this.opts.logger.debug({ host: this.opts.host, err: this.lastError }, 'Docker Engine not reachable');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs ?? 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && this.state !== 'up' && this.connecting === undefined) this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** Ping, read /info, subscribe to events, then list + inspect every container. */
  private async sync(generation: number): Promise<void> {
    // dockerode accepts an abort signal on every call; its typings omit it for ping and info.
    const api = this.docker as unknown as AbortableCalls;
    await this.request((abortSignal) => api.ping({ abortSignal }));
    this.info = engineInfoFrom(await this.request((abortSignal) => api.info({ abortSignal })));
    await this.subscribe(generation);
    const list = await this.request((abortSignal) => this.docker.listContainers({ all: true, abortSignal }));
    const ids = new Set(list.map((c) => c.Id));
    for (const id of this.containers.keys()) if (!ids.has(id)) this.containers.delete(id);
    await mapLimit([...ids], this.opts.inspectConcurrency ?? 8, (id) => this.inspect(id));
  }

  private async subscribe(generation: number): Promise<void> {
    this.dropEvents();
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'] },
      abortSignal: this.abort.signal,
    })) as NodeJS.ReadableStream;
    if (this.closed || generation !== this.generation) {
      destroyStream(stream);
      return;
    }
    this.events = stream;
    let buffered = '';
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        try {
          const ev = parseEvent(JSON.parse(line));
          if (ev !== undefined) this.onEvent(ev);
        } catch {
          this.opts.logger.debug({ line: line.slice(0, 200) }, 'undecodable Docker event');
        }
      }
    });
    const lost = (err?: unknown): void => {
      if (this.events !== stream) return;
      this.events = undefined;
      if (this.closed) return;
      // Debug: when the engine is gone, the next scrape's warning says so; when only the stream was
      // cut, the reconnection restores everything before anyone needs to know.
      this.opts.logger.debug(
        { host: this.opts.host, err: err === undefined ? 'stream ended' : reason(err) },
        'Docker event stream lost; reconnecting',
      );
      this.generation++;
      this.connecting = undefined;
      this.markDown(err ?? new Error('event stream ended'));
    };
    stream.on('end', () => lost());
    stream.on('close', () => lost());
    stream.on('error', (err: unknown) => lost(err));
  }

  private dropEvents(): void {
    const stream = this.events;
    this.events = undefined;
    if (stream !== undefined) destroyStream(stream);
  }

  private onEvent(ev: EngineEvent): void {
    if (isIgnoredAction(ev.action)) return;
    if (ev.action === 'destroy') {
      this.containers.delete(ev.id);
      if (this.inflight.has(ev.id)) this.destroyed.add(ev.id);
      return;
    }
    const current = this.containers.get(ev.id);
    if (ev.action === 'oom' && current !== undefined) {
      this.containers.set(ev.id, { ...current, oomEvents: current.oomEvents + 1 });
    }
    if (ev.action === 'health_status' && current !== undefined && isHealth(ev.detail)) {
      this.containers.set(ev.id, { ...current, health: ev.detail });
      return;
    }
    void this.inspect(ev.id);
  }

  /** Re-inspects one container; concurrent requests for the same id coalesce into one more inspect. */
  private inspect(id: string): Promise<void> {
    const running = this.inflight.get(id);
    if (running !== undefined) {
      this.again.add(id);
      return running;
    }
    const task = (async () => {
      try {
        do {
          this.again.delete(id);
          await this.inspectOnce(id);
        } while (this.again.has(id) && !this.closed && !this.destroyed.has(id));
      } finally {
        this.inflight.delete(id);
        this.destroyed.delete(id);
        this.again.delete(id);
      }
    })();
    this.inflight.set(id, task);
    return task;
  }

  private async inspectOnce(id: string): Promise<void> {
    try {
      const json: unknown = await this.request((abortSignal) =>
        this.docker.getContainer(id).inspect({ abortSignal }),
      );
      const meta = metaFromInspect(json);
      if (meta === undefined || this.destroyed.has(id)) return;
      const previous = this.containers.get(id);
      this.containers.set(id, { ...meta, oomEvents: previous?.oomEvents ?? 0 });
    } catch (err) {
      if (statusCode(err) === 404) {
        this.containers.delete(id);
        return;
      }
      if (this.closed) return;
      // Keep the last known record; the next event or resync corrects it.
      this.opts.logger.debug({ id, err: reason(err) }, 'container inspect failed');
    }
  }
}

function isHealth(s: string): s is HealthStatus {
  return s === 'starting' || s === 'healthy' || s === 'unhealthy';
}

function statusCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err) {
    const code = (err as { statusCode: unknown }).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

/** A short, stable reason: `connect ENOENT /var/run/docker.sock`, `(HTTP code 500) ...`. */
function reason(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const e = err as { code: unknown; syscall?: unknown; address?: unknown };
    if (typeof e.code === 'string') {
      const parts = [typeof e.syscall === 'string' ? e.syscall : '', e.code];
      if (typeof e.address === 'string') parts.push(e.address);
      return parts.filter((p) => p !== '').join(' ');
    }
  }
  return describe(err).trim();
}

function destroyStream(stream: NodeJS.ReadableStream): void {
  const s = stream as NodeJS.ReadableStream & { destroy?: () => void };
  s.removeAllListeners('data');
  if (typeof s.destroy === 'function') s.destroy();
}
