import { access, constants, stat } from 'node:fs/promises';
import { FlagValues, formatHelp, parseFlags, type FlagSpec } from '../config/flags';
import { ConfigError, describe } from '../errors';
import { LOG_FLAGS } from '../exporter/config';
import {
  newReport,
  validateFile,
  writeFile,
  type FileReport,
  type ImportOptions,
  type TimeRange,
} from '../import/import-file';
import { openSource, type Source } from '../import/source';
import { createLogger, type Logger } from '../log/logger';
import { readVersion } from '../version';
import { openMigrated } from './commands';
import { DATABASE_FLAGS, logConfig, RETENTION_FLAGS, retentionOptions } from './config';
import { maintain } from './maintain';
import { SampleWriter } from './writer';

/** Samples may be this far in the future (clock skew between hosts), as the sink accepts them. */
const FUTURE_MS = 600_000;
const MAX_ERRORS = 20;

export const IMPORT_SUMMARY =
  'Backfills history from files of timestamped samples (OpenMetrics, as promtool tsdb create-blocks-from openmetrics takes it, or the Prometheus text format), then runs the maintenance.';

export const IMPORT_FLAGS: readonly FlagSpec[] = [
  {
    name: 'format',
    kind: 'enum',
    choices: ['auto', 'openmetrics', 'text'],
    default: 'auto',
    help: 'Input format. auto: OpenMetrics when the input ends with "# EOF" (timestamps in seconds), else the text format 0.0.4 (timestamps in milliseconds).',
  },
  {
    name: 'label.instance',
    kind: 'string',
    default: '',
    help: 'instance label of samples that have none (a sample\'s own instance label is kept); with "", a sample without one is an error.',
  },
  {
    name: 'label.job',
    kind: 'string',
    default: 'import',
    help: "job label of samples that have none (a sample's own job label is kept).",
  },
  {
    name: 'write.batch-samples',
    kind: 'number',
    min: 1,
    default: 100_000,
    help: 'Samples written in one COPY.',
  },
  {
    name: 'maintain',
    kind: 'boolean',
    default: true,
    help: 'After the import, roll up the imported hours and apply retention (as hostscope maintain does).',
  },
  ...DATABASE_FLAGS,
  ...RETENTION_FLAGS,
  ...LOG_FLAGS,
];

const DETAILS = `
Arguments:
  FILE...  files to import; - reads stdin; gzip input (.gz) is decompressed.

Each file may hold any number of scrapes (expositions one after the other, OpenMetrics ones each ending
with "# EOF"), and its samples must be in time order per series. Every sample needs a timestamp.
A file is all or nothing: it is read twice, checked completely before anything is written, and written only
when no line is wrong (errors are listed with their line numbers). Samples older than --retention.raw or
more than 10m in the future are counted and skipped. A second sample of a series at the same timestamp is
skipped (the first is kept); importing a file again stores nothing twice.
Exit status: 0 every file imported, 1 a file failed (the others are imported), 2 bad flags or arguments.
`;

/** Splits argv into flags and FILE arguments (`-` is stdin; after `--` everything is a file). */
export function splitArguments(
  specs: readonly FlagSpec[],
  argv: readonly string[],
): { flags: string[]; files: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      files.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      files.push(arg);
      continue;
    }
    flags.push(arg);
    // `--name value`: the value is the flag's, not a file.
    if (arg.startsWith('--') && !arg.includes('=')) {
      const spec = byName.get(arg.slice(2));
      const next = argv[i + 1];
      if (spec !== undefined && spec.kind !== 'boolean' && next !== undefined && !next.startsWith('--')) {
        flags.push(next);
        i++;
      }
    }
  }
  return { flags, files };
}

async function fileProblems(files: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  if (files.length === 0) problems.push('FILE: at least one file (or - for stdin) is needed');
  if (files.filter((f) => f === '-').length > 1) problems.push('FILE: - (stdin) can be given only once');
  for (const f of files) {
    if (f === '-') continue;
    try {
      await access(f, constants.R_OK);
      if (!(await stat(f)).isFile()) problems.push(`FILE ${f}: not a regular file`);
    } catch (err) {
      problems.push(`FILE ${f}: cannot be read (${(err as NodeJS.ErrnoException).code ?? describe(err)})`);
    }
  }
  return problems;
}

function iso(range: TimeRange | undefined): { from?: string; to?: string } {
  if (range === undefined) return {};
  return { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
}

function logReport(logger: Logger, r: FileReport, ok: boolean): void {
  const kept = iso(r.keptRange);
  const old = iso(r.outOfRetentionRange);
  const fields = {
    file: r.file,
    format: r.format,
    samples: r.samples,
    series: r.series,
    written: r.written,
    ...(kept.from === undefined ? {} : { from: kept.from, to: kept.to }),
    duplicates: r.duplicates,
    checkSeconds: Math.round(r.checkSeconds * 10) / 10,
    writeSeconds: Math.round(r.writeSeconds * 10) / 10,
    outOfRetention: r.outOfRetention,
    ...(old.from === undefined ? {} : { outOfRetentionFrom: old.from, outOfRetentionTo: old.to }),
    ...(r.errorCount === 0
      ? {}
      : { errorCount: r.errorCount, errors: r.errors, errorsNotListed: r.errorCount - r.errors.length }),
  };
  if (ok) {
    logger.info(fields, 'file imported');
    if (r.outOfRetention > 0)
      logger.warn(
        { file: r.file, outOfRetention: r.outOfRetention, from: old.from, to: old.to },
        'samples outside retention (older than --retention.raw or more than 10m ahead) were skipped',
      );
  } else if (r.partial) {
    logger.error(
      fields,
      'file import failed while writing; part of it is stored: import it again to complete it',
    );
  } else {
    logger.error(fields, `file rejected: ${r.errorCount} error(s) found, nothing of it written`);
  }
}

/** `hostscope import [flags] FILE...`. */
export async function importCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { flags: flagArgs, files } = splitArguments(IMPORT_FLAGS, argv);
  const parsed = parseFlags(IMPORT_FLAGS, flagArgs, env);
  if (parsed.help) {
    const help = formatHelp('import', IMPORT_SUMMARY, IMPORT_FLAGS).replace(
      'usage: hostscope import [flags]',
      'usage: hostscope import [flags] FILE...',
    );
    process.stdout.write(help + DETAILS);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`hostscope ${readVersion()}\n`);
    return 0;
  }
  const flags = new FlagValues(parsed.values);
  const problems = [...parsed.problems, ...(await fileProblems(files))];
  if (flags.duration('retention.raw') < 3_600_000) problems.push('--retention.raw: must be at least 1h');
  if (flags.duration('retention.hourly') < flags.duration('retention.raw'))
    problems.push('--retention.hourly: must not be shorter than --retention.raw');
  if (problems.length > 0) throw new ConfigError(problems);

  const logger = createLogger({ ...logConfig(flags), name: 'import' });
  const retentionRawMs = flags.duration('retention.raw');
  const options: ImportOptions = {
    format: flags.string('format') as ImportOptions['format'],
    nowMs: Date.now(),
    retentionRawMs,
    futureMs: FUTURE_MS,
    instance: flags.string('label.instance'),
    job: flags.string('label.job'),
    batchSamples: flags.number('write.batch-samples'),
    maxErrors: MAX_ERRORS,
  };
  const db = await openMigrated(flags, logger);
  let failed = 0;
  let written = 0;
  try {
    // The writer's own window must not cut what the import keeps: ours is the narrower one.
    // The writer reports a re-imported batch ("already stored") at info: expected here, so only its warnings.
    const writerLogger = logger.child({}, { level: logger.level === 'debug' ? 'debug' : 'warn' });
    const writer = new SampleWriter(db, writerLogger, {
      past: retentionRawMs + 3_600_000,
      future: FUTURE_MS + 60_000,
    });
    for (const file of files) {
      let source: Source | undefined;
      let report: FileReport = newReport(file, 'text');
      try {
        source = await openSource(file);
        report = await validateFile(source, options);
        if (report.errorCount === 0) {
          try {
            await writeFile(source, report, options, writer, logger);
          } catch (err) {
            report.partial = report.written > 0;
            report.errors.push(`writing failed: ${describe(err)}`);
            report.errorCount++;
          }
        }
      } catch (err) {
        report.errors.push(`cannot read: ${describe(err)}`);
        report.errorCount++;
      } finally {
        await source?.close();
      }
      written += report.written;
      const ok = report.errorCount === 0;
      if (!ok) failed++;
      logReport(logger, report, ok);
    }
    if (written > 0 && flags.boolean('maintain')) {
      const r = await maintain(db, logger, retentionOptions(flags));
      logger.info(r, 'maintenance done');
    }
  } finally {
    await db.close();
  }
  logger.info(
    { files: files.length, failed, written },
    failed === 0 ? 'import done' : 'import done; some files failed',
  );
  return failed === 0 ? 0 : 1;
}
