import * as path from 'node:path';
import { COLLECTORS } from '../collectors';
import type { RawOptionValue } from '../collectors/options';
import type { CollectorDefinition, OptionKind } from '../collectors/types';
import {
  FlagValues,
  parseListenAddress,
  type FlagKind,
  type FlagSpec,
  type ListenAddress,
} from '../config/flags';
import type { HostPaths } from '../host/host-fs';
import { WEB_CONFIG_FLAG } from '../http/web-server';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../log/logger';

export interface EnabledCollector {
  readonly definition: CollectorDefinition;
  readonly options: Readonly<Record<string, RawOptionValue>>;
}

export interface ExporterConfig {
  readonly listen: ListenAddress;
  readonly listenAddress: string;
  readonly telemetryPath: string;
  /** --web.config.file: TLS and basic auth of the listener; undefined: plain HTTP. */
  readonly webConfigFile?: string;
  readonly maxRequests: number;
  readonly disableExporterMetrics: boolean;
  readonly paths: HostPaths;
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly collectorTimeoutMs: number;
  readonly inventoryIntervalMs: number;
  /** --runtime.memory-trim: a young generation of fixed size, and memory given back after bursts of scrapes (see pinYoungGeneration, MemoryTrimmer). */
  readonly memoryTrim: boolean;
  readonly collectors: readonly EnabledCollector[];
}

const OPTION_FLAG_KIND: Readonly<Record<OptionKind, FlagKind>> = {
  string: 'string',
  regex: 'regex',
  boolean: 'boolean',
  number: 'number',
  duration: 'duration',
  list: 'list',
};

export const LOG_FLAGS: readonly FlagSpec[] = [
  {
    name: 'log.level',
    kind: 'enum',
    choices: LOG_LEVELS,
    default: 'info',
    help: 'Only log messages with the given severity or above.',
  },
  {
    name: 'log.format',
    kind: 'enum',
    choices: ['json', 'logfmt'],
    default: 'json',
    help: 'Output format of log messages.',
  },
];

/** Flags of `hostscope exporter`: node_exporter's names where they overlap, plus one per collector. */
export function exporterFlagSpecs(collectors: readonly CollectorDefinition[] = COLLECTORS): FlagSpec[] {
  const specs: FlagSpec[] = [
    {
      name: 'web.listen-address',
      kind: 'address',
      default: ':9100',
      help: 'Address on which to expose metrics and web interface.',
    },
    {
      name: 'web.telemetry-path',
      kind: 'string',
      default: '/metrics',
      help: 'Path under which to expose metrics.',
    },
    WEB_CONFIG_FLAG,
    {
      name: 'web.max-requests',
      kind: 'number',
      min: 0,
      default: 40,
      help: 'Maximum number of parallel scrape requests. Use 0 to disable.',
    },
    {
      name: 'web.disable-exporter-metrics',
      kind: 'boolean',
      default: false,
      help: 'Exclude metrics about the exporter itself (process_*, nodejs_*).',
    },
    {
      name: 'path.procfs',
      kind: 'string',
      help: 'procfs mountpoint (default: <path.rootfs>/proc, i.e. /proc).',
    },
    { name: 'path.sysfs', kind: 'string', help: 'sysfs mountpoint (default: <path.rootfs>/sys, i.e. /sys).' },
    {
      name: 'path.rootfs',
      kind: 'string',
      default: '/',
      help: 'rootfs mountpoint; the host root when run in a container (e.g. /host).',
    },
    {
      name: 'path.udev.data',
      kind: 'string',
      help: 'udev data path (default: <path.rootfs>/run/udev/data).',
    },
    {
      name: 'collector.timeout',
      kind: 'duration',
      default: '5s',
      help: 'Time limit of each collector per scrape.',
    },
    {
      name: 'collector.disable-defaults',
      kind: 'boolean',
      default: false,
      help: 'Set all collectors to disabled by default.',
    },
    {
      name: 'inventory.interval',
      kind: 'duration',
      default: '5m',
      help: 'How often the hardware/OS inventory (*_info metrics) is refreshed; 0 disables it.',
    },
    {
      name: 'runtime.memory-trim',
      kind: 'boolean',
      default: true,
      help: 'Keep the JavaScript heap small: its young generation stays at 1-2 MB (trimmed once at startup), and after a scrape that ends a quiet spell (not back to back), once the old generation has grown by 2 MiB, a memory-reducing garbage collection runs and free memory goes back to the OS (at most every 30 s).',
    },
    ...LOG_FLAGS,
  ];
  for (const def of collectors) {
    specs.push({
      name: `collector.${def.name}`,
      kind: 'boolean',
      help: `Enable the ${def.name} collector (default: ${def.defaultEnabled ? 'enabled' : 'disabled'}). ${def.help}`,
    });
    for (const opt of def.options ?? []) {
      specs.push({
        name: `collector.${def.name}.${opt.name}`,
        kind: OPTION_FLAG_KIND[opt.kind],
        help: opt.help,
        default: opt.kind === 'list' ? undefined : opt.default,
      });
    }
  }
  return specs;
}

/** Builds the frozen exporter config from already-validated flag values. */
export function buildExporterConfig(
  flags: FlagValues,
  collectors: readonly CollectorDefinition[] = COLLECTORS,
): ExporterConfig {
  const rootfs = flags.string('path.rootfs') || '/';
  const disableDefaults = flags.boolean('collector.disable-defaults');
  const enabled: EnabledCollector[] = [];
  for (const def of collectors) {
    const explicit = flags.raw(`collector.${def.name}`);
    const on = explicit === undefined ? !disableDefaults && def.defaultEnabled : explicit === true;
    if (!on) continue;
    const options: Record<string, RawOptionValue> = {};
    for (const opt of def.options ?? []) {
      const v = flags.raw(`collector.${def.name}.${opt.name}`);
      if (v !== undefined) options[opt.name] = v;
    }
    enabled.push({ definition: def, options });
  }
  const address = flags.string('web.listen-address');
  const config: ExporterConfig = {
    listen: parseListenAddress(address),
    listenAddress: address,
    telemetryPath: flags.string('web.telemetry-path'),
    ...(flags.optionalString('web.config.file') === undefined
      ? {}
      : { webConfigFile: flags.string('web.config.file') }),
    maxRequests: flags.number('web.max-requests'),
    disableExporterMetrics: flags.boolean('web.disable-exporter-metrics'),
    paths: {
      rootfs,
      procfs: flags.optionalString('path.procfs') ?? path.join(rootfs, 'proc'),
      sysfs: flags.optionalString('path.sysfs') ?? path.join(rootfs, 'sys'),
      udevData: flags.optionalString('path.udev.data') ?? path.join(rootfs, 'run/udev/data'),
    },
    log: { level: flags.string('log.level') as LogLevel, format: flags.string('log.format') as LogFormat },
    collectorTimeoutMs: flags.duration('collector.timeout'),
    inventoryIntervalMs: flags.duration('inventory.interval'),
    memoryTrim: flags.boolean('runtime.memory-trim'),
    collectors: enabled,
  };
  return Object.freeze(config);
}

/** Problems the flag parser cannot see on its own (cross-flag rules). */
export function validateExporterFlags(flags: FlagValues): string[] {
  const problems: string[] = [];
  const telemetry = flags.string('web.telemetry-path');
  if (!telemetry.startsWith('/'))
    problems.push(
      `--web.telemetry-path (env HOSTSCOPE_WEB_TELEMETRY_PATH): must start with "/", got "${telemetry}"`,
    );
  if (['/', '/health', '/ready'].includes(telemetry))
    problems.push(`--web.telemetry-path: "${telemetry}" is reserved`);
  if (flags.duration('collector.timeout') <= 0)
    problems.push('--collector.timeout (env HOSTSCOPE_COLLECTOR_TIMEOUT): must be greater than 0');
  return problems;
}
