import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import cron from 'node-cron';
import nodemailer, { type Transporter } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import { FlagValues, formatHelp, parseFlags, type FlagSpec } from '../config/flags';
import { NOW_FLAG, nowFlagProblems, nowFromFlags } from '../config/now';
import { ConfigError } from '../errors';
import { LOG_FLAGS } from '../exporter/config';
import type { Database } from '../db/database';
import { createLogger, type Logger } from '../log/logger';
import { openMigrated } from '../sink/commands';
import { DATABASE_FLAGS, logConfig } from '../sink/config';
import { waitForShutdownSignal } from '../signals';
import { readVersion } from '../version';
import { filesystemChart, hostChart, type ChartImage } from './charts';
import { collectReport } from './data';
import { renderReport, type RenderedReport } from './render';

export const REPORT_SUMMARY =
  'Builds a digest of a period (hosts, filesystems, containers, alerts) from the PostgreSQL rollups and the alert history, with charts, and mails it once (--once) or on a schedule.';

export const REPORT_FLAGS: readonly FlagSpec[] = [
  {
    name: 'report.period',
    kind: 'duration',
    default: '7d',
    help: 'Length of the period a report covers, ending at the last whole hour; compared with the period before it.',
  },
  {
    name: 'report.schedule',
    kind: 'string',
    default: '0 8 * * 1',
    help: 'node-cron schedule of the reports (default: Mondays at 08:00), in --report.timezone.',
  },
  {
    name: 'report.timezone',
    kind: 'string',
    default: 'UTC',
    help: 'IANA time zone of the schedule and of the times in the mail (e.g. Europe/Paris).',
  },
  {
    name: 'report.to',
    kind: 'list',
    help: 'Recipient address; repeat the flag for several (env: comma-separated). Required unless --dry-run.',
  },
  {
    name: 'report.from',
    kind: 'string',
    default: 'hostscope <hostscope@localhost>',
    help: 'Sender address.',
  },
  {
    name: 'report.title',
    kind: 'string',
    default: 'hostscope report',
    help: 'Title of the mail, and start of its subject.',
  },
  {
    name: 'report.grafana-url',
    kind: 'string',
    default: '',
    help: 'Base URL of Grafana (e.g. https://grafana.example.com), for links to the dashboards; empty: no links.',
  },
  {
    name: 'smtp.host',
    kind: 'string',
    default: '',
    help: 'SMTP server host name. Required unless --dry-run.',
  },
  {
    name: 'smtp.port',
    kind: 'number',
    min: 1,
    default: 587,
    help: 'SMTP server port (587 STARTTLS, 465 implicit TLS, 25 plain).',
  },
  {
    name: 'smtp.tls',
    kind: 'enum',
    choices: ['starttls', 'tls', 'none'],
    default: 'starttls',
    help: 'starttls: upgrade with STARTTLS and refuse a server without it; tls: implicit TLS from the first byte (port 465); none: plain text, only for a local relay.',
  },
  {
    name: 'smtp.tls-insecure-skip-verify',
    kind: 'boolean',
    default: false,
    help: "Do not check the server's certificate.",
  },
  { name: 'smtp.username', kind: 'string', default: '', help: 'SMTP user; empty: no authentication.' },
  {
    name: 'smtp.password',
    kind: 'string',
    secret: true,
    help: 'SMTP password (use HOSTSCOPE_SMTP_PASSWORD_FILE for a secret file).',
  },
  {
    name: 'smtp.timeout',
    kind: 'duration',
    default: '30s',
    help: 'Time limit of connecting to, greeting and each exchange with the SMTP server.',
  },
  {
    name: 'smtp.retries',
    kind: 'number',
    min: 0,
    default: 4,
    help: 'Further attempts after a refused or timed-out delivery.',
  },
  {
    name: 'smtp.retry-backoff',
    kind: 'duration',
    default: '30s',
    help: 'Wait before the first retry; doubled for each further one.',
  },
  { name: 'once', kind: 'boolean', default: false, help: 'Build and send one report now, then exit.' },
  {
    name: 'dry-run',
    kind: 'boolean',
    default: false,
    help: 'Build one report and write it to --out (report.eml, report.html, the PNG charts) instead of sending it.',
  },
  { name: 'out', kind: 'string', default: './report', help: 'Directory of --dry-run.' },
  NOW_FLAG,
  ...DATABASE_FLAGS,
  ...LOG_FLAGS,
];

const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;
const address = (v: string): string => v.replace(/^.*<(.*)>\s*$/, '$1').trim();

export function validateReportFlags(f: FlagValues): string[] {
  const problems: string[] = [];
  const dry = f.boolean('dry-run');
  if (f.duration('report.period') < 3_600_000)
    problems.push('--report.period (env HOSTSCOPE_REPORT_PERIOD): must be at least 1h');
  if (!cron.validate(f.string('report.schedule')))
    problems.push(
      `--report.schedule (env HOSTSCOPE_REPORT_SCHEDULE): not a valid cron expression: "${f.string('report.schedule')}"`,
    );
  try {
    new Intl.DateTimeFormat('en', { timeZone: f.string('report.timezone') });
  } catch {
    problems.push(
      `--report.timezone (env HOSTSCOPE_REPORT_TIMEZONE): unknown time zone "${f.string('report.timezone')}"`,
    );
  }
  const to = f.list('report.to');
  if (!dry && to.length === 0)
    problems.push('--report.to (env HOSTSCOPE_REPORT_TO): at least one recipient is needed (or --dry-run)');
  for (const r of to)
    if (!EMAIL.test(address(r)))
      problems.push(`--report.to (env HOSTSCOPE_REPORT_TO): not an e-mail address: "${r}"`);
  if (!EMAIL.test(address(f.string('report.from'))))
    problems.push(
      `--report.from (env HOSTSCOPE_REPORT_FROM): not an e-mail address: "${f.string('report.from')}"`,
    );
  if (!dry && f.string('smtp.host') === '')
    problems.push('--smtp.host (env HOSTSCOPE_SMTP_HOST): needed to send (or --dry-run)');
  if (f.number('smtp.port') > 65535 || !Number.isInteger(f.number('smtp.port')))
    problems.push('--smtp.port (env HOSTSCOPE_SMTP_PORT): must be a port number');
  if (f.string('smtp.username') !== '' && f.optionalString('smtp.password') === undefined)
    problems.push(
      '--smtp.username is set but --smtp.password (env HOSTSCOPE_SMTP_PASSWORD or HOSTSCOPE_SMTP_PASSWORD_FILE) is not',
    );
  if (f.duration('smtp.timeout') <= 0)
    problems.push('--smtp.timeout (env HOSTSCOPE_SMTP_TIMEOUT): must be greater than 0');
  if (!Number.isInteger(f.number('smtp.retries')))
    problems.push('--smtp.retries (env HOSTSCOPE_SMTP_RETRIES): must be a whole number');
  const url = f.string('report.grafana-url');
  if (url !== '' && !/^https?:\/\/[^\s]+$/.test(url))
    problems.push(
      `--report.grafana-url (env HOSTSCOPE_REPORT_GRAFANA_URL): expected an http(s) URL, got "${url}"`,
    );
  if (f.boolean('dry-run') && f.boolean('once'))
    problems.push('--dry-run and --once: give one of them (--dry-run also runs once)');
  problems.push(...nowFlagProblems(f));
  if (f.string('now') !== '' && !f.boolean('dry-run') && !f.boolean('once'))
    problems.push('--now (env HOSTSCOPE_NOW): only with --once or --dry-run (a schedule follows the clock)');
  return problems;
}

export interface BuiltReport extends RenderedReport {
  readonly message: Mail.Options;
  readonly buildMs: number;
}

/** Reads the figures, draws the charts and renders the mail of the period ending at the last whole hour. */
export async function buildReport(db: Database, f: FlagValues, nowMs = Date.now()): Promise<BuiltReport> {
  const started = performance.now();
  const toMs = Math.floor(nowMs / 3_600_000) * 3_600_000;
  const data = await collectReport(db, { fromMs: toMs - f.duration('report.period'), toMs });
  const tz = f.string('report.timezone');
  const images: ChartImage[] = data.hosts.map((h) => hostChart(h, tz));
  const fsChart = filesystemChart(data.filesystems.slice(0, 5), tz);
  if (fsChart !== undefined) images.push(fsChart);
  const rendered = renderReport(data, images, {
    timeZone: tz,
    grafanaUrl: f.string('report.grafana-url').replace(/\/+$/, ''),
    title: f.string('report.title'),
  });
  const message: Mail.Options = {
    from: f.string('report.from'),
    to: [...f.list('report.to')],
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    attachments: images.map((i) => ({
      filename: i.filename,
      content: i.png,
      cid: i.cid,
      contentType: 'image/png',
    })),
  };
  return { ...rendered, message, buildMs: performance.now() - started };
}

/** --dry-run: the mail as it would be sent (.eml), its HTML with the charts as files beside it, and the PNGs. */
export async function writeDryRun(report: BuiltReport, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const eml = await new MailComposer({
    ...report.message,
    to: report.message.to ?? 'undisclosed-recipients:;',
  })
    .compile()
    .build();
  const files: string[] = [];
  const write = (name: string, content: Buffer | string): void => {
    writeFileSync(path.join(dir, name), content);
    files.push(name);
  };
  write('report.eml', eml);
  let html = report.html;
  for (const i of report.images) {
    write(i.filename, i.png);
    html = html.split(`cid:${i.cid}`).join(i.filename);
  }
  write('report.html', html);
  write('report.txt', report.text);
  return files;
}

function transport(f: FlagValues): Transporter {
  const mode = f.string('smtp.tls');
  const timeout = f.duration('smtp.timeout');
  const user = f.string('smtp.username');
  return nodemailer.createTransport({
    host: f.string('smtp.host'),
    port: f.number('smtp.port'),
    secure: mode === 'tls',
    requireTLS: mode === 'starttls',
    ignoreTLS: mode === 'none',
    tls: { rejectUnauthorized: !f.boolean('smtp.tls-insecure-skip-verify') },
    ...(user === '' ? {} : { auth: { user, pass: f.optionalString('smtp.password') ?? '' } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends with retries and exponential backoff; throws the last error once every attempt failed. */
export async function sendWithRetry(f: FlagValues, message: Mail.Options, logger: Logger): Promise<void> {
  const attempts = 1 + f.number('smtp.retries');
  let wait = f.duration('smtp.retry-backoff');
  for (let attempt = 1; ; attempt++) {
    const t = transport(f);
    try {
      const info = (await t.sendMail(message)) as { messageId?: string; accepted?: unknown[] };
      logger.info({ attempt, messageId: info.messageId, accepted: info.accepted }, 'report sent');
      return;
    } catch (err) {
      if (attempt >= attempts) {
        logger.error(
          { err, attempt, host: f.string('smtp.host'), port: f.number('smtp.port') },
          'report not sent: every attempt failed',
        );
        throw err;
      }
      logger.warn(
        { err, attempt, retryInMs: wait, host: f.string('smtp.host'), port: f.number('smtp.port') },
        'report delivery failed; retrying',
      );
      await sleep(wait);
      wait *= 2;
    } finally {
      t.close();
    }
  }
}

/** One report: build, then send (or write, with --dry-run). */
async function runOnce(db: Database, f: FlagValues, logger: Logger): Promise<void> {
  const report = await buildReport(db, f, nowFromFlags(f));
  logger.info(
    { buildMs: Math.round(report.buildMs), charts: report.images.length, subject: report.subject },
    'report built',
  );
  if (f.boolean('dry-run')) {
    const dir = path.resolve(f.string('out'));
    const files = await writeDryRun(report, dir);
    logger.info({ dir, files }, 'report written (dry run)');
    return;
  }
  await sendWithRetry(f, report.message, logger);
}

/** `hostscope report`. */
export async function reportCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseFlags(REPORT_FLAGS, argv, env);
  if (parsed.help) {
    process.stdout.write(formatHelp('report', REPORT_SUMMARY, REPORT_FLAGS));
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`hostscope ${readVersion()}\n`);
    return 0;
  }
  const f = new FlagValues(parsed.values);
  const problems = [...parsed.problems, ...(parsed.problems.length === 0 ? validateReportFlags(f) : [])];
  if (problems.length > 0) throw new ConfigError(problems);
  const logger = createLogger({ ...logConfig(f), name: 'report' });
  const db = await openMigrated(f, logger);
  try {
    if (f.boolean('once') || f.boolean('dry-run')) {
      try {
        await runOnce(db, f, logger);
        return 0;
      } catch (err) {
        logger.error({ err }, 'report failed');
        return 1;
      }
    }
    let running: Promise<void> | undefined;
    const task = cron.schedule(
      f.string('report.schedule'),
      () => {
        if (running !== undefined) {
          logger.warn('previous report still running; this one is skipped');
          return;
        }
        running = runOnce(db, f, logger)
          .catch((err: unknown) => logger.error({ err }, 'report failed; the next one runs on schedule'))
          .finally(() => (running = undefined));
      },
      { name: 'hostscope-report', timezone: f.string('report.timezone') },
    );
    logger.info(
      {
        schedule: f.string('report.schedule'),
        timezone: f.string('report.timezone'),
        version: readVersion(),
      },
      'hostscope report scheduled',
    );
    const signal = await waitForShutdownSignal();
    logger.info({ signal }, 'shutting down');
    await task.stop();
    await running;
    return 0;
  } finally {
    await db.close();
  }
}
