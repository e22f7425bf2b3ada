import { PROMETHEUS_DATASOURCE, sel, type DashboardSpec } from './lib';

/** Every host query: the selected job and host. */
const H = sel('job=~"$job"', 'instance=~"$instance"');
const FS = sel(H, 'fstype!=""', 'mountpoint!=""');
const NET = sel(H, 'device!="lo"');

/** One host (node_exporter names, so it also works on node_exporter targets): CPU, memory, disks, network. */
export const hostDashboard: DashboardSpec = {
  uid: 'hostscope-host',
  title: 'hostscope / Host',
  description: 'One host: CPU, load, memory, swap, filesystems with a fill forecast, disk I/O and network.',
  tags: ['hostscope', 'host'],
  datasource: 'prometheus',
  variables: [
    PROMETHEUS_DATASOURCE,
    {
      kind: 'query',
      name: 'job',
      label: 'Job',
      query: 'label_values(node_uname_info, job)',
      multi: false,
      includeAll: false,
    },
    {
      kind: 'query',
      name: 'instance',
      label: 'Host',
      query: 'label_values(node_uname_info{job=~"$job"}, instance)',
      multi: false,
      includeAll: false,
    },
  ],
  sections: [
    {
      title: 'Overview',
      panels: [
        {
          type: 'stat',
          title: 'Uptime',
          unit: 's',
          w: 4,
          h: 4,
          queries: [{ expr: `time() - node_boot_time_seconds{${H}}` }],
        },
        {
          type: 'stat',
          title: 'CPUs',
          unit: 'short',
          w: 4,
          h: 4,
          queries: [{ expr: `instance:node_num_cpu:sum{${H}}` }],
        },
        {
          type: 'stat',
          title: 'CPU busy',
          description: 'Share of CPU time not idle, iowait or steal, over 5 minutes.',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 4,
          h: 4,
          queries: [{ expr: `instance:node_cpu_utilisation:rate5m{${H}}` }],
        },
        {
          type: 'stat',
          title: 'Memory used',
          description: 'Memory not available without swapping (1 - MemAvailable / MemTotal).',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 4,
          h: 4,
          queries: [{ expr: `instance:node_memory_utilisation:ratio{${H}}` }],
        },
        {
          type: 'stat',
          title: 'Memory total',
          unit: 'bytes',
          w: 4,
          h: 4,
          queries: [{ expr: `node_memory_MemTotal_bytes{${H}}` }],
        },
        {
          type: 'stat',
          title: 'Fullest filesystem',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 4,
          h: 4,
          queries: [{ expr: `max(1 - instance_mountpoint:node_filesystem_avail:ratio{${H}})` }],
        },
      ],
    },
    {
      title: 'CPU',
      panels: [
        {
          type: 'timeseries',
          title: 'CPU usage by mode',
          description: 'Share of all CPUs per mode (idle left out), stacked.',
          unit: 'percentunit',
          min: 0,
          max: 1,
          stack: true,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `sum by (mode) (rate(node_cpu_seconds_total{${sel(H, 'mode!="idle"')}}[$__rate_interval])) / scalar(count(node_cpu_seconds_total{${sel(H, 'mode="idle"')}}))`,
              legend: '{{mode}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Load average',
          description: 'Above the number of CPUs, runnable tasks wait for a CPU.',
          unit: 'short',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            { expr: `node_load1{${H}}`, legend: '1m' },
            { expr: `node_load5{${H}}`, legend: '5m' },
            { expr: `node_load15{${H}}`, legend: '15m' },
            { expr: `instance:node_num_cpu:sum{${H}}`, legend: 'CPUs' },
          ],
        },
      ],
    },
    {
      title: 'Memory',
      panels: [
        {
          type: 'timeseries',
          title: 'Memory',
          unit: 'bytes',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `node_memory_MemTotal_bytes{${H}} - node_memory_MemAvailable_bytes{${H}}`,
              legend: 'used',
            },
            {
              expr: `node_memory_Buffers_bytes{${H}} + node_memory_Cached_bytes{${H}}`,
              legend: 'buffers + page cache',
            },
            { expr: `node_memory_MemAvailable_bytes{${H}}`, legend: 'available' },
            { expr: `node_memory_MemTotal_bytes{${H}}`, legend: 'total' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Swap',
          unit: 'bytes',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            { expr: `node_memory_SwapTotal_bytes{${H}} - node_memory_SwapFree_bytes{${H}}`, legend: 'used' },
            { expr: `node_memory_SwapTotal_bytes{${H}}`, legend: 'total' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Paging',
          description: 'Pages swapped in and out, and major page faults (reads from disk), per second.',
          unit: 'suffix:pages/s',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            { expr: `rate(node_vmstat_pswpin{${H}}[$__rate_interval])`, legend: 'swap in' },
            { expr: `rate(node_vmstat_pswpout{${H}}[$__rate_interval])`, legend: 'swap out' },
            { expr: `rate(node_vmstat_pgmajfault{${H}}[$__rate_interval])`, legend: 'major faults' },
          ],
        },
      ],
    },
    {
      title: 'Filesystems',
      panels: [
        {
          type: 'bargauge',
          title: 'Filesystem space used',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `1 - instance_mountpoint:node_filesystem_avail:ratio{${H}}`,
              legend: '{{mountpoint}}',
              instant: true,
            },
          ],
          options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
        },
        {
          type: 'timeseries',
          title: 'Free space and 24 h forecast',
          description:
            'Space available to non-root users now, and where the trend of the last 6 hours takes it in 24 hours (predict_linear). A forecast below zero means the filesystem fills up within a day.',
          unit: 'bytes',
          w: 10,
          h: 8,
          queries: [
            { expr: `node_filesystem_avail_bytes{${FS}}`, legend: '{{mountpoint}}' },
            {
              expr: `predict_linear(node_filesystem_avail_bytes{${FS}}[6h], 24 * 3600)`,
              legend: '{{mountpoint}} in 24 h',
            },
          ],
          overrides: [
            {
              field: '.* in 24 h',
              regex: true,
              properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }],
            },
          ],
        },
        {
          type: 'bargauge',
          title: 'Inodes used',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `1 - instance_mountpoint:node_filesystem_files_free:ratio{${H}}`,
              legend: '{{mountpoint}}',
              instant: true,
            },
          ],
        },
      ],
    },
    {
      title: 'Disk I/O',
      panels: [
        {
          type: 'timeseries',
          title: 'Disk throughput',
          unit: 'Bps',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            { expr: `rate(node_disk_read_bytes_total{${H}}[$__rate_interval])`, legend: '{{device}} read' },
            {
              expr: `rate(node_disk_written_bytes_total{${H}}[$__rate_interval])`,
              legend: '{{device}} write',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Disk operations',
          unit: 'iops',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `rate(node_disk_reads_completed_total{${H}}[$__rate_interval])`,
              legend: '{{device}} reads',
            },
            {
              expr: `rate(node_disk_writes_completed_total{${H}}[$__rate_interval])`,
              legend: '{{device}} writes',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Disk busy',
          description: 'Share of the time the device had I/O in flight.',
          unit: 'percentunit',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            { expr: `rate(node_disk_io_time_seconds_total{${H}}[$__rate_interval])`, legend: '{{device}}' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Disk queue depth',
          description: 'Average number of requests in flight or queued.',
          unit: 'short',
          min: 0,
          w: 6,
          h: 8,
          queries: [
            {
              expr: `rate(node_disk_io_time_weighted_seconds_total{${H}}[$__rate_interval])`,
              legend: '{{device}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Network',
      panels: [
        {
          type: 'timeseries',
          title: 'Network traffic',
          unit: 'Bps',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `rate(node_network_receive_bytes_total{${NET}}[$__rate_interval])`,
              legend: '{{device}} received',
            },
            {
              expr: `rate(node_network_transmit_bytes_total{${NET}}[$__rate_interval])`,
              legend: '{{device}} sent',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Network packets',
          unit: 'pps',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `rate(node_network_receive_packets_total{${NET}}[$__rate_interval])`,
              legend: '{{device}} received',
            },
            {
              expr: `rate(node_network_transmit_packets_total{${NET}}[$__rate_interval])`,
              legend: '{{device}} sent',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Network errors and drops',
          unit: 'pps',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `rate(node_network_receive_errs_total{${NET}}[$__rate_interval]) + rate(node_network_transmit_errs_total{${NET}}[$__rate_interval])`,
              legend: '{{device}} errors',
            },
            {
              expr: `rate(node_network_receive_drop_total{${NET}}[$__rate_interval]) + rate(node_network_transmit_drop_total{${NET}}[$__rate_interval])`,
              legend: '{{device}} drops',
            },
          ],
        },
      ],
    },
  ],
};
