import type { AddressInfo } from 'node:net';
import { buildOptions } from '../collectors/options';
import { CollectorRunner } from '../collectors/runner';
import { ConfigError } from '../errors';
import { FlagValues, formatHelp, parseFlags } from '../config/flags';
import { HostFs } from '../host/host-fs';
import { buildApp, type AppDeps } from '../http/app';
import { HttpStats } from '../http/http-stats';
import { listenWeb, webConfigWatcher } from '../http/web-server';
import { Inventory } from '../inventory/inventory';
import { createLogger, type Logger } from '../log/logger';
import { readVersion } from '../version';
import { waitForShutdownSignal } from '../signals';
import { buildExporterConfig, exporterFlagSpecs, validateExporterFlags, type ExporterConfig } from './config';
import { DEFAULT_TRIM_POLICY, MemoryTrimmer } from './memory-trim';
import { Scraper, type FamilySource } from './scraper';
import { SelfMetrics } from './self-metrics';

export interface RunningExporter {
  readonly port: number;
  readonly scraper: Scraper;
  stop(): Promise<void>;
}

/** What the composition root of an embedding process adds to the exporter. */
export interface ExporterExtras {
  /** Links of the landing page, given the request (the sink's overview page when embedded). */
  readonly landingLinks?: AppDeps['landingLinks'];
}

/** Composition root: config -> collectors -> app -> listen. Returns once listening. */
export async function startExporter(
  config: ExporterConfig,
  logger: Logger,
  extras: ExporterExtras = {},
): Promise<RunningExporter> {
  // First, so that an invalid --web.config.file stops the start (exit 2) before anything runs.
  const web = webConfigWatcher(config.webConfigFile, logger);
  const fs = new HostFs(config.paths);
  const collectors = config.collectors.map(({ definition, options }) => ({
    name: definition.name,
    collector: definition.create({
      fs,
      logger: logger.child({ collector: definition.name }),
      options: buildOptions(definition.options ?? [], options),
    }),
  }));
  const runner = new CollectorRunner(collectors, config.collectorTimeoutMs, logger);
  const inventory = new Inventory(config.inventoryIntervalMs, logger.child({ component: 'inventory' }));
  const stats = new HttpStats();
  const self = new SelfMetrics(!config.disableExporterMetrics);
  const trimmer = config.memoryTrim
    ? new MemoryTrimmer(logger, DEFAULT_TRIM_POLICY, () => stats.current > 0)
    : undefined;
  const sources: FamilySource[] = [inventory, self];
  if (!config.disableExporterMetrics) sources.push(stats, ...(trimmer === undefined ? [] : [trimmer]));
  const scraper = new Scraper(runner, sources, logger);
  let ready = false;
  const version = readVersion();
  const app = buildApp({
    scrape: () => scraper.scrape(),
    afterScrape: () => {
      self.afterScrape();
      trimmer?.afterScrape();
    },
    telemetryPath: config.telemetryPath,
    maxRequests: config.maxRequests,
    stats,
    logger,
    isReady: () => ready,
    title: 'hostscope exporter',
    version,
    ...(extras.landingLinks === undefined ? {} : { landingLinks: extras.landingLinks }),
  });
  inventory.start();
  await trimmer?.startup();
  const server = await listenWeb(app, config.listen.host, config.listen.port, web);
  const port = (server.address() as AddressInfo).port;
  ready = true;
  logger.info(
    {
      address: config.listenAddress,
      port,
      collectors: runner.names,
      version,
      paths: config.paths,
      tls: web?.current().secure !== undefined,
      basicAuth: (web?.current().config.users.size ?? 0) > 0,
    },
    'hostscope exporter listening',
  );
  return {
    port,
    scraper,
    async stop() {
      ready = false;
      // Bounded: a scraper holding a keep-alive connection, or a collector whose close() hangs (an engine
      // that stopped answering), must not keep a SIGTERM'd exporter alive.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearInterval(idle);
      clearTimeout(force);
      const done = await withDeadline(Promise.all([runner.close(), inventory.stop()]), SHUTDOWN_GRACE_MS);
      if (!done)
        logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'collectors did not close in time; stopping anyway');
    },
  };
}

const SHUTDOWN_GRACE_MS = 5000;

/** Resolves true when `work` settles within `ms`, false otherwise (the work is left to finish on its own). */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** `hostscope exporter`: returns the process exit code. Throws ConfigError for bad flags (exit 2). */
export async function exporterCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const specs = exporterFlagSpecs();
  const parsed = parseFlags(specs, argv, env);
  if (parsed.help) {
    process.stdout.write(formatHelp('exporter', 'Serves host and container metrics for Prometheus.', specs));
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`hostscope ${readVersion()}\n`);
    return 0;
  }
  const flags = new FlagValues(parsed.values);
  const problems = [
    ...parsed.problems,
    ...(parsed.problems.length === 0 ? validateExporterFlags(flags) : []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  const config = buildExporterConfig(flags);
  const logger = createLogger({ ...config.log, name: 'exporter' });
  const exporter = await startExporter(config, logger);
  const signal = await waitForShutdownSignal();
  logger.info({ signal }, 'shutting down');
  await exporter.stop();
  logger.info('stopped');
  return 0;
}
