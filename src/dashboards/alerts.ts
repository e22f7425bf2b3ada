import { type DashboardSpec, nonZero, PROMETHEUS_DATASOURCE } from './lib';

const FIRING = 'ALERTS{alertstate="firing"}';

/**
 * Alerts of the bundle's rules as Prometheus evaluates them (the ALERTS series): what fires now, since
 * when, and what fired in the time range. Silences and notification routing live in Alertmanager, which
 * Grafana shows under Alerting through the provisioned Alertmanager datasource.
 */
export const alertsDashboard: DashboardSpec = {
  uid: 'hostscope-alerts',
  title: 'hostscope / Alerts',
  description: 'Alerts firing now and in the time range, from the ALERTS series of Prometheus.',
  tags: ['hostscope', 'alerts'],
  datasource: 'prometheus',
  time: { from: 'now-24h', to: 'now' },
  refresh: '1m',
  variables: [PROMETHEUS_DATASOURCE],
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
  ],
};
