/**
 * The messages of the live page's stream (`GET /api/v1/live`, Server-Sent Events), shared by the sink
 * (src/web/live.ts, hub.ts) and the page (src/web/client/). No imports: the browser bundle uses it too.
 *
 * Events: `hello` (HelloMessage) once per connection; `hosts` (LiveHostSummary[]) and `host` (LiveHost,
 * the host the client watches) after every scrape round, at most once a second; `backlog`
 * (BacklogMessage) once per connection, the chart points the sink kept. Comment lines are heartbeats.
 */

/** node_cpu_seconds_total modes, in the order the page draws them. */
export const CPU_MODES = ['user', 'system', 'iowait', 'nice', 'irq', 'softirq', 'steal', 'idle'] as const;

export interface HelloMessage {
  readonly interval_seconds: number;
  /** The host this stream follows (the `instance` asked for, else the first one); null before any scrape. */
  readonly instance: string | null;
  /** When the sink process started (unix seconds): a new value means it restarted. */
  readonly started: number;
  readonly backlog_points: number;
}

export interface BacklogMessage {
  readonly instance: string;
  readonly points: readonly LivePoint[];
}

/** One point of a host's live charts: what the page keeps per scrape (and the hub's backlog holds). */
export interface LivePoint {
  /** Scrape time, unix seconds. */
  readonly t: number;
  /** Share of all CPU time per mode since the previous scrape, 0–100; empty for the first scrape. */
  readonly cpu: Readonly<Record<string, number>>;
  readonly mem_used: number | null;
  readonly mem_total: number | null;
  readonly load1: number | null;
  readonly load5: number | null;
  readonly load15: number | null;
  /** Bytes per second summed over the network devices except `lo`, and over the disks. */
  readonly rx: number | null;
  readonly tx: number | null;
  readonly read: number | null;
  readonly written: number | null;
  /** Used % of the fullest filesystems, by mountpoint. */
  readonly fs: Readonly<Record<string, number>>;
}

export interface LiveFilesystem {
  readonly mountpoint: string;
  readonly device: string;
  readonly fstype: string;
  readonly size_bytes: number;
  readonly avail_bytes: number;
  readonly used_bytes: number;
  readonly used_percent: number;
  readonly growth_bytes_per_day: number | null;
  readonly forecast_used_percent_24h: number | null;
  readonly full_in_seconds: number | null;
}

export interface LiveDevice {
  readonly device: string;
  /** Receive and transmit (network) or read and written (disk), bytes per second. */
  readonly in: number | null;
  readonly out: number | null;
}

export interface LiveContainer {
  readonly name: string;
  readonly id: string;
  readonly image: string;
  readonly state: string;
  readonly cpu_percent: number | null;
  readonly cpu_cores: number | null;
  readonly memory_usage_bytes: number | null;
  readonly memory_limit_bytes: number | null;
  readonly memory_percent: number | null;
  readonly restarts: number | null;
  readonly oom_events: number | null;
}

export interface LiveHost {
  readonly instance: string;
  readonly job: string;
  readonly host: string;
  /** Time of the last scrape, unix seconds. */
  readonly time: number;
  readonly up: boolean;
  readonly scrape_duration_seconds: number;
  readonly error: string | null;
  readonly cpu: { readonly count: number | null; readonly percent: number | null };
  readonly memory: {
    readonly total_bytes: number | null;
    readonly available_bytes: number | null;
    readonly used_bytes: number | null;
    readonly percent: number | null;
  };
  readonly point: LivePoint;
  readonly filesystems: { readonly count: number; readonly list: readonly LiveFilesystem[] };
  readonly network: { readonly count: number; readonly devices: readonly LiveDevice[] };
  readonly disks: { readonly count: number; readonly devices: readonly LiveDevice[] };
  readonly containers: {
    readonly count: number;
    readonly running: number;
    readonly list: readonly LiveContainer[];
  };
}

/** A line of the hosts index every client receives: enough for the host picker and a summary. */
export interface LiveHostSummary {
  readonly instance: string;
  readonly host: string;
  readonly time: number;
  readonly up: boolean;
  readonly cpu_percent: number | null;
  readonly memory_percent: number | null;
}
