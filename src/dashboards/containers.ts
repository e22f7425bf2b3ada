import { type DashboardSpec, nonZero, PROMETHEUS_DATASOURCE, sel } from './lib';

/** The selected host; C adds the selected containers (name!="" drops the cgroup hierarchy's own series). */
const H = sel('job=~"$job"', 'instance=~"$instance"');
const C = sel(H, 'name=~"$name"', 'name!=""');

/** Docker containers of one host, from cAdvisor-named metrics plus hostscope_container_*. */
export const containersDashboard: DashboardSpec = {
  uid: 'hostscope-containers',
  title: 'hostscope / Containers',
  description:
    'Docker containers of one host: CPU, memory against the limit, network, block I/O, restarts and state.',
  tags: ['hostscope', 'containers'],
  datasource: 'prometheus',
  variables: [
    PROMETHEUS_DATASOURCE,
    {
      kind: 'query',
      name: 'job',
      label: 'Job',
      query: 'label_values(machine_cpu_cores, job)',
      multi: false,
      includeAll: false,
    },
    {
      kind: 'query',
      name: 'instance',
      label: 'Host',
      query: 'label_values(machine_cpu_cores{job=~"$job"}, instance)',
      multi: false,
      includeAll: false,
    },
    {
      kind: 'query',
      name: 'name',
      label: 'Container',
      query: 'label_values(hostscope_container_state{job=~"$job", instance=~"$instance"}, name)',
      multi: true,
      includeAll: true,
      allValue: '.+',
    },
  ],
  sections: [
    {
      title: 'Overview',
      panels: [
        {
          type: 'stat',
          title: 'Running',
          unit: 'short',
          w: 6,
          h: 4,
          queries: [
            { expr: `count(hostscope_container_state{${sel(C, 'state="running"')}} == 1) or vector(0)` },
          ],
        },
        {
          type: 'stat',
          title: 'Not running',
          description: 'Created, exited, paused, restarting or dead.',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [
            { expr: `count(hostscope_container_state{${sel(C, 'state!="running"')}} == 1) or vector(0)` },
          ],
        },
        {
          type: 'stat',
          title: 'Restarts in the time range',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [
            { expr: `sum(increase(hostscope_container_restarts_total{${C}}[$__range])) or vector(0)` },
          ],
        },
        {
          type: 'stat',
          title: 'OOM kills in the time range',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('red'),
          queries: [{ expr: `sum(increase(container_oom_events_total{${C}}[$__range])) or vector(0)` }],
        },
      ],
    },
    {
      title: 'CPU and memory',
      panels: [
        {
          type: 'timeseries',
          title: 'CPU',
          description: 'CPU cores used per container (1 = one core busy).',
          unit: 'suffix: cores',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `sum by (name) (rate(container_cpu_usage_seconds_total{${C}}[$__rate_interval]))`,
              legend: '{{name}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'CPU throttling',
          description:
            'Share of CFS periods in which the container hit its CPU quota (containers with --cpus).',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `sum by (name) (rate(container_cpu_cfs_throttled_periods_total{${C}}[$__rate_interval])) / (sum by (name) (rate(container_cpu_cfs_periods_total{${C}}[$__rate_interval])) > 0)`,
              legend: '{{name}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Memory working set and limit',
          description: 'Working set (what the OOM killer judges), and the limit of containers that have one.',
          unit: 'bytes',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            { expr: `sum by (name) (container_memory_working_set_bytes{${C}})`, legend: '{{name}}' },
            {
              expr: `sum by (name) (container_spec_memory_limit_bytes{${C}}) > 0`,
              legend: '{{name}} limit',
            },
          ],
          overrides: [
            {
              field: '.* limit',
              regex: true,
              properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Memory used of the limit',
          description: 'Working set as a share of the memory limit (only containers with a limit).',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `instance_name:container_memory_working_set_bytes:ratio_limit{${C}}`,
              legend: '{{name}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Network and block I/O',
      panels: [
        {
          type: 'timeseries',
          title: 'Network received',
          unit: 'Bps',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `sum by (name) (rate(container_network_receive_bytes_total{${C}}[$__rate_interval]))`,
              legend: '{{name}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Network sent',
          unit: 'Bps',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `sum by (name) (rate(container_network_transmit_bytes_total{${C}}[$__rate_interval]))`,
              legend: '{{name}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Block I/O read',
          unit: 'Bps',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `sum by (name) (rate(container_fs_reads_bytes_total{${C}}[$__rate_interval]))`,
              legend: '{{name}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Block I/O written',
          unit: 'Bps',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `sum by (name) (rate(container_fs_writes_bytes_total{${C}}[$__rate_interval]))`,
              legend: '{{name}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Lifecycle',
      panels: [
        {
          type: 'timeseries',
          title: 'Restarts',
          description: 'Restarts by the Docker Engine (restart policy) per interval.',
          unit: 'short',
          min: 0,
          w: 8,
          h: 9,
          queries: [
            {
              expr: `sum by (name) (increase(hostscope_container_restarts_total{${C}}[$__rate_interval]))`,
              legend: '{{name}}',
            },
          ],
        },
        {
          type: 'table',
          title: 'Container state',
          unit: 'short',
          w: 16,
          h: 9,
          queries: [
            { expr: `max by (name, state) (hostscope_container_state{${C}} == 1)`, instant: true },
            { expr: `max by (name) (hostscope_container_restarts_total{${C}})`, instant: true },
            { expr: `max by (name) (hostscope_container_exit_code{${C}})`, instant: true },
            { expr: `max by (name) (hostscope_container_oom_killed{${C}})`, instant: true },
            { expr: `max by (name, status) (hostscope_container_health_status{${C}} == 1)`, instant: true },
          ],
          transformations: [
            { id: 'joinByField', options: { byField: 'name', mode: 'outer' } },
            {
              id: 'organize',
              options: {
                excludeByName: {
                  'Time 1': true,
                  'Time 2': true,
                  'Time 3': true,
                  'Time 4': true,
                  'Time 5': true,
                },
                renameByName: {
                  name: 'Container',
                  state: 'State',
                  'Value #A': 'Current',
                  'Value #B': 'Restarts',
                  'Value #C': 'Last exit code',
                  'Value #D': 'OOM killed',
                  status: 'Health',
                  'Value #E': 'Health reported',
                },
              },
            },
          ],
          overrides: [
            { field: 'Current', properties: [{ id: 'custom.hidden', value: true }] },
            { field: 'Health reported', properties: [{ id: 'custom.hidden', value: true }] },
            {
              field: 'OOM killed',
              properties: [
                {
                  id: 'mappings',
                  value: [
                    { type: 'value', options: { '0': { text: 'no' }, '1': { text: 'yes', color: 'red' } } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  ],
};
