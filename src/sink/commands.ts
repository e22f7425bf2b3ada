import type { Server } from 'node:http';
import { listenWeb, webConfigWatcher } from '../http/web-server';
import type { AddressInfo } from 'node:net';
import { FlagValues, formatHelp, parseFlags, type FlagSpec } from '../config/flags';
import { clockFlagProblems, clockFromFlags, systemClock, type Clock } from '../config/clock';
import { NOW_FLAG, nowFlagProblems, nowFromFlags } from '../config/now';
import { ConfigError } from '../errors';
import { buildExporterConfig, exporterFlagSpecs, LOG_FLAGS, validateExporterFlags } from '../exporter/config';
import { startExporter, type ExporterExtras, type RunningExporter } from '../exporter/main';
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
  MAINTAIN_FLAGS,
  retentionOptions,
  sinkFlagSpecs,
  validateSinkFlags,
  type SinkConfig,
} from './config';
import { seedAlertHistory } from '../alerts/seed';
import { alertRoutes } from '../alerts/webhook';
import { apiRoutes } from '../api/routes';
import { remoteRoutes } from '../remote/routes';
import { LiveFeed } from '../web/feed';
import { LiveHub } from '../web/hub';
import { webRoutes } from '../web/routes';
import { loadStatic } from '../web/static';
import { buildSinkApp } from './http';
import { maintain } from './maintain';
import { runSeed } from './seed';
import { Sink } from './sink';
import { FileSd } from './targets/file-sd';
import { flagTarget, TargetSet } from './targets/target-set';
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
  const flags = new FlagValues(parsed.values, parsed.explicit);
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
  readonly targets: TargetSet;
  readonly port: number | undefined;
  /** True when the listener serves HTTPS (--web.config.file with TLS). */
  readonly secure: boolean;
  stop(): Promise<boolean>;
}

/** Composition root of the sink: targets -> database -> migrations -> sink -> HTTP -> schedule. */
/** How long requests under way at shutdown may take to finish before their connections are cut. */
const REQUEST_DRAIN_MS = 5_000;

export async function startSink(
  config: SinkConfig,
  flags: FlagValues,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningSink> {
  // First, so that an invalid --web.config.file or file_sd file stops the start (exit 2) before anything
  // runs. The flags were checked already; a file may have changed since.
  const web = config.listen === undefined ? undefined : webConfigWatcher(config.webConfigFile, logger);
  const targets = new TargetSet(
    config.targets.map((t) => flagTarget(t.url, t.job)),
    config.shard,
    logger.child({ component: 'targets' }),
  );
  const fileSd = new FileSd(
    config.fileSd,
    { job: config.job, refreshIntervalMs: config.fileSdRefreshMs },
    targets,
    logger.child({ component: 'file_sd' }),
  );
  const problems = fileSd.loadInitial();
  if (problems.length > 0)
    throw new ConfigError(problems.map((p) => `--scrape.file-sd (env HOSTSCOPE_SCRAPE_FILE_SD): ${p}`));
  // Scraping starts at once; migrations run before the first write and are retried while the database
  // is unreachable, so a sink started before its database buffers instead of failing.
  const db = await openDatabase(databaseConfig(flags), logger);
  const sink = await Sink.open(
    db,
    {
      targets: targets.targets,
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      bodyLimitBytes: config.bodyLimitBytes,
      bufferDir: config.bufferDir,
      bufferMaxBytes: config.bufferMaxBytes,
      bufferMaxSamples: config.bufferMaxSamples,
      batchSamples: config.batchSamples,
      maintainSchedule: config.maintainSchedule,
      clock,
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
  targets.subscribe((list) => sink.setTargets(list));
  let server: Server | undefined;
  let hub: LiveHub | undefined;
  if (config.listen !== undefined) {
    // The live overview page: figures computed from each scrape in memory, pushed once per round.
    const liveHub = new LiveHub({
      maxClients: config.live.maxClients,
      heartbeatMs: config.live.heartbeatMs,
      backlogPoints: backlogPointsFor(config.intervalMs),
      intervalSeconds: config.intervalMs / 1000,
    });
    hub = liveHub;
    const feed = new LiveFeed(liveHub, db, logger.child({ component: 'live' }));
    sink.observer = feed;
    // Targets that file_sd removed leave the page too.
    targets.subscribe((list) => feed.tracker.retain(new Set(list.map((t) => t.instance))));
    const remote = remoteRoutes(
      db,
      logger,
      config,
      () => sink.prepareOnce(),
      () => clock.now(),
    );
    const alerts = alertRoutes(config.alertmanagerWebhook, {
      db,
      logger: logger.child({ component: 'alertmanager-webhook' }),
      prepare: () => sink.prepareOnce(),
      now: () => clock.now(),
    });
    server = await listenWeb(
      buildSinkApp({
        metrics: () => [
          ...sink.metrics.families(),
          ...targets.families(),
          ...(config.fileSd.length > 0 ? fileSd.families() : []),
          ...remote.metrics.families(),
          ...alerts.metrics.families(),
          ...feed.families(),
        ],
        health: () => ({ ...sink.health(), targets: sink.currentTargets.length }),
        post: { ...remote.post, ...alerts.post },
        get: {
          ...apiRoutes({
            db,
            logger: logger.child({ component: 'api' }),
            prepare: () => sink.prepareOnce(),
            now: () => clock.now() / 1000,
          }),
          ...webRoutes({ hub: liveHub, files: loadStatic() }),
          '/api/v1/targets': (_req, res) => {
            res.setHeader('Cache-Control', 'no-store');
            res.json({ status: 'success', data: targets.apiView((t) => sink.lastScrape(t)) });
          },
        },
      }),
      config.listen.host,
      config.listen.port,
      web,
      alerts.unauthorized,
    );
  }
  const port = server === undefined ? undefined : (server.address() as AddressInfo).port;
  if (!config.once) {
    sink.start();
    void sink.runMaintenance();
    if (config.fileSd.length > 0) fileSd.start();
  }
  logger.info(
    {
      targets:
        targets.targets.length <= 20 ? targets.targets.map((t) => redactUrl(t.url)) : targets.targets.length,
      ...(config.fileSd.length > 0
        ? { fileSd: targets.fileNames, discovered: targets.discovered.length }
        : {}),
      ...(config.shard === undefined ? {} : { shard: `${config.shard.index}/${config.shard.count}` }),
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
  const secure = web?.current().secure !== undefined;
  return {
    sink,
    targets,
    port,
    secure,
    async stop() {
      hub?.close();
      await fileSd.stop();
      const flushed = await sink.stop(Date.now() + config.shutdownTimeoutMs);
      if (!flushed)
        logger.error(
          { buffered: sink.buffer.samples, dir: config.bufferDir },
          'could not write everything buffered before exiting; it stays on disk and is written after the next start',
        );
      if (server !== undefined) {
        // Requests under way (a remote write waiting for its commit) finish before the database closes:
        // close() stops accepting and ends idle connections; the rest get a few seconds, then are cut.
        const s = server;
        await new Promise<void>((resolve) => {
          const cut = setTimeout(() => s.closeAllConnections(), REQUEST_DRAIN_MS);
          s.close(() => {
            clearTimeout(cut);
            resolve();
          });
        });
      }
      await db.close().catch(() => undefined);
      return flushed;
    },
  };
}

/** Live chart points a new page gets: an hour of scrapes, at most 360 (six minutes at 1 s). */
export function backlogPointsFor(intervalMs: number): number {
  return Math.max(1, Math.min(360, Math.ceil(3_600_000 / intervalMs)));
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
  const clock = clockFromFlags(p.flags, logger);
  let exporter: RunningExporter | undefined;
  // The embedded exporter's landing page links to the overview page once the sink listens.
  let overview: { port: number; secure: boolean } | undefined;
  if (p.flags.boolean('exporter.embedded')) {
    exporter = await startEmbeddedExporter(
      p.flags.string('exporter.listen-address'),
      config,
      logger,
      (requestHost) =>
        overview === undefined
          ? []
          : [
              {
                href: overviewUrl(config.listen?.host, overview, requestHost),
                text: 'Overview (live page)',
              },
            ],
    );
    if (!p.flags.isSet('scrape.target')) {
      const url = `http://127.0.0.1:${exporter.port}/metrics`;
      config = { ...config, targets: [{ url, instance: instanceOf(url), job: config.job }] };
    }
  }
  let running: RunningSink;
  try {
    running = await startSink(config, p.flags, logger, clock);
  } catch (err) {
    await exporter?.stop();
    throw err;
  }
  if (running.port !== undefined) overview = { port: running.port, secure: running.secure };
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
  logger.info(running.sink.metrics.totals(), ok ? 'stopped' : 'stopped with unwritten samples');
  return ok ? 0 : 1;
}

/**
 * The overview page's URL for a browser that reached the embedded exporter at `requestHost`: the sink's
 * listen host when it is a specific one, else the host the browser used.
 */
export function overviewUrl(
  listenHost: string | undefined,
  sink: { readonly port: number; readonly secure: boolean },
  requestHost: string,
): string {
  const wildcard =
    listenHost === undefined || listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::';
  const host = wildcard ? requestHost || 'localhost' : listenHost;
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${sink.secure ? 'https' : 'http'}://${h}:${sink.port}/`;
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
  landingLinks: NonNullable<ExporterExtras['landingLinks']>,
): Promise<RunningExporter> {
  const parsed = parseFlags(
    exporterFlagSpecs(),
    [
      `--web.listen-address=${address}`,
      `--log.level=${sink.log.level}`,
      `--log.format=${sink.log.format}`,
      // The heap is the sink's: its batches, not scrapes, decide when memory can be given back.
      '--no-runtime.memory-trim',
    ],
    {},
  );
  const flags = new FlagValues(parsed.values);
  const problems = [...parsed.problems, ...validateExporterFlags(flags)];
  if (problems.length > 0) throw new ConfigError(problems);
  return startExporter(buildExporterConfig(flags), logger.child({ component: 'exporter' }), { landingLinks });
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
    MAINTAIN_FLAGS,
    argv,
    env,
    clockFlagProblems,
  );
  if (p.kind === 'exit') return p.code;
  const logger = createLogger({ ...logConfig(p.flags), name: 'maintain' });
  const nowMs = clockFromFlags(p.flags, logger).now();
  const db = await openMigrated(p.flags, logger);
  try {
    const r = await maintain(db, logger, {
      ...retentionOptions(p.flags),
      nowMs,
    });
    logger.info(r, 'maintenance done');
    return 0;
  } finally {
    await db.close();
  }
}

const SEED_FLAGS: readonly FlagSpec[] = [
  { name: 'hosts', kind: 'number', min: 1, default: 3, help: 'Number of synthetic hosts.' },
  { name: 'days', kind: 'number', min: 1, default: 7, help: 'Days of history, ending now (or at --now).' },
  { name: 'seed.interval', kind: 'duration', default: '1m', help: 'Time between synthetic scrapes.' },
  { name: 'seed.random-seed', kind: 'number', default: 1, help: 'Seed of the pseudo-random generator.' },
  NOW_FLAG,
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
      problems.push(...nowFlagProblems(f));
      return problems;
    },
  );
  if (p.kind === 'exit') return p.code;
  const logger = createLogger({ ...logConfig(p.flags), name: 'seed' });
  // One instant for the metrics and the alerts: with --now, the same flags seed the same history.
  const nowMs = nowFromFlags(p.flags);
  const db = await openMigrated(p.flags, logger);
  try {
    const written = await runSeed(
      db,
      {
        hosts: p.flags.number('hosts'),
        days: p.flags.number('days'),
        stepMs: p.flags.duration('seed.interval'),
        nowMs,
        seed: p.flags.number('seed.random-seed'),
      },
      logger,
    );
    const alerts = await seedAlertHistory(db, {
      hosts: p.flags.number('hosts'),
      days: p.flags.number('days'),
      nowMs,
      seed: p.flags.number('seed.random-seed'),
    });
    logger.info({ samples: written, alerts }, 'seed done');
    return 0;
  } finally {
    await db.close();
  }
}
