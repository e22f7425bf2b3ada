import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { zeroPad } from '../zero-pad';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'logfmt';
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys never printed in clear, wherever they appear in a log object. */
const REDACT = [
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
  'config.database.url',
  'headers.authorization',
  '*.headers.authorization',
];

function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text;
}

/** Turns pino's JSON lines into logfmt (`ts=... level=info msg="..." key=value`), like go-kit's logger. */
function logfmtStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        const record = JSON.parse(line) as Record<string, unknown>;
        const { time, level, msg, err, ...rest } = record;
        const fields: string[] = [`ts=${logfmtValue(time)}`, `level=${logfmtValue(level)}`];
        if (msg !== undefined) fields.push(`msg=${logfmtValue(msg)}`);
        for (const [k, v] of Object.entries(rest)) fields.push(`${k}=${logfmtValue(v)}`);
        if (err !== undefined && typeof err === 'object' && err !== null && 'message' in err) {
          fields.push(`err=${logfmtValue((err as { message: unknown }).message)}`);
        }
        out.write(`${fields.join(' ')}\n`);
      }
      done();
    },
  });
}

/**
 * pino's isoTime (`,"time":"2026-12-04T17:10:00.000Z"`) from the UTC fields instead of
 * Date.prototype.toISOString: V8 computes the local time-zone offset even for that UTC string, which maps
 * ~0.9 MB of ICU's time-zone code and data into every process that logs.
 */
export function isoTime(): string {
  const d = new Date();
  return (
    `,"time":"${zeroPad(d.getUTCFullYear(), 4)}-${zeroPad(d.getUTCMonth() + 1)}-${zeroPad(d.getUTCDate())}` +
    `T${zeroPad(d.getUTCHours())}:${zeroPad(d.getUTCMinutes())}:${zeroPad(d.getUTCSeconds())}` +
    `.${zeroPad(d.getUTCMilliseconds(), 3)}Z"`
  );
}

export function createLogger(
  options: { level: LogLevel; format: LogFormat; name?: string },
  destination: NodeJS.WritableStream = process.stdout,
): Logger {
  return pino(
    {
      level: options.level,
      base: options.name === undefined ? null : { role: options.name },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    options.format === 'logfmt' ? logfmtStream(destination) : destination,
  );
}

/** A logger that discards everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
