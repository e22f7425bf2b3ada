import type { Server } from 'node:http';
import { listenWeb, webConfigWatcher } from '../http/web-server';
import type { AddressInfo } from 'node:net';
import { FlagValues, formatHelp, parseFlags, type FlagSpec } from '../config/flags';
import { ConfigError } from '../errors';
import { buildExporterConfig, exporterFlagSpecs, LOG_FLAGS, validateExporterFlags } from '../exporter/config';
import { startExporter, type RunningExporter } from '../exporter/main';
import { migrate } from '../db/migrate';
import { openDatabase } from '../db/open';
import { redactUrl, type Database } from '../db/database';
import { createLogger, type Logger } from '../log/logger';
import { waitForShutdownSignal } from '../signals';
import { readVersion } from '../version';
import {
  buildSinkConfig,
  DATABASE_FLAGS,
  databaseConfig,
  logConfig,
  RETENTION_FLAGS,
  retentionOptions,
  sinkFlagSpecs,
  validateSinkFlags,
  type SinkConfig,
} from './config';
import { seedAlertHistory } from '../alerts/seed';
import { alertRoutes } from '../alerts/webhook';
import { apiRoutes } from '../api/routes';
import { remoteRoutes } from '../remote/routes';
import { buildSinkApp } from './http';
import { maintain } from './maintain';
import { runSeed } from './seed';
import { Sink } from './sink';
import { instanceOf } from './types';

type Parsed = { kind: 'exit'; code: number } | { kind: 'run'; flags: FlagValues };

function parse(
  command: string,
  summary: string,
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  validate: (flags: FlagValues) => string[] = () => [],
): Parsed {
  const parsed = parseFlags(specs, argv, env);
  if (parsed.help) {
    process.stdout.write(formatHelp(command, summary, specs));
    return { kind: 'exit', code: 0 };
  }
  if (parsed.version) {
    process.stdout.write(`hostscope ${readVersion()}\n`);
    return { kind: 'exit', code: 0 };
  }
  const flags = new FlagValues(parsed.values);
  const problems = [...parsed.problems, ...(parsed.problems.length === 0 ? validate(flags) : [])];
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'run', flags };
}

export async function openMigrated(flags: FlagValues, logger: Logger): Promise<Database> {
  const db = await openDatabase(databaseConfig(flags), logger);
  try {
    await migrate(db, logger);
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export interface RunningSink {
  readonly sink: Sink;
  readonly port: number | undefined;
  stop(): Promise<boolean>;
}

/** Composition root of the sink: database -> migrations -> sink -> HTTP -> schedule. */
export async function startSink(config: SinkConfig, flags: FlagValues, logger: Logger): Promise<RunningSink> {
  // First, so that an invalid --web.config.file stops the start (exit 2) before anything runs.
  const web = config.listen === undefined ? undefined : webConfigWatcher(config.webConfigFile, logger);
  // Scraping starts at once; migrations run before the first write and are retried while the database
  // is unreachable, so a sink started before its database buffers instead of failing.
  const db = await openDatabase(databaseConfig(flags), logger);
  const sink = await Sink.open(
    db,
    {
      targets: config.targets,
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      bodyLimitBytes: config.bodyLimitBytes,
      bufferDir: config.bufferDir,
      bufferMaxBytes: config.bufferMaxBytes,
      bufferMaxSamples: config.bufferMaxSamples,
      batchSamples: config.batchSamples,
      maintainSchedule: config.maintainSchedule,
      maintain: {
        retentionRawMs: config.retentionRawMs,
        retentionUsageMs: config.retentionUsageMs,
        retentionHourlyMs: config.retentionHourlyMs,
        retentionAlertNotificationsMs: config.retentionAlertNotificationsMs,
      },
    },
    logger,
    async () => {
      await migrate(db, logger);
    },
  ).catch(async (err: unknown) => {
    await db.close().catch(() => undefined);
    throw err;
  });
  let server: Server | undefined;
  if (config.listen !== undefined) {
    const remote = remoteRoutes(db, logger, config, () => sink.prepareOnce());
    const alerts = alertRoutes(config.alertmanagerWebhook, {
      db,
      logger: logger.child({ component: 'alertmanager-webhook' }),
      prepare: () => sink.prepareOnce(),
    });
    server = await listenWeb(
      buildSinkApp({
        metrics: () => [...sink.metrics.families(), ...remote.metrics.families()],
        health: () => sink.health(),
        post: { ...remote.post, ...alerts },
        get: apiRoutes({
          db,
          logger: logger.child({ component: 'api' }),
          prepare: () => sink.prepareOnce(),
        }),
      }),
      config.listen.host,
      config.listen.port,
      web,
    );
  }
  const port = server === undefined ? undefined : (server.address() as AddressInfo).port;
  if (!config.once) {
    sink.start(config.scrapeCron);
    void sink.runMaintenance();
  }
  logger.info(
    {
      targets: config.targets.map((t) => redactUrl(t.url)),
      interval: config.intervalMs,
      port,
      tls: web?.current().secure !== undefined,
      basicAuth: (web?.current().config.users.size ?? 0) > 0,
      database: db.kind,
      bufferDir: config.bufferDir,
      version: readVersion(),
    },
    'hostscope sink started',
  );
  return {
    sink,
    port,
    async stop() {
      const flushed = await sink.stop(Date.now() + config.shutdownTimeoutMs);
      if (!flushed)
        logger.error(
          { buffered: sink.buffer.samples, dir: config.bufferDir },
          'could not write everything buffered before exiting; it stays on disk and is written after the next start',
        );
      if (server !== undefined) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await db.close().catch(() => undefined);
      return flushed;
    },
  };
}

/** `hostscope sink`. */
export async function sinkCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const p = parse(
    'sink',
    'Scrapes /metrics targets on a schedule and writes every sample to PostgreSQL (or the embedded PGlite).',
    sinkFlagSpecs(),
    argv,
    env,
    validateSinkFlags,
  );
  if (p.kind === 'exit') return p.code;
  let config = buildSinkConfig(p.flags);
  const logger = createLogger({ ...config.log, name: 'sink' });
  let exporter: RunningExporter | undefined;
  if (p.flags.boolean('exporter.embedded')) {
    exporter = await startEmbeddedExporter(p.flags.string('exporter.listen-address'), config, logger);
    if (!explicitTargets(argv, env)) {
      const url = `http://127.0.0.1:${exporter.port}/metrics`;
      config = {
        ...config,
        targets: [{ url, instance: instanceOf(url), job: config.targets[0]?.job ?? 'hostscope' }],
      };
    }
  }
  let running: RunningSink;
  try {
    running = await startSink(config, p.flags, logger);
  } catch (err) {
    await exporter?.stop();
    throw err;
  }
  let ok: boolean;
  if (config.once) {
    await running.sink.scrapeRound();
    ok = await running.stop();
  } else {
    const signal = await waitForShutdownSignal();
    logger.info({ signal, buffered: running.sink.buffer.samples }, 'shutting down; writing the buffer');
    ok = await running.stop();
  }
  await exporter?.stop();
  logger.info(
    { written: running.sink.metrics.samplesWritten },
    ok ? 'stopped' : 'stopped with unwritten samples',
  );
  return ok ? 0 : 1;
}

/** True when targets were given on the command line or in the environment (not the default). */
function explicitTargets(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return (
    argv.some((a) => a === '--scrape.target' || a.startsWith('--scrape.target=')) ||
    (env.HOSTSCOPE_SCRAPE_TARGET ?? '') !== ''
  );
}

/**
 * The exporter with its default collectors in this process (`hostscope sink --exporter.embedded`), so one
 * command monitors a single host. Its own flags are the exporter defaults; run `hostscope exporter`
 * separately to tune collectors.
 */
async function startEmbeddedExporter(
  address: string,
  sink: SinkConfig,
  logger: Logger,
): Promise<RunningExporter> {
  const parsed = parseFlags(
    exporterFlagSpecs(),
    [`--web.listen-address=${address}`, `--log.level=${sink.log.level}`, `--log.format=${sink.log.format}`],
    {},
  );
  const flags = new FlagValues(parsed.values);
  const problems = [...parsed.problems, ...validateExporterFlags(flags)];
  if (problems.length > 0) throw new ConfigError(problems);
  return startExporter(buildExporterConfig(flags), logger.child({ component: 'exporter' }));
}

/** `hostscope migrate`. */
export async function migrateCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const p = parse(
    'migrate',
    'Creates or upgrades the hostscope schema, then exits.',
    [...DATABASE_FLAGS, ...LOG_FLAGS],
    argv,
    env,
  );
  if (p.kind === 'exit') return p.code;
  const logger = createLogger({ ...logConfig(p.flags), name: 'migrate' });
  const db = await openDatabase(databaseConfig(p.flags), logger);
  try {
    const r = await migrate(db, logger);
    logger.info({ applied: r.applied, version: r.current }, 'schema up to date');
    return 0;
  } finally {
    await db.close();
  }
}

/** `hostscope maintain`. */
export async function maintainCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const p = parse(
    'maintain',
    'Computes hourly rollups of closed hours and drops partitions past retention, then exits.',
    [...DATABASE_FLAGS, ...RETENTION_FLAGS, ...LOG_FLAGS],
    argv,
    env,
  );
  if (p.kind === 'exit') return p.code;
  const logger = createLogger({ ...logConfig(p.flags), name: 'maintain' });
  const db = await openMigrated(p.flags, logger);
  try {
    const r = await maintain(db, logger, {
      ...retentionOptions(p.flags),
    });
    logger.info(r, 'maintenance done');
    return 0;
  } finally {
    await db.close();
  }
}

const SEED_FLAGS: readonly FlagSpec[] = [
  { name: 'hosts', kind: 'number', min: 1, default: 3, help: 'Number of synthetic hosts.' },
  { name: 'days', kind: 'number', min: 1, default: 7, help: 'Days of history, ending now.' },
  { name: 'seed.interval', kind: 'duration', default: '1m', help: 'Time between synthetic scrapes.' },
  { name: 'seed.random-seed', kind: 'number', default: 1, help: 'Seed of the pseudo-random generator.' },
];

/** `hostscope seed --hosts N --days D`. */
export async function seedCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const p = parse(
    'seed',
    'Fills the database with realistic synthetic history (daily cycles, containers, a filling disk).',
    [...SEED_FLAGS, ...DATABASE_FLAGS, ...LOG_FLAGS],
    argv,
    env,
    (f) => {
      const problems: string[] = [];
      if (f.duration('seed.interval') < 1000) problems.push('--seed.interval: must be at least 1s');
      if (!Number.isInteger(f.number('hosts'))) problems.push('--hosts: must be a whole number');
      if (f.number('days') > 400) problems.push('--days: at most 400');
      return problems;
    },
  );
  if (p.kind === 'exit') return p.code;
  const logger = createLogger({ ...logConfig(p.flags), name: 'seed' });
  const db = await openMigrated(p.flags, logger);
  try {
    const written = await runSeed(
      db,
      {
        hosts: p.flags.number('hosts'),
        days: p.flags.number('days'),
        stepMs: p.flags.duration('seed.interval'),
        nowMs: Date.now(),
        seed: p.flags.number('seed.random-seed'),
      },
      logger,
    );
    const alerts = await seedAlertHistory(db, {
      hosts: p.flags.number('hosts'),
      days: p.flags.number('days'),
      nowMs: Date.now(),
      seed: p.flags.number('seed.random-seed'),
    });
    logger.info({ samples: written, alerts }, 'seed done');
    return 0;
  } finally {
    await db.close();
  }
}
