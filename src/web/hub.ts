import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveHost, LivePoint } from './live';
import { summary } from './live';

/**
 * Server-Sent Events fan-out of the live overview (`GET /api/v1/live`). The sink publishes its figures
 * once per scrape round; each host's message is serialised there, once, and the same string is written to
 * every client that watches the host, so the cost of a round does not grow with the viewers beyond one
 * socket write each. Clients are bounded (`--web.live.max-clients`; past it 503), get a comment line as a
 * heartbeat (`--web.live.heartbeat-interval`), and are dropped when they stop reading (a client whose
 * socket holds more than MAX_CLIENT_BUFFER_BYTES unsent). Messages go out at most once a second.
 */

/** A client that has this much unsent in its socket is not reading; it is disconnected. */
export const MAX_CLIENT_BUFFER_BYTES = 4 * 1024 * 1024;
/** At most one message a second per client, however fast the sink scrapes. */
export const MIN_MESSAGE_INTERVAL_MS = 1000;
/** What EventSource waits before reconnecting after a dropped connection (the `retry:` field). */
export const RECONNECT_MS = 2000;

export interface HubOptions {
  readonly maxClients: number;
  readonly heartbeatMs: number;
  /** Live chart points kept per host for a client that connects (its charts start filled). */
  readonly backlogPoints: number;
  readonly intervalSeconds: number;
  readonly now?: () => number;
}

interface Client {
  readonly res: ServerResponse;
  /** The instance the client asked for; '' follows the first host. */
  readonly instance: string;
}

interface Feed {
  /** `event: hosts` with the index of every host. */
  readonly index: string;
  /** Per instance: `event: host` with its figures. */
  readonly hosts: ReadonlyMap<string, string>;
  readonly first: string | undefined;
}

const sse = (event: string, data: string): string => `event: ${event}\ndata: ${data}\n\n`;

export class LiveHub {
  private readonly clients = new Set<Client>();
  private readonly backlog = new Map<string, LivePoint[]>();
  /** Serialised backlog per instance, until the next publish. */
  private readonly backlogText = new Map<string, string>();
  private feed: Feed = { index: sse('hosts', '[]'), hosts: new Map(), first: undefined };
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSentMs = -Infinity;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly startedSeconds: number;
  private readonly now: () => number;
  /** Counters for the sink's /metrics. */
  messages = 0;
  rejected = 0;
  dropped = 0;
  publishSeconds = 0;

  constructor(private readonly options: HubOptions) {
    this.now = options.now ?? Date.now;
    this.startedSeconds = Math.floor(this.now() / 1000);
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The figures of one scrape round: serialised once here, sent within a second to every client. */
  publish(hosts: readonly LiveHost[]): void {
    const started = performance.now();
    const byInstance = new Map<string, string>();
    for (const h of hosts) {
      byInstance.set(h.instance, sse('host', JSON.stringify(h)));
      if (h.up) {
        let ring = this.backlog.get(h.instance);
        if (ring === undefined) {
          ring = [];
          this.backlog.set(h.instance, ring);
        }
        const last = ring[ring.length - 1];
        if (last === undefined || h.point.t > last.t) ring.push(h.point);
        if (ring.length > this.options.backlogPoints)
          ring.splice(0, ring.length - this.options.backlogPoints);
      }
    }
    for (const k of this.backlog.keys()) if (!byInstance.has(k)) this.backlog.delete(k);
    this.backlogText.clear();
    this.feed = {
      index: sse('hosts', JSON.stringify(hosts.map(summary))),
      hosts: byInstance,
      first: hosts[0]?.instance,
    };
    this.publishSeconds += (performance.now() - started) / 1000;
    this.pending = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || !this.pending) return;
    const wait = Math.max(0, this.lastSentMs + MIN_MESSAGE_INTERVAL_MS - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.broadcast();
    }, wait);
    this.timer.unref();
  }

  private broadcast(): void {
    if (!this.pending) return;
    this.pending = false;
    this.lastSentMs = this.now();
    for (const c of this.clients) this.write(c, this.feed.index + (this.hostMessage(c.instance) ?? ''));
  }

  private hostMessage(instance: string): string | undefined {
    const key = instance === '' ? this.feed.first : instance;
    return key === undefined ? undefined : this.feed.hosts.get(key);
  }

  private backlogMessage(instance: string): string {
    const key = instance === '' ? this.feed.first : instance;
    if (key === undefined) return '';
    let text = this.backlogText.get(key);
    if (text === undefined) {
      text = sse('backlog', JSON.stringify({ instance: key, points: this.backlog.get(key) ?? [] }));
      this.backlogText.set(key, text);
    }
    return text;
  }

  private write(c: Client, text: string): void {
    if (c.res.writableLength > MAX_CLIENT_BUFFER_BYTES) {
      this.dropped++;
      this.remove(c);
      c.res.destroy();
      return;
    }
    c.res.write(text);
    this.messages++;
  }

  private beat(): void {
    for (const c of this.clients) this.write(c, ': heartbeat\n\n');
  }

  private remove(c: Client): void {
    this.clients.delete(c);
  }

  /**
   * Serves one `GET /api/v1/live` (the route checked its parameters). Answers 503 past the client bound;
   * otherwise keeps the response open, starting with `hello`, the hosts index, the chosen host's backlog
   * and its latest figures.
   */
  connect(_req: IncomingMessage, res: ServerResponse, instance: string): void {
    if (this.clients.size >= this.options.maxClients) {
      this.rejected++;
      res.writeHead(503, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'Retry-After': '10',
      });
      res.end(
        JSON.stringify({
          status: 'error',
          error: 'too_many_clients',
          message: `at most ${this.options.maxClients} live clients (--web.live.max-clients)`,
        }),
      );
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Reverse proxies (nginx) would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const client: Client = { res, instance };
    this.clients.add(client);
    // The response closes when the browser goes away (or the sink ends the stream).
    res.once('close', () => this.remove(client));
    const hello = {
      interval_seconds: this.options.intervalSeconds,
      instance: instance === '' ? (this.feed.first ?? null) : instance,
      started: this.startedSeconds,
      backlog_points: this.options.backlogPoints,
    };
    this.write(
      client,
      `retry: ${RECONNECT_MS}\n\n` +
        sse('hello', JSON.stringify(hello)) +
        this.feed.index +
        this.backlogMessage(instance) +
        (this.hostMessage(instance) ?? ''),
    );
  }

  /** Ends every stream and stops the timers (the sink is stopping). */
  close(): void {
    clearInterval(this.heartbeat);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
