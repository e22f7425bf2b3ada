import { type DashboardSpec, nonZero, PROMETHEUS_DATASOURCE, sel } from './lib';

const E = sel('job=~"$job"', 'instance=~"$instance"');
const S = 'job=~"$sink_job"';

/** hostscope watching itself: collectors of the exporters, and the PostgreSQL sink's pipeline. */
export const healthDashboard: DashboardSpec = {
  uid: 'hostscope-health',
  title: 'hostscope / Health',
  description:
    'The exporters (scrapes, collector durations and failures, process) and the sink (throughput, buffer, writes, the remote write receiver and the Alertmanager webhook).',
  tags: ['hostscope', 'health'],
  datasource: 'prometheus',
  variables: [
    PROMETHEUS_DATASOURCE,
    {
      kind: 'query',
      name: 'job',
      label: 'Exporter job',
      query: 'label_values(node_scrape_collector_success, job)',
      multi: false,
      includeAll: false,
    },
    {
      kind: 'query',
      name: 'instance',
      label: 'Exporter',
      query: 'label_values(node_scrape_collector_success{job=~"$job"}, instance)',
      multi: true,
      includeAll: true,
      allValue: '.+',
    },
    {
      kind: 'query',
      name: 'sink_job',
      label: 'Sink job',
      query: 'label_values(hostscope_sink_buffer_max_bytes, job)',
      multi: false,
      includeAll: false,
    },
  ],
  sections: [
    {
      title: 'Exporters',
      panels: [
        {
          type: 'stat',
          title: 'Exporters up',
          unit: 'short',
          w: 6,
          h: 4,
          queries: [{ expr: `sum(up{${E}})` }],
        },
        {
          type: 'stat',
          title: 'Exporters down',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('red'),
          queries: [{ expr: `count(up{${E}} == 0) or vector(0)` }],
        },
        {
          type: 'stat',
          title: 'Failing collectors',
          description:
            'Collectors whose last run failed or found no data (a subsystem this host lacks also counts).',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [{ expr: `count(node_scrape_collector_success{${E}} == 0) or vector(0)` }],
        },
        {
          type: 'stat',
          title: 'Slowest scrape',
          unit: 's',
          w: 6,
          h: 4,
          queries: [{ expr: `max(scrape_duration_seconds{${E}})` }],
        },
        {
          type: 'timeseries',
          title: 'Collector duration',
          description: 'Time each collector took in the last scrape (slowest exporter).',
          unit: 's',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `max by (collector) (node_scrape_collector_duration_seconds{${E}})`,
              legend: '{{collector}}',
            },
          ],
        },
        {
          type: 'state-timeline',
          title: 'Collector success',
          description: 'Whether every selected exporter ran the collector successfully.',
          unit: 'none',
          w: 12,
          h: 8,
          queries: [
            { expr: `min by (collector) (node_scrape_collector_success{${E}})`, legend: '{{collector}}' },
          ],
          mappings: [
            { value: '0', text: 'failing', color: 'red' },
            { value: '1', text: 'ok', color: 'green' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Scrape duration',
          unit: 's',
          min: 0,
          w: 8,
          h: 8,
          queries: [{ expr: `scrape_duration_seconds{${E}}`, legend: '{{instance}}' }],
        },
        {
          type: 'timeseries',
          title: 'Exporter CPU',
          unit: 'suffix: cores',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            { expr: `rate(process_cpu_seconds_total{${E}}[$__rate_interval])`, legend: '{{instance}}' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Exporter memory',
          unit: 'bytes',
          min: 0,
          w: 8,
          h: 8,
          queries: [{ expr: `process_resident_memory_bytes{${E}}`, legend: '{{instance}}' }],
        },
      ],
    },
    {
      title: 'PostgreSQL sink',
      panels: [
        {
          type: 'stat',
          title: 'Since last write',
          unit: 's',
          w: 6,
          h: 4,
          thresholds: [
            { value: null, color: 'green' },
            { value: 120, color: 'orange' },
            { value: 600, color: 'red' },
          ],
          queries: [
            { expr: `time() - max(hostscope_sink_last_successful_write_timestamp_seconds{${S}} > 0)` },
          ],
        },
        {
          type: 'stat',
          title: 'Disk buffer fill',
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 6,
          h: 4,
          queries: [
            {
              expr: `max(hostscope_sink_buffer_bytes{${S}} / hostscope_sink_buffer_max_bytes{${S}})`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Samples dropped in the time range',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('red'),
          queries: [
            { expr: `sum(increase(hostscope_sink_samples_dropped_total{${S}}[$__range])) or vector(0)` },
          ],
        },
        {
          type: 'stat',
          title: 'Targets failing',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [
            {
              expr: `count(rate(hostscope_sink_scrape_failures_total{${S}}[$__rate_interval]) > 0) or vector(0)`,
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Samples written',
          unit: 'cps',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `sum by (instance) (rate(hostscope_sink_samples_written_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Disk buffer',
          description:
            'Size of the outage buffer on disk (--buffer.dir), and its bound (--buffer.max-bytes); the oldest scrapes are dropped past it.',
          unit: 'bytes',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            { expr: `hostscope_sink_buffer_bytes{${S}}`, legend: '{{instance}} buffered' },
            { expr: `hostscope_sink_buffer_max_bytes{${S}}`, legend: '{{instance}} bound' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Write duration',
          unit: 's',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (instance, le) (rate(hostscope_sink_write_duration_seconds_bucket{${S}}[$__rate_interval])))`,
              legend: '{{instance}} p50',
            },
            {
              expr: `histogram_quantile(0.99, sum by (instance, le) (rate(hostscope_sink_write_duration_seconds_bucket{${S}}[$__rate_interval])))`,
              legend: '{{instance}} p99',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Write failures and drops',
          unit: 'cps',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `rate(hostscope_sink_write_failures_total{${S}}[$__rate_interval])`,
              legend: '{{instance}} failed writes',
            },
            {
              expr: `sum by (instance, reason) (rate(hostscope_sink_samples_dropped_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} dropped ({{reason}})',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Sink scrapes',
          description:
            "Scrapes per target and second, and the failed ones (the target is exported_instance: Prometheus renames the sink's own instance label).",
          unit: 'cps',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `sum by (exported_instance) (rate(hostscope_sink_scrapes_total{${S}}[$__rate_interval]))`,
              legend: '{{exported_instance}}',
            },
            {
              expr: `sum by (exported_instance) (rate(hostscope_sink_scrape_failures_total{${S}}[$__rate_interval]))`,
              legend: '{{exported_instance}} failed',
            },
          ],
        },
      ],
    },
    {
      title: 'Remote write receiver',
      panels: [
        {
          type: 'stat',
          title: 'Remote write lag',
          description:
            'Now minus the newest remote-written sample committed to PostgreSQL (hostscope_sink_remote_write_newest_sample_timestamp_seconds), per sink: how far PostgreSQL is behind Prometheus. A few times batch_send_deadline is normal; it grows while the sink or the database is down and Prometheus keeps the samples in its WAL.',
          unit: 's',
          w: 6,
          h: 4,
          thresholds: [
            { value: null, color: 'green' },
            { value: 60, color: 'orange' },
            { value: 600, color: 'red' },
          ],
          queries: [
            {
              expr: `time() - max(hostscope_sink_remote_write_newest_sample_timestamp_seconds{${S}} > 0)`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Remote write samples received',
          unit: 'cps',
          w: 6,
          h: 4,
          queries: [
            {
              expr: `sum(rate(hostscope_sink_remote_write_samples_received_total{${S}}[$__rate_interval])) or vector(0)`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Remote writes rejected in the time range',
          description:
            'Requests answered with anything but 2xx: 400 (malformed, dropped by Prometheus: samples lost), 413 (over --remote-write.max-body-bytes, dropped), 503 (the database is behind or down: Prometheus retries).',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [
            {
              expr: `sum(increase(hostscope_sink_remote_write_requests_total{${S}, code!~"2.."}[$__range])) or vector(0)`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Remote write samples skipped in the time range',
          description:
            'Received and not stored: outside --retention.raw (or more than 10 minutes ahead), or repeated in one request; native histograms and exemplars are counted apart.',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [
            {
              expr: `sum(increase(hostscope_sink_remote_write_samples_skipped_total{${S}}[$__range])) or vector(0)`,
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Remote write throughput',
          description: 'Samples per second received on /api/v1/write and committed to PostgreSQL, per sink.',
          unit: 'cps',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `sum by (instance) (rate(hostscope_sink_remote_write_samples_received_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} received',
            },
            {
              expr: `sum by (instance) (rate(hostscope_sink_remote_write_samples_written_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} written',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Remote write requests by code',
          description:
            '204: stored. Anything else was rejected: 400 malformed and 413 too large (Prometheus drops them), 503 busy or database down (Prometheus retries).',
          unit: 'reqps',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `sum by (instance, code) (rate(hostscope_sink_remote_write_requests_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} {{code}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Remote write lag per sink',
          description: 'Now minus the newest remote-written sample committed, per sink.',
          unit: 's',
          min: 0,
          w: 8,
          h: 8,
          queries: [
            {
              expr: `time() - (hostscope_sink_remote_write_newest_sample_timestamp_seconds{${S}} > 0)`,
              legend: '{{instance}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Alertmanager webhook (alert history)',
      panels: [
        {
          type: 'stat',
          title: 'Since last notification stored',
          description:
            'Now minus the last Alertmanager notification stored in the alert history (POST /api/v1/alertmanager, --web.enable-alertmanager-webhook). Alertmanager only sends while alerts fire or resolve (and re-sends every repeat_interval), so a long time is not a fault by itself; rejections and failures are.',
          unit: 's',
          w: 6,
          h: 4,
          queries: [
            {
              expr: `time() - max(hostscope_sink_alertmanager_last_success_timestamp_seconds{${S}} > 0)`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Notifications stored in the time range',
          unit: 'short',
          w: 6,
          h: 4,
          queries: [
            {
              expr: `sum(increase(hostscope_sink_alertmanager_notifications_stored_total{${S}}[$__range])) or vector(0)`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Notifications rejected in the time range',
          description:
            'Refused for what they are, and lost (Alertmanager does not retry a 4xx): malformed (400, the sink logs why), too large (413), unauthorized (401: check http_config.basic_auth against --web.config.file).',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('red'),
          queries: [
            {
              expr: `sum(increase(hostscope_sink_alertmanager_notifications_rejected_total{${S}}[$__range])) or vector(0)`,
            },
          ],
        },
        {
          type: 'stat',
          title: 'Webhook failures in the time range',
          description:
            'Answered 5xx: the database was unreachable (503) or refused the write (500). Alertmanager retries these.',
          unit: 'short',
          w: 6,
          h: 4,
          thresholds: nonZero('orange'),
          queries: [
            {
              expr: `sum(increase(hostscope_sink_alertmanager_requests_total{${S}, code=~"5.."}[$__range])) or vector(0)`,
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Webhook requests by outcome',
          description:
            'stored (200); malformed and unreadable (400), unauthorized (401), too_large (413): rejected; failed (500) and database_unavailable (503): retried by Alertmanager.',
          unit: 'reqps',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `sum by (instance, outcome, code) (rate(hostscope_sink_alertmanager_requests_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} {{outcome}} ({{code}})',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Alert history stored',
          description:
            'Notifications stored per second, the re-sends among them (repeat_interval, retries), and the alerts they carried (each upserts one occurrence).',
          unit: 'cps',
          min: 0,
          w: 12,
          h: 8,
          queries: [
            {
              expr: `sum by (instance) (rate(hostscope_sink_alertmanager_notifications_stored_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} notifications',
            },
            {
              expr: `sum by (instance) (rate(hostscope_sink_alertmanager_notifications_repeated_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} re-sends',
            },
            {
              expr: `sum by (instance) (rate(hostscope_sink_alertmanager_alerts_stored_total{${S}}[$__rate_interval]))`,
              legend: '{{instance}} alerts',
            },
          ],
        },
      ],
    },
  ],
};
