import { type DashboardSpec, HISTORY_DATASOURCE, nonZero, PROMETHEUS_DATASOURCE } from './lib';

const FIRING = 'ALERTS{alertstate="firing"}';

/** Occurrences overlapping the dashboard's time range (started before its end, not ended before its start). */
const OVERLAPS = 'starts_at <= $__timeTo() AND coalesce(ends_at, now()) >= $__timeFrom()';

/**
 * Alerts of the bundle's rules as Prometheus evaluates them (the ALERTS series): what fires now, since
 * when, and what fired in the time range. Silences and notification routing live in Alertmanager, which
 * Grafana shows under Alerting through the provisioned Alertmanager datasource. The alert history that
 * Alertmanager's webhook leaves in the sink's PostgreSQL (hostscope.alerts_history and alerts_daily, kept
 * far longer than Prometheus keeps ALERTS) goes through the second datasource variable, $history.
 */
export const alertsDashboard: DashboardSpec = {
  uid: 'hostscope-alerts',
  title: 'hostscope / Alerts',
  description: 'Alerts firing now and in the time range, from the ALERTS series of Prometheus.',
  tags: ['hostscope', 'alerts'],
  datasource: 'prometheus',
  time: { from: 'now-24h', to: 'now' },
  refresh: '1m',
  variables: [PROMETHEUS_DATASOURCE, HISTORY_DATASOURCE],
  sections: [
    {
      title: 'Now',
      panels: [
        {
          type: 'stat',
          title: 'Firing',
          unit: 'short',
          w: 8,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [{ expr: `count(${FIRING}) or vector(0)` }],
        },
        {
          type: 'stat',
          title: 'Critical firing',
          unit: 'short',
          w: 8,
          h: 4,
          thresholds: nonZero('red'),
          queries: [{ expr: 'count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)' }],
        },
        {
          type: 'stat',
          title: 'Pending',
          description: 'Conditions true, but not yet for the rule\'s "for" duration.',
          unit: 'short',
          w: 8,
          h: 4,
          queries: [{ expr: 'count(ALERTS{alertstate="pending"}) or vector(0)' }],
        },
        {
          type: 'table',
          title: 'Firing now',
          description: 'Every firing alert, and when it was first seen firing in the time range.',
          unit: 'dateTimeAsIso',
          w: 24,
          h: 8,
          queries: [
            {
              expr: `min by (alertname, severity, job, instance, name, mountpoint, device) (min_over_time(timestamp(${FIRING})[$__range:])) * 1000 and on (alertname, severity, job, instance, name, mountpoint, device) ${FIRING}`,
              instant: true,
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: {
                excludeByName: { Time: true },
                indexByName: { alertname: 0, severity: 1, instance: 2 },
                renameByName: { Value: 'Firing since' },
              },
            },
          ],
          overrides: [{ field: 'severity', properties: [{ id: 'unit', value: 'none' }] }],
        },
      ],
    },
    {
      title: 'History',
      panels: [
        {
          type: 'timeseries',
          title: 'Alerts firing over time',
          unit: 'short',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
          queries: [{ expr: `count by (alertname) (${FIRING})`, legend: '{{alertname}}' }],
          options: {},
        },
        {
          type: 'timeseries',
          title: 'Pending and firing',
          unit: 'short',
          min: 0,
          w: 12,
          h: 8,
          queries: [{ expr: 'count by (alertstate) (ALERTS)', legend: '{{alertstate}}' }],
        },
        {
          type: 'table',
          title: 'Fired in the time range',
          description: 'Every alert that was firing at some point in the time range, and when it last was.',
          unit: 'dateTimeAsIso',
          w: 24,
          h: 9,
          queries: [
            {
              expr: `max by (alertname, severity, instance) (max_over_time(timestamp(${FIRING})[$__range:])) * 1000`,
              instant: true,
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: { excludeByName: { Time: true }, renameByName: { Value: 'Last firing' } },
            },
          ],
          overrides: [{ field: 'severity', properties: [{ id: 'unit', value: 'none' }] }],
          options: { sortBy: [{ displayName: 'Last firing', desc: true }] },
        },
      ],
    },
    {
      title: 'Alert history (PostgreSQL)',
      panels: [
        {
          type: 'table',
          title: 'Alert occurrences',
          description:
            'Every occurrence of an alert that fired in the time range, from the Alertmanager webhook (hostscope.alerts_history): when it started, when it was resolved (empty while firing) and how long it lasted.',
          source: HISTORY_DATASOURCE,
          unit: 's',
          w: 24,
          h: 10,
          queries: [
            {
              sql: `SELECT starts_at AS "Started", ends_at AS "Resolved", alertname AS "Alert", severity AS "Severity",
       instance AS "Instance", status AS "Status", firing_seconds AS "Duration",
       annotations->>'summary' AS "Summary"
  FROM hostscope.alerts_history
 WHERE ${OVERLAPS}
 ORDER BY starts_at DESC
 LIMIT 1000`,
              format: 'table',
            },
          ],
          overrides: [
            { field: 'Started', properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
            { field: 'Resolved', properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
            {
              field: '/^(Alert|Severity|Instance|Status|Summary)$/',
              regex: true,
              properties: [{ id: 'unit', value: 'none' }],
            },
          ],
        },
        {
          type: 'bargauge',
          title: 'Top alerting hosts',
          description: 'Alert occurrences per instance that started in the time range.',
          source: HISTORY_DATASOURCE,
          unit: 'short',
          w: 8,
          h: 9,
          queries: [
            {
              sql: `SELECT coalesce(instance, '(no instance)') AS "Instance", count(*) AS "Occurrences"
  FROM hostscope.alerts_history
 WHERE $__timeFilter(starts_at)
 GROUP BY 1
 ORDER BY 2 DESC
 LIMIT 10`,
              format: 'table',
            },
          ],
          options: { reduceOptions: { values: true, calcs: [], fields: '/^Occurrences$/' } },
        },
        {
          type: 'timeseries',
          title: 'Alerts per day',
          description: 'Occurrences that started each day (UTC), per alert (hostscope.alerts_daily).',
          source: HISTORY_DATASOURCE,
          unit: 'short',
          min: 0,
          stack: true,
          w: 8,
          h: 9,
          queries: [
            {
              sql: `SELECT day AS time, alertname AS metric, sum(fired) AS value
  FROM hostscope.alerts_daily
 WHERE $__timeFilter(day) AND fired > 0
 GROUP BY 1, 2
 ORDER BY 1`,
              format: 'time_series',
            },
          ],
          options: {},
        },
        {
          type: 'timeseries',
          title: 'Mean time to resolve',
          description:
            'Per day (UTC) and alert: the mean time from start to resolution of the occurrences that started that day and are resolved.',
          source: HISTORY_DATASOURCE,
          unit: 's',
          min: 0,
          w: 8,
          h: 9,
          queries: [
            {
              sql: `SELECT day AS time, alertname AS metric, sum(mttr_seconds * resolved) / sum(resolved) AS value
  FROM hostscope.alerts_daily
 WHERE $__timeFilter(day) AND resolved > 0
 GROUP BY 1, 2
 ORDER BY 1`,
              format: 'time_series',
            },
          ],
        },
      ],
    },
  ],
};
