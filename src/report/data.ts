import type { Queryable } from '../db/database';

/**
 * The figures of a report, read from the rollups and the alert history only (host_usage_hourly,
 * container_usage_hourly, samples_hourly, alerts_history, hosts): never a scan of raw samples, so a
 * report over months costs a few hundred rows per host.
 */

export interface Window {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface UsageStats {
  /** Mean of the period (hourly averages weighted by their scrapes), p95 of the hourly averages, peak scrape. */
  readonly avg: number | null;
  readonly p95: number | null;
  readonly peak: number | null;
}

export interface HostReport {
  readonly instance: string;
  readonly host: string;
  readonly cpu: UsageStats;
  readonly memory: UsageStats;
  readonly previousCpu: UsageStats;
  readonly previousMemory: UsageStats;
  /** Hourly averages over the period, for the charts: [hour start ms, cpu %, memory %]. */
  readonly hourly: readonly (readonly [number, number | null, number | null])[];
}

export interface FilesystemReport {
  readonly instance: string;
  readonly host: string;
  readonly mountpoint: string;
  readonly sizeBytes: number;
  readonly usedPercent: number;
  /** Growth of used bytes per day from the linear trend over the period (negative: shrinking). */
  readonly growthBytesPerDay: number | null;
  /** Days until full at that trend (null when not growing). */
  readonly daysUntilFull: number | null;
  /** Daily used % (last hourly value of each day) for the charts: [day start ms, used %]. */
  readonly daily: readonly (readonly [number, number])[];
}

export interface ContainerReport {
  readonly host: string;
  readonly container: string;
  readonly image: string;
  readonly cpuAvg: number | null;
  readonly cpuPeak: number | null;
  readonly memoryAvgBytes: number | null;
  readonly memoryPeakBytes: number | null;
}

export interface ContainerEvents {
  readonly host: string;
  readonly container: string;
  readonly restarts: number;
  readonly oomKills: number;
}

export interface AlertSummary {
  readonly fired: number;
  readonly resolved: number;
  readonly stillFiring: number;
  readonly mttrSeconds: number | null;
  readonly previousFired: number;
  readonly top: readonly {
    alertname: string;
    instance: string | null;
    fired: number;
    mttrSeconds: number | null;
  }[];
  readonly firing: readonly {
    alertname: string;
    instance: string | null;
    severity: string | null;
    startsAt: Date;
  }[];
}

export interface SilentHost {
  readonly instance: string;
  readonly host: string;
  readonly lastSeen: Date;
}

export interface ReportData {
  readonly window: Window;
  readonly previous: Window;
  readonly hosts: readonly HostReport[];
  readonly filesystems: readonly FilesystemReport[];
  readonly topCpu: readonly ContainerReport[];
  readonly topMemory: readonly ContainerReport[];
  readonly containerEvents: readonly ContainerEvents[];
  readonly alerts: AlertSummary;
  readonly silentHosts: readonly SilentHost[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (ms: number): string => new Date(ms).toISOString();

const USAGE_STATS = (col: 'cpu' | 'memory'): string => `
  sum(${col}_percent_avg * samples) FILTER (WHERE ${col}_percent_avg IS NOT NULL)
    / nullif(sum(samples) FILTER (WHERE ${col}_percent_avg IS NOT NULL), 0) AS ${col}_avg,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY ${col}_percent_avg) AS ${col}_p95,
  max(${col}_percent_max) AS ${col}_peak`;

interface UsageRow {
  instance: string;
  host: string;
  cpu_avg: number | null;
  cpu_p95: number | null;
  cpu_peak: number | null;
  memory_avg: number | null;
  memory_p95: number | null;
  memory_peak: number | null;
}

async function usage(db: Queryable, w: Window): Promise<Map<string, UsageRow>> {
  const rows = await db.query<UsageRow & Record<string, unknown>>(
    `SELECT u.instance, coalesce(max(h.hostname), max(u.host)) AS host, ${USAGE_STATS('cpu')}, ${USAGE_STATS('memory')}
       FROM hostscope.host_usage_hourly u LEFT JOIN hostscope.hosts h ON h.instance = u.instance
      WHERE u.time >= $1 AND u.time < $2
      GROUP BY u.instance`,
    [iso(w.fromMs), iso(w.toMs)],
  );
  return new Map(rows.map((r) => [r.instance, r]));
}

const stats = (r: UsageRow | undefined, col: 'cpu' | 'memory'): UsageStats => ({
  avg: num(r?.[`${col}_avg`]),
  p95: num(r?.[`${col}_p95`]),
  peak: num(r?.[`${col}_peak`]),
});

export async function collectReport(db: Queryable, window: Window, topN = 5): Promise<ReportData> {
  const period = window.toMs - window.fromMs;
  const previous = { fromMs: window.fromMs - period, toMs: window.fromMs };
  const range = [iso(window.fromMs), iso(window.toMs)];

  const [now, before] = await Promise.all([usage(db, window), usage(db, previous)]);
  const hourlyRows = await db.query<{ instance: string; time: Date; cpu: number | null; mem: number | null }>(
    `SELECT instance, time, cpu_percent_avg AS cpu, memory_percent_avg AS mem
       FROM hostscope.host_usage_hourly WHERE time >= $1 AND time < $2 ORDER BY instance, time`,
    range,
  );
  const hourly = new Map<string, [number, number | null, number | null][]>();
  for (const r of hourlyRows) {
    const list = hourly.get(r.instance) ?? [];
    list.push([r.time.getTime(), num(r.cpu), num(r.mem)]);
    hourly.set(r.instance, list);
  }
  const hosts: HostReport[] = [...now.values()]
    .sort((a, b) => a.host.localeCompare(b.host) || a.instance.localeCompare(b.instance))
    .map((r) => ({
      instance: r.instance,
      host: r.host,
      cpu: stats(r, 'cpu'),
      memory: stats(r, 'memory'),
      previousCpu: stats(before.get(r.instance), 'cpu'),
      previousMemory: stats(before.get(r.instance), 'memory'),
      hourly: hourly.get(r.instance) ?? [],
    }));

  // Filesystems: hourly averages of size and available bytes; the trend of used bytes is a least-squares
  // line over the period's hours, extrapolated to the size.
  const fsRows = await db.query<{
    instance: string;
    mountpoint: string;
    size: number;
    used_pct: number;
    slope: number | null;
    avail: number;
    daily: [string, number][];
  }>(
    `WITH fs AS (
       SELECT a.labels->>'instance' AS instance, a.labels->>'mountpoint' AS mountpoint, a.time,
              s.avg AS size, a.avg AS avail
         FROM hostscope.samples_hourly a
         JOIN hostscope.samples_hourly s
           ON s.metric = 'node_filesystem_size_bytes' AND s.time = a.time
          AND s.labels->>'instance' = a.labels->>'instance' AND s.labels->>'mountpoint' = a.labels->>'mountpoint'
          AND s.labels->>'device' IS NOT DISTINCT FROM a.labels->>'device'
        WHERE a.metric = 'node_filesystem_avail_bytes' AND a.time >= $1 AND a.time < $2
          AND s.time >= $1 AND s.time < $2 AND s.avg > 0
     ), last AS (
       SELECT DISTINCT ON (instance, mountpoint) instance, mountpoint, size, avail
         FROM fs ORDER BY instance, mountpoint, time DESC
     ), trend AS (
       SELECT instance, mountpoint, regr_slope(size - avail, extract(epoch FROM time)) * 86400 AS slope
         FROM fs GROUP BY instance, mountpoint
     ), daily AS (
       SELECT instance, mountpoint,
              json_agg(json_build_array(day, used_pct) ORDER BY day) AS daily
         FROM (SELECT DISTINCT ON (instance, mountpoint, date_trunc('day', time AT TIME ZONE 'UTC'))
                      instance, mountpoint, date_trunc('day', time AT TIME ZONE 'UTC') AS day,
                      100 * (size - avail) / size AS used_pct
                 FROM fs ORDER BY instance, mountpoint, date_trunc('day', time AT TIME ZONE 'UTC'), time DESC) d
        GROUP BY instance, mountpoint
     )
     SELECT l.instance, l.mountpoint, l.size, 100 * (l.size - l.avail) / l.size AS used_pct, l.avail, t.slope, d.daily
       FROM last l JOIN trend t USING (instance, mountpoint) JOIN daily d USING (instance, mountpoint)`,
    range,
  );
  const hostName = new Map(hosts.map((h) => [h.instance, h.host]));
  const filesystems: FilesystemReport[] = fsRows
    .map((r) => {
      const slope = num(r.slope);
      return {
        instance: r.instance,
        host: hostName.get(r.instance) ?? r.instance,
        mountpoint: r.mountpoint,
        sizeBytes: Number(r.size),
        usedPercent: Number(r.used_pct),
        growthBytesPerDay: slope,
        daysUntilFull: slope !== null && slope > 0 ? Number(r.avail) / slope : null,
        daily: r.daily.map(([day, pct]) => [Date.parse(`${day}Z`), Number(pct)] as const),
      };
    })
    .sort(
      (a, b) =>
        (a.daysUntilFull ?? Infinity) - (b.daysUntilFull ?? Infinity) || b.usedPercent - a.usedPercent,
    );

  const containerRows = await db.query<{
    host: string;
    container: string;
    image: string;
    cpu_avg: number | null;
    cpu_peak: number | null;
    mem_avg: number | null;
    mem_peak: number | null;
  }>(
    `SELECT host, container, max(image) AS image,
            sum(cpu_percent_avg * samples) FILTER (WHERE cpu_percent_avg IS NOT NULL)
              / nullif(sum(samples) FILTER (WHERE cpu_percent_avg IS NOT NULL), 0) AS cpu_avg,
            max(cpu_percent_max) AS cpu_peak,
            sum(memory_usage_bytes_avg * samples) FILTER (WHERE memory_usage_bytes_avg IS NOT NULL)
              / nullif(sum(samples) FILTER (WHERE memory_usage_bytes_avg IS NOT NULL), 0) AS mem_avg,
            max(memory_usage_bytes_max) AS mem_peak
       FROM hostscope.container_usage_hourly WHERE time >= $1 AND time < $2
      GROUP BY host, container`,
    range,
  );
  const containers: ContainerReport[] = containerRows.map((r) => ({
    host: r.host,
    container: r.container,
    image: r.image,
    cpuAvg: num(r.cpu_avg),
    cpuPeak: num(r.cpu_peak),
    memoryAvgBytes: num(r.mem_avg),
    memoryPeakBytes: num(r.mem_peak),
  }));
  const byDesc = (f: (c: ContainerReport) => number | null) => (a: ContainerReport, b: ContainerReport) =>
    (f(b) ?? -1) - (f(a) ?? -1) || a.host.localeCompare(b.host) || a.container.localeCompare(b.container);
  const topCpu = [...containers].sort(byDesc((c) => c.cpuAvg)).slice(0, topN);
  const topMemory = [...containers].sort(byDesc((c) => c.memoryPeakBytes)).slice(0, topN);

  const eventRows = await db.query<{ instance: string; container: string; restarts: number; ooms: number }>(
    `SELECT labels->>'instance' AS instance, coalesce(labels->>'name', labels->>'container', labels->>'id') AS container,
            coalesce(sum(increase) FILTER (WHERE metric = 'hostscope_container_restarts_total'), 0) AS restarts,
            coalesce(sum(increase) FILTER (WHERE metric = 'container_oom_events_total'), 0) AS ooms
       FROM hostscope.samples_hourly
      WHERE metric IN ('hostscope_container_restarts_total', 'container_oom_events_total')
        AND time >= $1 AND time < $2
      GROUP BY 1, 2
     HAVING coalesce(sum(increase), 0) > 0
      ORDER BY 3 DESC, 4 DESC`,
    range,
  );
  const containerEvents = eventRows.map((r) => ({
    host: hostName.get(r.instance) ?? r.instance,
    container: r.container,
    restarts: Math.round(Number(r.restarts)),
    oomKills: Math.round(Number(r.ooms)),
  }));

  const [a] = await db.query<{
    fired: string;
    resolved: string;
    mttr: number | null;
    still: string;
    prev: string;
  }>(
    `SELECT count(*) FILTER (WHERE starts_at >= $1 AND starts_at < $2) AS fired,
            count(*) FILTER (WHERE starts_at >= $1 AND starts_at < $2 AND ends_at IS NOT NULL) AS resolved,
            avg(duration_seconds) FILTER (WHERE starts_at >= $1 AND starts_at < $2 AND ends_at IS NOT NULL) AS mttr,
            count(*) FILTER (WHERE starts_at < $2 AND (ends_at IS NULL OR ends_at >= $2)) AS still,
            count(*) FILTER (WHERE starts_at >= $3 AND starts_at < $1) AS prev
       FROM hostscope.alerts_history WHERE starts_at >= $3 OR ends_at IS NULL OR ends_at >= $2`,
    [...range, iso(previous.fromMs)],
  );
  const top = await db.query<{
    alertname: string;
    instance: string | null;
    fired: string;
    mttr: number | null;
  }>(
    `SELECT alertname, instance, count(*) AS fired, avg(duration_seconds) AS mttr
       FROM hostscope.alerts_history WHERE starts_at >= $1 AND starts_at < $2
      GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT $3`,
    [...range, topN * 2],
  );
  const firing = await db.query<{
    alertname: string;
    instance: string | null;
    severity: string | null;
    starts_at: Date;
  }>(
    `SELECT alertname, instance, severity, starts_at FROM hostscope.alerts_history
      WHERE starts_at < $1 AND (ends_at IS NULL OR ends_at >= $1) ORDER BY starts_at LIMIT 50`,
    [range[1]],
  );
  const alerts: AlertSummary = {
    fired: Number(a?.fired ?? 0),
    resolved: Number(a?.resolved ?? 0),
    stillFiring: Number(a?.still ?? 0),
    mttrSeconds: num(a?.mttr),
    previousFired: Number(a?.prev ?? 0),
    top: top.map((r) => ({
      alertname: r.alertname,
      instance: r.instance,
      fired: Number(r.fired),
      mttrSeconds: num(r.mttr),
    })),
    firing: firing.map((r) => ({
      alertname: r.alertname,
      instance: r.instance,
      severity: r.severity,
      startsAt: r.starts_at,
    })),
  };

  // Hosts that reported during the period or the one before, but not in its last two hours.
  const silent = await db.query<{ instance: string; host: string; last: Date }>(
    `SELECT u.instance, coalesce(max(h.hostname), max(u.host)) AS host, max(u.time) + interval '1 hour' AS last
       FROM hostscope.host_usage_hourly u LEFT JOIN hostscope.hosts h ON h.instance = u.instance
      WHERE u.time >= $1 AND u.time < $2
      GROUP BY u.instance
     HAVING max(u.time) + interval '1 hour' < $3::timestamptz
      ORDER BY 3`,
    [iso(previous.fromMs), range[1], iso(window.toMs - 2 * 3_600_000)],
  );
  return {
    window,
    previous,
    hosts,
    filesystems,
    topCpu,
    topMemory,
    containerEvents,
    alerts,
    silentHosts: silent.map((r) => ({ instance: r.instance, host: r.host, lastSeen: r.last })),
  };
}
