import * as path from 'node:path';
import cron from 'node-cron';
import { CLOCK_OFFSET_FLAG, clockFlagProblems } from '../config/clock';
import { FlagValues, parseListenAddress, type FlagSpec, type ListenAddress } from '../config/flags';
import { redactUrl } from '../db/database';
import { LOG_FLAGS } from '../exporter/config';
import { WEB_CONFIG_FLAG } from '../http/web-server';
import type { LogFormat, LogLevel } from '../log/logger';
import { intervalToCron } from './sink';
import { checkFileSd } from './targets/file-sd';
import { parseShard, type Shard } from './targets/hashmod';
import { instanceOf, type Target } from './types';

export const DATABASE_FLAGS: readonly FlagSpec[] = [
  {
    name: 'database.url',
    kind: 'string',
    secret: true,
    envAliases: ['DATABASE_URL'],
    help: 'PostgreSQL URL (postgres://user:pass@host:5432/db); also read from DATABASE_URL (and *_FILE). Empty: the embedded PostgreSQL (PGlite) in --data.dir.',
  },
  {
    name: 'data.dir',
    kind: 'string',
    default: './data',
    help: 'Directory of the embedded database (<data.dir>/pglite, used when no --database.url is given); the sink keeps its outage buffer under it too (<data.dir>/buffer, see --buffer.dir).',
  },
];

/** 4 GiB: 60M samples (10 minutes at 100,000 samples/s) at up to ~70 bytes each on disk. */
export const DEFAULT_BUFFER_MAX_BYTES = 4 * 1024 ** 3;

export const RETENTION_FLAGS: readonly FlagSpec[] = [
  {
    name: 'retention.raw',
    kind: 'duration',
    default: '90d',
    help: 'Keep raw samples this long (compacted to a few bytes each after their first hour; see the sizing table in docs/sql.md).',
  },
  {
    name: 'retention.usage',
    kind: 'duration',
    default: '14d',
    help: 'Keep the per-scrape host_usage and container_usage rows this long (their hourly rollups are kept like the others).',
  },
  {
    name: 'retention.hourly',
    kind: 'duration',
    default: '400d',
    help: 'Keep hourly rollups (samples_hourly, host_usage_hourly, container_usage_hourly) this long; resolved alert occurrences (alerts_history) too.',
  },
  {
    name: 'retention.alert-notifications',
    kind: 'duration',
    default: '90d',
    help: 'Keep the raw Alertmanager notifications received by the webhook (hostscope.alert_notifications, for audit) this long after their last delivery.',
  },
];

/** `hostscope maintain`'s flags: it takes its now from the clock seam too (see src/config/clock.ts). */
export const MAINTAIN_FLAGS: readonly FlagSpec[] = [
  ...DATABASE_FLAGS,
  ...RETENTION_FLAGS,
  ...LOG_FLAGS,
  CLOCK_OFFSET_FLAG,
];

/** The maintenance's retention options from the flags. */
export function retentionOptions(flags: FlagValues): {
  retentionRawMs: number;
  retentionUsageMs: number;
  retentionHourlyMs: number;
  retentionAlertNotificationsMs: number;
} {
  return {
    retentionRawMs: flags.duration('retention.raw'),
    retentionUsageMs: flags.duration('retention.usage'),
    retentionHourlyMs: flags.duration('retention.hourly'),
    retentionAlertNotificationsMs: flags.duration('retention.alert-notifications'),
  };
}

export function sinkFlagSpecs(): FlagSpec[] {
  return [
    {
      name: 'scrape.target',
      kind: 'list',
      default: ['http://127.0.0.1:9100/metrics'],
      help: 'URL of a /metrics endpoint to scrape; repeat the flag for several (env: comma-separated). `--scrape.target=` (empty) scrapes nothing, for a sink fed by remote write only. The default applies only when neither --scrape.target nor --scrape.file-sd is given.',
    },
    {
      name: 'scrape.file-sd',
      kind: 'list',
      help: "A file of targets in Prometheus' file_sd format (JSON or YAML by extension: .json, .yml, .yaml): a list of {targets: [host:port, ...], labels: {...}}, the labels kept on every series of those targets; one * in the file name reads every matching file. Repeat the flag for several (env: comma-separated). Added to the --scrape.target ones; re-read when it changes. See docs/scaling.md.",
    },
    {
      name: 'scrape.file-sd.refresh-interval',
      kind: 'duration',
      default: '5m',
      help: '--scrape.file-sd files are re-read when their directory reports a change, and this often in any case (for file systems that report none).',
    },
    {
      name: 'scrape.shard',
      kind: 'string',
      default: '',
      help: "I/N: scrape only the targets whose address hashes to I of N shards (Prometheus' hashmod of __address__), so that N sinks given the same targets share them, into one database. Empty: every target. See docs/scaling.md.",
    },
    { name: 'scrape.interval', kind: 'duration', default: '15s', help: 'How often to scrape every target.' },
    { name: 'scrape.timeout', kind: 'duration', default: '10s', help: 'Time limit of one scrape.' },
    {
      name: 'scrape.job',
      kind: 'string',
      default: 'hostscope',
      help: 'The job label of every target, unless its file_sd file sets one.',
    },
    {
      name: 'scrape.body-size-limit',
      kind: 'number',
      min: 0,
      default: 64 * 1024 * 1024,
      help: 'Largest response body accepted, in bytes (0: no limit); larger is a failed scrape.',
    },
    ...DATABASE_FLAGS,
    {
      name: 'buffer.dir',
      kind: 'string',
      default: '',
      help: 'Directory of the outage buffer: scrapes waiting for the database, in append-only segment files, synced before they count, written in order once it is back, deleted once committed; they survive a crash or restart. Empty: <data.dir>/buffer. One sink per directory.',
    },
    {
      name: 'buffer.max-bytes',
      kind: 'number',
      min: 16_384,
      default: DEFAULT_BUFFER_MAX_BYTES,
      help: 'Largest size of the outage buffer on disk, in bytes (about 16 to 18 bytes per sample measured, compressed, with random full-precision values; fewer for typical counters); past it the oldest scrapes are dropped. The default (4 GiB) holds a 10-minute outage at 100,000 samples/s (60M samples, ~1.1 GB) with room to spare.',
    },
    {
      name: 'buffer.max-samples',
      kind: 'number',
      min: 1000,
      default: 1_000_000,
      help: 'Largest backlog kept in memory, parsed (a few scrapes of a large target; ~25 bytes a sample), while the database is reachable but slow; past it scrape rounds are skipped until it catches up (counted in hostscope_sink_scrape_rounds_skipped_total{reason="backlog"}). While the database is unreachable scrapes go to --buffer.dir and nothing waits in memory.',
    },
    {
      name: 'write.batch-samples',
      kind: 'number',
      min: 1,
      default: 250_000,
      help: 'Largest number of samples written in one COPY.',
    },
    ...RETENTION_FLAGS,
    {
      name: 'maintain.schedule',
      kind: 'string',
      default: '7 * * * *',
      help: 'node-cron schedule of rollups and retention inside the sink ("" disables; see hostscope maintain).',
    },
    {
      name: 'web.listen-address',
      kind: 'string',
      default: ':9101',
      help: 'Address of the sink\'s own /metrics and /health, the live overview page (/) and its JSON API (/api/v1/...), and of /api/v1/write and /api/v1/read when enabled ("" disables the listener).',
    },
    {
      ...WEB_CONFIG_FLAG,
      help: "Path to a web config file (the exporter-toolkit format of node_exporter and Prometheus) with TLS (tls_server_config) and basic auth (basic_auth_users, bcrypt hashes) for the listener of --web.listen-address, /api/v1/write and /api/v1/read included (not the embedded exporter's, which the sink scrapes itself over plain HTTP: keep it on 127.0.0.1); see docs/security.md. Re-read on every connection and request. Empty: plain HTTP, no authentication.",
    },
    {
      name: 'web.live.max-clients',
      kind: 'number',
      min: 1,
      default: 64,
      help: 'Most browsers (Server-Sent Events streams of GET /api/v1/live) the live overview page on --web.listen-address serves at once; past it they get 503 and retry. Each costs one socket write per scrape round: the figures are computed once per round whatever the number of viewers.',
    },
    {
      name: 'web.live.heartbeat-interval',
      kind: 'duration',
      default: '15s',
      help: 'How often an idle live page stream gets a comment line, so that proxies keep it open and a browser notices a dead connection.',
    },
    {
      name: 'web.enable-remote-write-receiver',
      kind: 'boolean',
      default: false,
      help: 'Accept Prometheus remote write 1.0 on POST /api/v1/write of --web.listen-address: the samples go into the same tables as scraped ones, answered 204 once committed (see docs/prometheus.md).',
    },
    {
      name: 'remote-write.max-body-bytes',
      kind: 'number',
      min: 1024,
      default: 32 * 1024 * 1024,
      help: 'Largest remote write request body, in bytes, as sent (snappy-compressed); larger gets 413. Its decompressed size may be at most 8 times this.',
    },
    {
      name: 'remote-write.max-pending-samples',
      kind: 'number',
      min: 1000,
      default: 2_000_000,
      help: 'Largest number of remote-written samples waiting for a database commit; past it requests get 503 and the sender retries them later.',
    },
    {
      name: 'web.enable-alertmanager-webhook',
      kind: 'boolean',
      default: false,
      help: 'Accept Alertmanager webhook notifications (payload version 4) on POST /api/v1/alertmanager of --web.listen-address and keep them as alert history (hostscope.alerts_history, see docs/alerting.md).',
    },
    {
      name: 'web.enable-remote-read',
      kind: 'boolean',
      default: false,
      help: 'Answer Prometheus remote read on POST /api/v1/read of --web.listen-address from the raw samples (head and compacted), never the hourly rollups.',
    },
    {
      name: 'remote-read.max-samples',
      kind: 'number',
      min: 1,
      default: 50_000_000,
      help: 'Largest number of samples one remote read request may return; over it the request fails with 413 and a message saying so (narrow the query, or raise this).',
    },
    {
      name: 'remote-read.max-bytes',
      kind: 'number',
      min: 1024,
      default: 256 * 1024 * 1024,
      help: 'Largest remote read response (uncompressed protobuf), in bytes; over it the request fails with 413 and a message saying so.',
    },
    {
      name: 'exporter.embedded',
      kind: 'boolean',
      default: false,
      help: 'Also run the exporter (default collectors) inside this process, on --exporter.listen-address; with no --scrape.target, the sink scrapes it. One command for a single host.',
    },
    {
      name: 'exporter.listen-address',
      kind: 'address',
      default: '127.0.0.1:9100',
      help: 'Address of the embedded exporter (with --exporter.embedded).',
    },
    {
      name: 'once',
      kind: 'boolean',
      default: false,
      help: 'Scrape once, write, and exit (for cron and benchmarks).',
    },
    {
      name: 'shutdown.timeout',
      kind: 'duration',
      default: '30s',
      help: 'On SIGTERM (or --once), how long to keep trying to write the buffer before exiting.',
    },
    ...LOG_FLAGS,
    CLOCK_OFFSET_FLAG,
  ];
}

export interface DatabaseConfig {
  readonly url?: string;
  readonly dataDir: string;
}

export interface SinkConfig {
  /** The --scrape.target targets (file_sd ones are read as the sink starts: fileSd). */
  readonly targets: readonly Target[];
  /** The job label of targets that do not set one. */
  readonly job: string;
  readonly fileSd: readonly string[];
  readonly fileSdRefreshMs: number;
  readonly shard?: Shard;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly database: DatabaseConfig;
  readonly bufferDir: string;
  readonly bufferMaxBytes: number;
  readonly bufferMaxSamples: number;
  readonly batchSamples: number;
  readonly retentionRawMs: number;
  readonly retentionUsageMs: number;
  readonly retentionHourlyMs: number;
  readonly retentionAlertNotificationsMs: number;
  readonly maintainSchedule: string;
  readonly listen?: ListenAddress;
  /** --web.config.file: TLS and basic auth of the listener. */
  readonly webConfigFile?: string;
  readonly remoteWrite?: { readonly maxBodyBytes: number; readonly maxPendingSamples: number };
  readonly remoteRead?: { readonly maxSamples: number; readonly maxBytes: number };
  readonly alertmanagerWebhook: boolean;
  /** The live overview page's stream (GET /api/v1/live). */
  readonly live: { readonly maxClients: number; readonly heartbeatMs: number };
  readonly once: boolean;
  readonly shutdownTimeoutMs: number;
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
}

export function databaseConfig(flags: FlagValues): DatabaseConfig {
  const url = flags.optionalString('database.url');
  return {
    ...(url === undefined ? {} : { url }),
    dataDir: path.resolve(flags.string('data.dir') || './data'),
  };
}

export function logConfig(flags: FlagValues): { level: LogLevel; format: LogFormat } {
  return { level: flags.string('log.level') as LogLevel, format: flags.string('log.format') as LogFormat };
}

/**
 * The --scrape.target URLs; `--scrape.target=` (empty) stands for none, and so does the default when
 * --scrape.file-sd gives the targets.
 */
function scrapeTargets(flags: FlagValues): string[] {
  if (!flags.isSet('scrape.target') && fileSdValues(flags).length > 0) return [];
  return flags.list('scrape.target').filter((u) => u !== '');
}

function fileSdValues(flags: FlagValues): string[] {
  return flags.list('scrape.file-sd').filter((f) => f !== '');
}

/** Cross-flag checks; returns every problem. */
export function validateSinkFlags(flags: FlagValues): string[] {
  const problems: string[] = [];
  const remoteWrite = flags.boolean('web.enable-remote-write-receiver');
  for (const url of scrapeTargets(flags)) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok)
      problems.push(
        `--scrape.target (env HOSTSCOPE_SCRAPE_TARGET): expected an http(s) URL, got "${redactUrl(url)}"`,
      );
  }
  const fileSd = fileSdValues(flags);
  if (
    scrapeTargets(flags).length === 0 &&
    fileSd.length === 0 &&
    !remoteWrite &&
    !flags.boolean('web.enable-alertmanager-webhook')
  )
    problems.push(
      '--scrape.target: at least one target is needed (an empty --scrape.target= means none, for a sink fed only by --web.enable-remote-write-receiver or --web.enable-alertmanager-webhook)',
    );
  for (const problem of checkFileSd(fileSd, flags.string('scrape.job') || 'hostscope'))
    problems.push(`--scrape.file-sd (env HOSTSCOPE_SCRAPE_FILE_SD): ${problem}`);
  if (flags.duration('scrape.file-sd.refresh-interval') <= 0)
    problems.push(
      '--scrape.file-sd.refresh-interval (env HOSTSCOPE_SCRAPE_FILE_SD_REFRESH_INTERVAL): must be greater than 0',
    );
  const shard = flags.string('scrape.shard');
  if (shard !== '') {
    const r = parseShard(shard);
    if ('problem' in r) problems.push(`--scrape.shard (env HOSTSCOPE_SCRAPE_SHARD): ${r.problem}`);
  }
  const interval = flags.duration('scrape.interval');
  if (intervalToCron(interval) === undefined)
    problems.push(
      `--scrape.interval (env HOSTSCOPE_SCRAPE_INTERVAL): must be whole seconds dividing a minute, minutes dividing an hour, or hours dividing a day (got "${flags.string('scrape.interval')}")`,
    );
  if (flags.duration('scrape.timeout') <= 0)
    problems.push('--scrape.timeout (env HOSTSCOPE_SCRAPE_TIMEOUT): must be greater than 0');
  if (flags.duration('retention.raw') < 3_600_000) problems.push('--retention.raw: must be at least 1h');
  if (flags.duration('retention.hourly') < flags.duration('retention.raw'))
    problems.push('--retention.hourly: must not be shorter than --retention.raw');
  if (flags.duration('retention.usage') < 3_600_000) problems.push('--retention.usage: must be at least 1h');
  const schedule = flags.string('maintain.schedule');
  if (schedule !== '' && !cron.validate(schedule))
    problems.push(
      `--maintain.schedule (env HOSTSCOPE_MAINTAIN_SCHEDULE): not a valid cron expression: "${schedule}"`,
    );
  const listen = flags.string('web.listen-address');
  if (listen !== '' && !/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]*):(\d{1,5})$/.test(listen))
    problems.push(
      `--web.listen-address (env HOSTSCOPE_WEB_LISTEN_ADDRESS): expected [host]:port, got "${listen}"`,
    );
  if (
    listen === '' &&
    (flags.boolean('web.enable-remote-write-receiver') ||
      flags.boolean('web.enable-remote-read') ||
      flags.boolean('web.enable-alertmanager-webhook'))
  )
    problems.push(
      '--web.enable-remote-write-receiver / --web.enable-remote-read / --web.enable-alertmanager-webhook: need --web.listen-address (the listener serves them)',
    );
  if (flags.duration('web.live.heartbeat-interval') < 1000)
    problems.push(
      '--web.live.heartbeat-interval (env HOSTSCOPE_WEB_LIVE_HEARTBEAT_INTERVAL): must be at least 1s',
    );
  if (flags.duration('retention.alert-notifications') < 3_600_000)
    problems.push('--retention.alert-notifications: must be at least 1h');
  problems.push(...clockFlagProblems(flags));
  return problems;
}

export function buildSinkConfig(flags: FlagValues): SinkConfig {
  const job = flags.string('scrape.job') || 'hostscope';
  const intervalMs = flags.duration('scrape.interval');
  const listen = flags.string('web.listen-address');
  const database = databaseConfig(flags);
  const bufferDir = flags.string('buffer.dir');
  const shard = flags.string('scrape.shard') === '' ? undefined : parseShard(flags.string('scrape.shard'));
  const config: SinkConfig = {
    targets: scrapeTargets(flags).map((url) => ({ url, instance: instanceOf(url), job })),
    job,
    fileSd: fileSdValues(flags),
    fileSdRefreshMs: flags.duration('scrape.file-sd.refresh-interval'),
    ...(shard !== undefined && 'shard' in shard ? { shard: shard.shard } : {}),
    intervalMs,
    timeoutMs: Math.min(flags.duration('scrape.timeout'), intervalMs),
    bodyLimitBytes: flags.number('scrape.body-size-limit'),
    database,
    bufferDir: bufferDir === '' ? path.join(database.dataDir, 'buffer') : path.resolve(bufferDir),
    bufferMaxBytes: Math.floor(flags.number('buffer.max-bytes')),
    bufferMaxSamples: flags.number('buffer.max-samples'),
    batchSamples: flags.number('write.batch-samples'),
    ...retentionOptions(flags),
    maintainSchedule: flags.string('maintain.schedule'),
    ...(listen === '' ? {} : { listen: parseListenAddress(listen) }),
    ...(flags.optionalString('web.config.file') === undefined
      ? {}
      : { webConfigFile: flags.string('web.config.file') }),
    ...(flags.boolean('web.enable-remote-write-receiver')
      ? {
          remoteWrite: {
            maxBodyBytes: Math.floor(flags.number('remote-write.max-body-bytes')),
            maxPendingSamples: Math.floor(flags.number('remote-write.max-pending-samples')),
          },
        }
      : {}),
    ...(flags.boolean('web.enable-remote-read')
      ? {
          remoteRead: {
            maxSamples: Math.floor(flags.number('remote-read.max-samples')),
            maxBytes: Math.floor(flags.number('remote-read.max-bytes')),
          },
        }
      : {}),
    alertmanagerWebhook: flags.boolean('web.enable-alertmanager-webhook'),
    live: {
      maxClients: Math.floor(flags.number('web.live.max-clients')),
      heartbeatMs: flags.duration('web.live.heartbeat-interval'),
    },
    once: flags.boolean('once'),
    shutdownTimeoutMs: flags.duration('shutdown.timeout'),
    log: logConfig(flags),
  };
  return Object.freeze(config);
}
