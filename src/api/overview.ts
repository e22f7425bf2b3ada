import type { Queryable } from '../db/database';

/** Rates, latest filesystem and container figures are taken from this window before the answer's time. */
export const OVERVIEW_WINDOW_SECONDS = 600;
/** The filesystem fill trend is fitted over the hourly rollups of this many seconds before now. */
export const TREND_SECONDS = 86_400;

/**
 * The fill trend of every filesystem (`$1` = now, unix seconds): the least-squares slope of its used bytes
 * (−available) per second over the hourly rollups of the last TREND_SECONDS. Also read by the live page
 * (src/web/feed.ts), so both show the same forecast.
 */
export const FILESYSTEM_TREND_SQL = `SELECT h.labels->>'instance' AS instance, h.labels->>'mountpoint' AS mountpoint,
                         h.labels->>'device' AS device,
                         regr_slope(-h.avg, extract(epoch FROM h.time)::float8) AS slope
                    FROM hostscope.samples_hourly h
                   WHERE h.metric = 'node_filesystem_avail_bytes'
                     AND h.time >= to_timestamp($1::float8 - ${TREND_SECONDS}) AND h.time <= to_timestamp($1::float8)
                   GROUP BY 1, 2, 3`;

/** The statements of `GET /api/v1/overview`, each with `$1` = now (unix seconds). */
export const OVERVIEW_SQL = {
  /** Every live inventory host and its latest per-scrape usage row (none: nulls). */
  hosts: `SELECT h.instance, h.job, coalesce(u.host, h.hostname, h.instance) AS host,
                 extract(epoch FROM u.time)::float8 AS time, u.cpu_count, u.cpu_percent, u.cpu_iowait_percent,
                 u.memory_total_bytes, u.memory_available_bytes, u.memory_used_bytes, u.memory_percent,
                 u.load1, u.load5, u.load15
            FROM hostscope.hosts h
            LEFT JOIN LATERAL (SELECT * FROM hostscope.host_usage x
                                WHERE x.instance = h.instance AND x.time <= to_timestamp($1::float8)
                                ORDER BY x.time DESC LIMIT 1) u ON true
           WHERE NOT h.is_deleted
           ORDER BY h.instance`,
  /** Latest size and available bytes per filesystem in the window, and the trend of its used bytes. */
  filesystems: `WITH win AS (
                  SELECT se.labels->>'instance' AS instance, se.labels->>'mountpoint' AS mountpoint,
                         se.labels->>'device' AS device, se.labels->>'fstype' AS fstype, m.name AS metric,
                         r.time, r.value
                    FROM hostscope.samples_range(to_timestamp($1::float8 - ${OVERVIEW_WINDOW_SECONDS}), to_timestamp($1::float8 + 1)) r
                    JOIN hostscope.series se ON se.id = r.series_id
                    JOIN hostscope.metrics m ON m.id = se.metric_id
                   WHERE m.name IN ('node_filesystem_size_bytes', 'node_filesystem_avail_bytes')
                ), latest AS (
                  SELECT instance, mountpoint, device, fstype,
                         (array_agg(value ORDER BY time DESC) FILTER (WHERE metric = 'node_filesystem_size_bytes'))[1] AS size,
                         (array_agg(value ORDER BY time DESC) FILTER (WHERE metric = 'node_filesystem_avail_bytes'))[1] AS avail
                    FROM win GROUP BY 1, 2, 3, 4
                ), trend AS (${FILESYSTEM_TREND_SQL})
                SELECT l.instance, l.mountpoint, l.device, l.fstype, l.size, l.avail, t.slope
                  FROM latest l
                  LEFT JOIN trend t ON t.instance = l.instance AND t.mountpoint = l.mountpoint
                                   AND t.device IS NOT DISTINCT FROM l.device
                 WHERE l.size > 0 AND l.avail IS NOT NULL
                 ORDER BY l.instance, l.mountpoint, l.device`,
  /** Network and disk byte counters: first and last sample of each in the window. */
  throughput: `SELECT se.labels->>'instance' AS instance, se.labels->>'device' AS device, m.name AS metric,
                      (array_agg(r.value ORDER BY r.time))[1] AS first,
                      (array_agg(r.value ORDER BY r.time DESC))[1] AS last,
                      extract(epoch FROM max(r.time) - min(r.time))::float8 AS seconds
                 FROM hostscope.samples_range(to_timestamp($1::float8 - ${OVERVIEW_WINDOW_SECONDS}), to_timestamp($1::float8 + 1)) r
                 JOIN hostscope.series se ON se.id = r.series_id
                 JOIN hostscope.metrics m ON m.id = se.metric_id
                WHERE m.name IN ('node_network_receive_bytes_total', 'node_network_transmit_bytes_total',
                                 'node_disk_read_bytes_total', 'node_disk_written_bytes_total')
                GROUP BY 1, 2, 3
                ORDER BY 1, 2, 3`,
  /** Latest usage row of every container seen in the window. */
  containers: `SELECT DISTINCT ON (instance, container_id)
                      instance, container, container_id, image, status, extract(epoch FROM time)::float8 AS time,
                      cpu_cores, cpu_percent, memory_usage_bytes, memory_limit_bytes, memory_percent
                 FROM hostscope.container_usage
                WHERE time > to_timestamp($1::float8 - ${OVERVIEW_WINDOW_SECONDS}) AND time <= to_timestamp($1::float8)
                ORDER BY instance, container_id, time DESC`,
  /** Latest restart and OOM counters per container name in the window. */
  containerEvents: `SELECT se.labels->>'instance' AS instance, se.labels->>'name' AS name, m.name AS metric,
                           (array_agg(r.value ORDER BY r.time DESC))[1] AS value
                      FROM hostscope.samples_range(to_timestamp($1::float8 - ${OVERVIEW_WINDOW_SECONDS}), to_timestamp($1::float8 + 1)) r
                      JOIN hostscope.series se ON se.id = r.series_id
                      JOIN hostscope.metrics m ON m.id = se.metric_id
                     WHERE m.name IN ('hostscope_container_restarts_total', 'container_oom_events_total')
                     GROUP BY 1, 2, 3`,
} as const;

export interface FilesystemOverview {
  mountpoint: string;
  device: string | null;
  fstype: string | null;
  size_bytes: number;
  avail_bytes: number;
  used_bytes: number;
  used_percent: number;
  growth_bytes_per_day: number | null;
  forecast_used_percent_24h: number | null;
  full_in_seconds: number | null;
}

export interface ContainerOverview {
  name: string;
  id: string;
  image: string;
  status: string;
  time: number;
  cpu_cores: number | null;
  cpu_percent: number | null;
  memory_usage_bytes: number | null;
  memory_limit_bytes: number | null;
  memory_percent: number | null;
  restarts_total: number | null;
  oom_events_total: number | null;
}

export interface HostOverview {
  instance: string;
  job: string;
  host: string;
  time: number | null;
  cpu: { count: number | null; percent: number | null; iowait_percent: number | null };
  memory: {
    total_bytes: number | null;
    available_bytes: number | null;
    used_bytes: number | null;
    percent: number | null;
  };
  load: { load1: number | null; load5: number | null; load15: number | null };
  filesystems: FilesystemOverview[];
  network: {
    device: string;
    receive_bytes_per_second: number | null;
    transmit_bytes_per_second: number | null;
  }[];
  disks: { device: string; read_bytes_per_second: number | null; written_bytes_per_second: number | null }[];
  containers: ContainerOverview[];
}

export interface Overview {
  time: number;
  window_seconds: number;
  hosts: HostOverview[];
}

const num = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** A counter's rate over the window: null with fewer than two samples or when it went down (a reset). */
export function counterRate(first: unknown, last: unknown, seconds: unknown): number | null {
  const a = num(first);
  const b = num(last);
  const s = num(seconds);
  if (a === null || b === null || s === null || s <= 0 || b < a) return null;
  return (b - a) / s;
}

/** The filesystem figures from its latest size and available bytes and the slope of its used bytes. */
export function filesystemFigures(
  size: number,
  avail: number,
  slopePerSecond: number | null,
): Omit<FilesystemOverview, 'mountpoint' | 'device' | 'fstype'> {
  const used = size - avail;
  const perDay = slopePerSecond === null ? null : slopePerSecond * 86_400;
  return {
    size_bytes: size,
    avail_bytes: avail,
    used_bytes: used,
    used_percent: (100 * used) / size,
    growth_bytes_per_day: perDay,
    forecast_used_percent_24h:
      perDay === null ? null : (100 * Math.min(size, Math.max(0, used + perDay))) / size,
    full_in_seconds: slopePerSecond !== null && slopePerSecond > 0 ? avail / slopePerSecond : null,
  };
}

type R = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Reads the overview at `nowSeconds`. */
export async function queryOverview(db: Queryable, nowSeconds: number): Promise<Overview> {
  const p = [nowSeconds];
  const hostRows = await db.query<R>(OVERVIEW_SQL.hosts, p);
  const fsRows = await db.query<R>(OVERVIEW_SQL.filesystems, p);
  const tpRows = await db.query<R>(OVERVIEW_SQL.throughput, p);
  const cRows = await db.query<R>(OVERVIEW_SQL.containers, p);
  const evRows = await db.query<R>(OVERVIEW_SQL.containerEvents, p);

  const hosts = new Map<string, HostOverview>();
  for (const r of hostRows) {
    hosts.set(str(r.instance), {
      instance: str(r.instance),
      job: str(r.job),
      host: str(r.host),
      time: num(r.time),
      cpu: {
        count: num(r.cpu_count),
        percent: num(r.cpu_percent),
        iowait_percent: num(r.cpu_iowait_percent),
      },
      memory: {
        total_bytes: num(r.memory_total_bytes),
        available_bytes: num(r.memory_available_bytes),
        used_bytes: num(r.memory_used_bytes),
        percent: num(r.memory_percent),
      },
      load: { load1: num(r.load1), load5: num(r.load5), load15: num(r.load15) },
      filesystems: [],
      network: [],
      disks: [],
      containers: [],
    });
  }
  for (const r of fsRows) {
    const h = hosts.get(str(r.instance));
    const size = num(r.size);
    const avail = num(r.avail);
    if (h === undefined || size === null || avail === null) continue;
    h.filesystems.push({
      mountpoint: str(r.mountpoint),
      device: strOrNull(r.device),
      fstype: strOrNull(r.fstype),
      ...filesystemFigures(size, avail, num(r.slope)),
    });
  }
  const rates = new Map<string, Map<string, Record<string, number | null>>>();
  for (const r of tpRows) {
    const instance = str(r.instance);
    if (!hosts.has(instance)) continue;
    const byDevice = rates.get(instance) ?? new Map<string, Record<string, number | null>>();
    rates.set(instance, byDevice);
    const d = byDevice.get(str(r.device)) ?? {};
    byDevice.set(str(r.device), d);
    d[str(r.metric)] = counterRate(r.first, r.last, r.seconds);
  }
  for (const [instance, byDevice] of rates) {
    const h = hosts.get(instance);
    if (h === undefined) continue;
    for (const [device, m] of byDevice) {
      if ('node_network_receive_bytes_total' in m || 'node_network_transmit_bytes_total' in m)
        h.network.push({
          device,
          receive_bytes_per_second: m.node_network_receive_bytes_total ?? null,
          transmit_bytes_per_second: m.node_network_transmit_bytes_total ?? null,
        });
      if ('node_disk_read_bytes_total' in m || 'node_disk_written_bytes_total' in m)
        h.disks.push({
          device,
          read_bytes_per_second: m.node_disk_read_bytes_total ?? null,
          written_bytes_per_second: m.node_disk_written_bytes_total ?? null,
        });
    }
  }
  const events = new Map<string, number | null>();
  for (const r of evRows)
    events.set(`${str(r.instance)}\u0000${str(r.name)}\u0000${str(r.metric)}`, num(r.value));
  for (const r of cRows) {
    const h = hosts.get(str(r.instance));
    if (h === undefined) continue;
    const key = `${str(r.instance)}\u0000${str(r.container)}\u0000`;
    h.containers.push({
      name: str(r.container),
      id: str(r.container_id),
      image: str(r.image),
      status: str(r.status),
      time: num(r.time) ?? 0,
      cpu_cores: num(r.cpu_cores),
      cpu_percent: num(r.cpu_percent),
      memory_usage_bytes: num(r.memory_usage_bytes),
      memory_limit_bytes: num(r.memory_limit_bytes),
      memory_percent: num(r.memory_percent),
      restarts_total: events.get(`${key}hostscope_container_restarts_total`) ?? null,
      oom_events_total: events.get(`${key}container_oom_events_total`) ?? null,
    });
  }
  for (const h of hosts.values())
    h.containers.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { time: nowSeconds, window_seconds: OVERVIEW_WINDOW_SECONDS, hosts: [...hosts.values()] };
}
