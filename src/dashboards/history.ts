import { POSTGRES_DATASOURCE, type DashboardSpec, type SqlQuery } from './lib';

/**
 * Long-term history from the sink's PostgreSQL (docs/sql.md): hourly rollups (samples_hourly,
 * host_usage_hourly, container_usage_hourly, kept --retention.hourly, 400 days) for averages and peaks
 * over months, and the inventory. Only the documented public surface is used.
 */

/**
 * Names the series of an aggregate over hourly rows by host: `inner` selects `time`, `instance`, `value`
 * (and the columns `suffix` uses, as x.<column>); the inventory's hostname replaces the instance.
 */
const perHost = (
  inner: string,
  suffix: string,
): string => `SELECT x.time, coalesce(h.hostname, x.instance)${suffix} AS metric, x.value
FROM (
${inner}
) x
LEFT JOIN hostscope.hosts h ON h.instance = x.instance
ORDER BY 1`;

const BUCKET = (column: string): string => `$__timeGroupAlias(${column}, '$resolution')`;

function ts(sql: string): SqlQuery {
  return { sql, format: 'time_series' };
}

function table(sql: string): SqlQuery {
  return { sql, format: 'table' };
}

/** Hourly rows of one metric for the selected hosts and time range. */
const hourly = (metric: string, alias = 's'): string =>
  `${alias}.metric = '${metric}' AND $__timeFilter(${alias}.time) AND ${alias}.labels->>'instance' IN ($instance)`;

export const historyDashboard: DashboardSpec = {
  uid: 'hostscope-history',
  title: 'hostscope / Long-term history',
  description:
    'Hourly averages and peaks per host and container over months, and the inventory, from the PostgreSQL sink.',
  tags: ['hostscope', 'history', 'postgresql'],
  datasource: 'grafana-postgresql-datasource',
  time: { from: 'now-30d', to: 'now' },
  refresh: '',
  variables: [
    POSTGRES_DATASOURCE,
    {
      kind: 'query',
      name: 'instance',
      label: 'Host',
      query:
        "SELECT instance AS __value, coalesce(hostname, instance) || CASE WHEN is_deleted THEN ' (gone)' ELSE '' END AS __text FROM hostscope.hosts ORDER BY is_deleted, 2",
      multi: true,
      includeAll: true,
    },
    {
      kind: 'query',
      name: 'container',
      label: 'Container',
      query:
        'SELECT DISTINCT c.name FROM hostscope.containers c JOIN hostscope.hosts h ON h.id = c.host_id WHERE h.instance IN ($instance) ORDER BY 1',
      multi: true,
      includeAll: true,
    },
    {
      kind: 'custom',
      name: 'resolution',
      label: 'Resolution',
      values: ['1h', '6h', '1d', '7d'],
      current: '1h',
    },
  ],
  sections: [
    {
      title: 'Hosts',
      panels: [
        {
          type: 'timeseries',
          title: 'CPU busy: average and peak',
          description:
            'Busy share of all CPUs (all modes but idle and iowait), hourly average and highest per-scrape value (host_usage_hourly).',
          unit: 'percent',
          min: 0,
          w: 12,
          h: 9,
          queries: [
            ts(`SELECT ${BUCKET('time')}, host || ' avg' AS metric,
  sum(cpu_percent_avg * samples) / nullif(sum(samples) FILTER (WHERE cpu_percent_avg IS NOT NULL), 0) AS value
FROM hostscope.host_usage_hourly
WHERE $__timeFilter(time) AND instance IN ($instance)
GROUP BY 1, host
ORDER BY 1`),
            ts(`SELECT ${BUCKET('time')}, host || ' peak' AS metric, max(cpu_percent_max) AS value
FROM hostscope.host_usage_hourly
WHERE $__timeFilter(time) AND instance IN ($instance)
GROUP BY 1, host
ORDER BY 1`),
          ],
          overrides: [
            {
              field: '.* peak',
              regex: true,
              properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Memory used: average and peak',
          description:
            '1 - MemAvailable / MemTotal from the hourly rollups; peak uses the lowest MemAvailable.',
          unit: 'percent',
          min: 0,
          max: 100,
          w: 12,
          h: 9,
          queries: [
            ts(
              perHost(
                `SELECT ${BUCKET('a.time')}, a.labels->>'instance' AS instance,
  100 * (1 - sum(a.avg) / nullif(sum(t.avg), 0)) AS value
FROM hostscope.samples_hourly a
JOIN hostscope.samples_hourly t
  ON t.metric = 'node_memory_MemTotal_bytes' AND t.time = a.time AND t.labels->>'instance' = a.labels->>'instance'
WHERE ${hourly('node_memory_MemAvailable_bytes', 'a')}
GROUP BY a.labels->>'instance', 1`,
                ` || ' avg'`,
              ),
            ),
            ts(
              perHost(
                `SELECT ${BUCKET('a.time')}, a.labels->>'instance' AS instance,
  100 * max(1 - a.min / nullif(t.max, 0)) AS value
FROM hostscope.samples_hourly a
JOIN hostscope.samples_hourly t
  ON t.metric = 'node_memory_MemTotal_bytes' AND t.time = a.time AND t.labels->>'instance' = a.labels->>'instance'
WHERE ${hourly('node_memory_MemAvailable_bytes', 'a')}
GROUP BY a.labels->>'instance', 1`,
                ` || ' peak'`,
              ),
            ),
          ],
          overrides: [
            {
              field: '.* peak',
              regex: true,
              properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Load (1m): average and peak',
          unit: 'short',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance,
  avg(s.avg) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('node_load1')}
GROUP BY s.labels->>'instance', 1`,
                ` || ' avg'`,
              ),
            ),
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance,
  max(s.max) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('node_load1')}
GROUP BY s.labels->>'instance', 1`,
                ` || ' peak'`,
              ),
            ),
          ],
        },
        {
          type: 'timeseries',
          title: 'Filesystem used: peak',
          description: 'Highest share of space used per mount point (1 - lowest avail / size).',
          unit: 'percent',
          min: 0,
          max: 100,
          w: 8,
          h: 8,
          queries: [
            ts(
              perHost(
                `SELECT ${BUCKET('a.time')}, a.labels->>'instance' AS instance, a.labels->>'mountpoint' AS mountpoint,
  100 * max(1 - a.min / nullif(z.max, 0)) AS value
FROM hostscope.samples_hourly a
JOIN hostscope.samples_hourly z
  ON z.metric = 'node_filesystem_size_bytes' AND z.time = a.time
 AND z.labels->>'instance' = a.labels->>'instance' AND z.labels->>'mountpoint' = a.labels->>'mountpoint'
WHERE ${hourly('node_filesystem_avail_bytes', 'a')}
GROUP BY a.labels->>'instance', a.labels->>'mountpoint', 1`,
                ` || ' ' || x.mountpoint`,
              ),
            ),
          ],
        },
        {
          type: 'timeseries',
          title: 'Network traffic per period',
          description:
            'Bytes received and sent per resolution period, all interfaces but lo (counter resets included).',
          unit: 'bytes',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance,
  sum(s.increase) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('node_network_receive_bytes_total')} AND s.labels->>'device' <> 'lo'
GROUP BY s.labels->>'instance', 1`,
                ` || ' received'`,
              ),
            ),
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance,
  sum(s.increase) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('node_network_transmit_bytes_total')} AND s.labels->>'device' <> 'lo'
GROUP BY s.labels->>'instance', 1`,
                ` || ' sent'`,
              ),
            ),
          ],
        },
      ],
    },
    {
      title: 'Containers',
      panels: [
        {
          type: 'timeseries',
          title: 'Container CPU: average',
          description: 'Average CPU cores used per container, from the hourly rollups.',
          unit: 'suffix: cores',
          min: 0,
          w: 12,
          h: 9,
          queries: [
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance, s.labels->>'name' AS name,
  sum(s.increase) / (3600 * count(DISTINCT s.time)) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('container_cpu_usage_seconds_total')} AND s.labels->>'name' IN ($container)
GROUP BY s.labels->>'instance', s.labels->>'name', 1`,
                ` || ' / ' || x.name`,
              ),
            ),
          ],
        },
        {
          type: 'timeseries',
          title: 'Container CPU: peak',
          description: 'Highest per-scrape CPU use, as a share of the whole host (container_usage_hourly).',
          unit: 'percent',
          min: 0,
          w: 12,
          h: 9,
          queries: [
            ts(`SELECT ${BUCKET('time')}, host || ' / ' || container AS metric, max(cpu_percent_max) AS value
FROM hostscope.container_usage_hourly
WHERE $__timeFilter(time) AND instance IN ($instance) AND container IN ($container)
GROUP BY 1, host, container
ORDER BY 1`),
          ],
        },
        {
          type: 'timeseries',
          title: 'Container memory: average and peak',
          description: 'Working set from the hourly rollups.',
          unit: 'bytes',
          min: 0,
          w: 12,
          h: 9,
          queries: [
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance, s.labels->>'name' AS name,
  avg(s.avg) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('container_memory_working_set_bytes')} AND s.labels->>'name' IN ($container)
GROUP BY s.labels->>'instance', s.labels->>'name', 1`,
                ` || ' / ' || x.name || ' avg'`,
              ),
            ),
            ts(
              perHost(
                `SELECT ${BUCKET('s.time')}, s.labels->>'instance' AS instance, s.labels->>'name' AS name,
  max(s.max) AS value
FROM hostscope.samples_hourly s
WHERE ${hourly('container_memory_working_set_bytes')} AND s.labels->>'name' IN ($container)
GROUP BY s.labels->>'instance', s.labels->>'name', 1`,
                ` || ' / ' || x.name || ' peak'`,
              ),
            ),
          ],
          overrides: [
            {
              field: '.* peak',
              regex: true,
              properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
            },
          ],
        },
        {
          type: 'table',
          title: 'Containers in the time range',
          description:
            'Per container: average and peak CPU (share of the host) and memory (container_usage_hourly).',
          unit: 'percent',
          w: 12,
          h: 9,
          queries: [
            table(`SELECT host AS "Host", container AS "Container", max(image) AS "Image",
  sum(cpu_percent_avg * samples) / nullif(sum(samples) FILTER (WHERE cpu_percent_avg IS NOT NULL), 0) AS "CPU avg",
  max(cpu_percent_max) AS "CPU peak",
  sum(memory_usage_bytes_avg * samples) / nullif(sum(samples) FILTER (WHERE memory_usage_bytes_avg IS NOT NULL), 0) AS "Memory avg",
  max(memory_usage_bytes_max) AS "Memory peak",
  max(memory_percent_max) AS "Memory peak of limit"
FROM hostscope.container_usage_hourly
WHERE $__timeFilter(time) AND instance IN ($instance) AND container IN ($container)
GROUP BY host, container
ORDER BY "CPU avg" DESC NULLS LAST`),
          ],
          overrides: [
            { field: 'Memory avg', properties: [{ id: 'unit', value: 'bytes' }] },
            { field: 'Memory peak', properties: [{ id: 'unit', value: 'bytes' }] },
          ],
        },
      ],
    },
    {
      title: 'Inventory',
      panels: [
        {
          type: 'table',
          title: 'Hosts',
          unit: 'none',
          w: 24,
          h: 7,
          queries: [
            table(`SELECT h.hostname AS "Host", h.instance AS "Instance", h.os AS "OS", h.kernel AS "Kernel",
  h.arch AS "Arch", c.brand AS "CPU", h.cpu_count AS "CPUs", h.memory_total_bytes AS "Memory",
  h.vendor AS "Vendor", h.model AS "Model", h.virtual AS "Virtual", h.last_seen AS "Last seen",
  CASE WHEN h.is_deleted THEN 'gone' ELSE 'reporting' END AS "Status"
FROM hostscope.hosts h
LEFT JOIN hostscope.cpu_info c ON c.host_id = h.id AND NOT c.is_deleted
WHERE h.instance IN ($instance)
ORDER BY h.is_deleted, h.hostname`),
          ],
          overrides: [
            { field: 'Memory', properties: [{ id: 'unit', value: 'bytes' }] },
            { field: 'Last seen', properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
          ],
        },
        {
          type: 'table',
          title: 'Disks',
          unit: 'none',
          w: 12,
          h: 7,
          queries: [
            table(`SELECT h.hostname AS "Host", d.device AS "Device", d.type AS "Type", d.name AS "Model",
  d.vendor AS "Vendor", d.size_bytes AS "Size", d.interface AS "Interface"
FROM hostscope.disk_info d JOIN hostscope.hosts h ON h.id = d.host_id
WHERE NOT d.is_deleted AND h.instance IN ($instance)
ORDER BY 1, 2`),
          ],
          overrides: [{ field: 'Size', properties: [{ id: 'unit', value: 'bytes' }] }],
        },
        {
          type: 'table',
          title: 'Network interfaces',
          unit: 'none',
          w: 12,
          h: 7,
          queries: [
            table(`SELECT h.hostname AS "Host", n.interface AS "Interface", n.mac AS "MAC", n.ip4 AS "IPv4",
  n.ip6 AS "IPv6", n.speed_mbps AS "Speed (Mb/s)", n.mtu AS "MTU", n.virtual AS "Virtual"
FROM hostscope.network_info n JOIN hostscope.hosts h ON h.id = n.host_id
WHERE NOT n.is_deleted AND h.instance IN ($instance)
ORDER BY 1, 2`),
          ],
        },
        {
          type: 'table',
          title: 'Memory modules',
          unit: 'none',
          w: 12,
          h: 7,
          queries: [
            table(`SELECT h.hostname AS "Host", m.slot AS "Slot", m.type AS "Type", m.size_bytes AS "Size",
  m.clock_mhz AS "MHz", m.manufacturer AS "Manufacturer", m.part_number AS "Part number"
FROM hostscope.memory_info m JOIN hostscope.hosts h ON h.id = m.host_id
WHERE NOT m.is_deleted AND h.instance IN ($instance)
ORDER BY 1, 2`),
          ],
          overrides: [{ field: 'Size', properties: [{ id: 'unit', value: 'bytes' }] }],
        },
        {
          type: 'table',
          title: 'Containers (including removed)',
          description: 'Removed containers stay with "removed" and the time they disappeared.',
          unit: 'none',
          w: 12,
          h: 7,
          queries: [
            table(`SELECT h.hostname AS "Host", c.name AS "Container", c.image AS "Image",
  CASE WHEN c.is_deleted THEN 'removed' ELSE c.status END AS "Status",
  c.created_at AS "First seen", c.updated_at AS "Changed"
FROM hostscope.containers c JOIN hostscope.hosts h ON h.id = c.host_id
WHERE h.instance IN ($instance) AND c.name IN ($container)
ORDER BY c.is_deleted, 1, 2`),
          ],
          overrides: [
            { field: 'First seen', properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
            { field: 'Changed', properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
          ],
        },
      ],
    },
  ],
};
