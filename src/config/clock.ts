import { readFileSync, statSync } from 'node:fs';
import type { FlagSpec, FlagValues } from './flags';
import { ConfigError } from '../errors';
import type { Logger } from '../log/logger';

/**
 * The wall clock a long-running command takes its time from. Everything the sink stamps or decides by
 * the time of day (scrape timestamps, the head partition and the "late hour" of a write, maintenance's
 * closed hours and retention, alert notifications' receipt) reads it here, so that one seam moves them
 * all. Durations and deadlines are measured with the monotonic clock (performance.now), never this one.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Ten years: further than any clock error worth simulating, well inside Date's range. */
export const MAX_CLOCK_OFFSET_MS = 10 * 365 * 86_400_000;

/** The offset a clock offset file holds: a whole number of ms, optionally signed; else a problem text. */
export function parseClockOffset(text: string): { offsetMs: number } | { problem: string } {
  const t = text.trim();
  if (!/^[+-]?\d{1,15}$/.test(t))
    return {
      problem: `expected a whole number of milliseconds like 3600000 or -600000, got "${t.slice(0, 40)}"`,
    };
  const offsetMs = Number(t);
  if (Math.abs(offsetMs) > MAX_CLOCK_OFFSET_MS)
    return { problem: `offset ${t} ms is more than ten years (${MAX_CLOCK_OFFSET_MS} ms)` };
  return { offsetMs: offsetMs === 0 ? 0 : offsetMs };
}

/**
 * A testing aid: the system clock plus an offset in ms read from a file, re-read whenever the file
 * changes (a stat per reading: its mtime, size and inode), so that another process can make the sink's
 * clock jump while it runs without touching the machine's clock (which other processes share). Write the
 * file atomically (a temporary file renamed over it). A file that becomes unreadable or invalid keeps the
 * last good offset, with one warning per bad version of the file.
 */
export class OffsetFileClock implements Clock {
  private offset: number;
  private version: string;

  private constructor(
    readonly file: string,
    initial: { offsetMs: number; version: string },
    private readonly logger: Logger | undefined,
  ) {
    this.offset = initial.offsetMs;
    this.version = initial.version;
  }

  /** Reads the file once (throws with the problem when it cannot be used) and makes the clock. */
  static open(file: string, logger?: Logger): OffsetFileClock {
    const r = readOffsetFile(file);
    if ('problem' in r) throw new ConfigError([`--testing.clock-offset-file: ${r.problem}`]);
    return new OffsetFileClock(file, r, logger);
  }

  get offsetMs(): number {
    this.refresh();
    return this.offset;
  }

  now(): number {
    this.refresh();
    return Date.now() + this.offset;
  }

  private refresh(): void {
    let version: string;
    try {
      version = fileVersion(this.file);
    } catch (err) {
      this.bad(`missing:${(err as NodeJS.ErrnoException).code ?? ''}`, (err as Error).message);
      return;
    }
    if (version === this.version) return;
    const r = readOffsetFile(this.file);
    if ('problem' in r) {
      this.bad(version, r.problem);
      return;
    }
    const from = this.offset;
    this.offset = r.offsetMs;
    this.version = r.version;
    if (from !== r.offsetMs)
      this.logger?.warn(
        { file: this.file, offsetMs: r.offsetMs, previousOffsetMs: from },
        'testing clock offset changed (--testing.clock-offset-file)',
      );
  }

  private bad(version: string, problem: string): void {
    if (version === this.version) return;
    this.version = version;
    this.logger?.warn(
      { file: this.file, problem, offsetMs: this.offset },
      'testing clock offset file unusable; keeping the last offset',
    );
  }
}

function fileVersion(file: string): string {
  const s = statSync(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

function readOffsetFile(file: string): { offsetMs: number; version: string } | { problem: string } {
  let version: string;
  let text: string;
  try {
    version = fileVersion(file);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `cannot read "${file}": ${(err as Error).message}` };
  }
  const r = parseClockOffset(text);
  return 'problem' in r ? { problem: `"${file}": ${r.problem}` } : { offsetMs: r.offsetMs, version };
}

/** `--testing.clock-offset-file` (sink): see OffsetFileClock. */
export const CLOCK_OFFSET_FLAG: FlagSpec = {
  name: 'testing.clock-offset-file',
  kind: 'string',
  default: '',
  testing: true,
  help: 'Testing aid, not for production: a file holding a whole number of milliseconds (e.g. 3600000 or -600000) added to the system clock wherever the sink (or hostscope maintain) takes the time of day (scrape timestamps, head partitions, late hours, closed hours of maintenance, retention); re-read when it changes (write it atomically, by renaming a temporary file over it), so a test can make the clock jump while the sink runs. Empty: the system clock.',
};

export function clockFlagProblems(f: FlagValues): string[] {
  const file = f.string(CLOCK_OFFSET_FLAG.name);
  if (file === '') return [];
  const r = readOffsetFile(file);
  return 'problem' in r
    ? [`--testing.clock-offset-file (env HOSTSCOPE_TESTING_CLOCK_OFFSET_FILE): ${r.problem}`]
    : [];
}

/** The sink's clock: the system clock, or an OffsetFileClock with --testing.clock-offset-file. */
export function clockFromFlags(f: FlagValues, logger?: Logger): Clock {
  const file = f.string(CLOCK_OFFSET_FLAG.name);
  if (file === '') return systemClock;
  const clock = OffsetFileClock.open(file, logger);
  logger?.warn(
    { file, offsetMs: clock.offsetMs },
    'the time of day is the system clock plus the offset in --testing.clock-offset-file (a testing aid)',
  );
  return clock;
}
