/**
 * The docker collector as the flag layer sees it: name, help, options and their validation. The collector
 * itself (./docker) is required by create(), so a disabled collector costs no module loading.
 */
import { ConfigError } from '../../errors';
import type { CollectorDefinition, CollectorDeps } from '../types';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

const STATS_SOURCES = ['auto', 'cgroup', 'api'] as const;
export type StatsSource = (typeof STATS_SOURCES)[number];

export interface DockerSettings {
  readonly host: string;
  readonly labelInclude: RegExp | undefined;
  readonly labelExclude: RegExp | undefined;
  readonly goneGraceMs: number;
  readonly statsSource: StatsSource;
  readonly statsConcurrency: number;
  readonly perCpu: boolean;
  readonly tasksState: boolean;
  readonly fsUsageIntervalMs: number;
  readonly apiTimeoutMs: number;
}

export const dockerCollector: CollectorDefinition = {
  name: 'docker',
  defaultEnabled: true,
  help: 'Exposes cAdvisor-compatible metrics of Docker containers (cgroup files, Engine API events).',
  options: [
    {
      name: 'host',
      kind: 'string',
      help: `Docker Engine API address (unix:///path or tcp://host:port); empty: $DOCKER_HOST, else ${DEFAULT_DOCKER_HOST}.`,
      default: '',
    },
    {
      name: 'label-include',
      kind: 'regex',
      help: 'Regexp of container label keys exported as container_label_<key> (compose project/service labels are always kept unless excluded).',
      default: '.*',
    },
    {
      name: 'label-exclude',
      kind: 'regex',
      help: 'Regexp of container label keys never exported.',
      default: '',
    },
    {
      name: 'gone-grace',
      kind: 'duration',
      help: 'How long a killed or removed container keeps its series, with container_last_seen frozen.',
      default: '5m',
    },
    {
      name: 'stats-source',
      kind: 'string',
      help: 'Where container counters come from: auto (cgroup files, Engine stats API when unreadable), cgroup, or api.',
      default: 'auto',
    },
    {
      name: 'stats-concurrency',
      kind: 'number',
      help: 'Maximum parallel Engine stats API requests when the cgroup files are not readable.',
      default: 4,
    },
    {
      name: 'percpu',
      kind: 'boolean',
      help: 'Export container_cpu_usage_seconds_total per CPU (cgroup v1) instead of cpu="total".',
      default: false,
    },
    {
      name: 'tasks-state',
      kind: 'boolean',
      help: 'Export container_tasks_state (reads /proc/<tid>/stat of every container thread).',
      default: true,
    },
    {
      name: 'fs-usage-interval',
      kind: 'duration',
      help: 'How often container writable layers are measured for container_fs_usage_bytes; 0 disables.',
      default: '1m',
    },
    {
      name: 'api-timeout',
      kind: 'duration',
      help: 'Time limit of each Docker Engine API request (the event stream excepted).',
      default: '5s',
    },
  ],
  create: (deps: CollectorDeps) => {
    const settings = settingsFrom(deps);
    // Loaded only when the collector is enabled: its ~20 modules (dockerode, docker-modem, ssh2, the
    // cgroup readers) stay out of an exporter started with --no-collector.docker.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DockerCollector } = require('./docker') as typeof import('./docker');
    return new DockerCollector(deps.fs, deps.logger, settings);
  },
};

function settingsFrom({ options }: CollectorDeps): DockerSettings {
  const source = options.string('stats-source');
  if (!(STATS_SOURCES as readonly string[]).includes(source)) {
    throw new ConfigError([
      `--collector.docker.stats-source: must be one of ${STATS_SOURCES.join(', ')}, got "${source}"`,
    ]);
  }
  const concurrency = options.number('stats-concurrency');
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError([
      `--collector.docker.stats-concurrency: must be a positive integer, got ${concurrency}`,
    ]);
  }
  const configured = options.string('host').trim();
  const env = process.env.DOCKER_HOST?.trim() ?? '';
  return {
    host: configured !== '' ? configured : env !== '' ? env : DEFAULT_DOCKER_HOST,
    labelInclude: options.regex('label-include'),
    labelExclude: options.regex('label-exclude'),
    goneGraceMs: options.duration('gone-grace'),
    statsSource: source as StatsSource,
    statsConcurrency: concurrency,
    perCpu: options.boolean('percpu'),
    tasksState: options.boolean('tasks-state'),
    fsUsageIntervalMs: options.duration('fs-usage-interval'),
    apiTimeoutMs: Math.max(1, options.duration('api-timeout')),
  };
}
