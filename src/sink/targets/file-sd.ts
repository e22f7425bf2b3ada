import { watch, readdirSync, readFileSync, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe } from '../../errors';
import type { Logger } from '../../log/logger';
import { MetricSet } from '../../metrics/metric-set';
import type { MetricFamily } from '../../metrics/types';
import { parseFileSd } from './file-sd.parse';
import type { TargetSet } from './target-set';

/**
 * A --scrape.file-sd value as Prometheus' file_sd_configs `files` accepts it: a path ending in .json, .yml
 * or .yaml, with at most one `*` in its last element (discovery/file/file.go, patFileSDName).
 */
const PATTERN = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

/** Delay between a file system event and the read it causes (an editor's save is several events). */
const SETTLE_MS = 100;

interface Pattern {
  /** As given, resolved against the working directory. */
  readonly text: string;
  readonly dir: string;
  /** For a glob: matches the names in `dir`; undefined for a plain path. */
  readonly glob?: RegExp;
}

function compile(text: string): Pattern {
  const abs = path.resolve(text);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  if (!base.includes('*')) return { text: abs, dir };
  const source = base
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { text: abs, dir, glob: new RegExp(`^${source}$`) };
}

/** What is wrong with a --scrape.file-sd value's form, or undefined. */
export function patternProblem(text: string): string | undefined {
  return PATTERN.test(text)
    ? undefined
    : `"${text}": a file_sd path ends in .json, .yml or .yaml and may have one * in its file name`;
}

function listSync(p: Pattern): string[] {
  if (p.glob === undefined) return [p.text];
  const glob = p.glob;
  return readdirSync(p.dir)
    .filter((name) => glob.test(name))
    .sort()
    .map((name) => path.join(p.dir, name));
}

async function list(p: Pattern): Promise<string[]> {
  if (p.glob === undefined) return [p.text];
  const glob = p.glob;
  return (await readdir(p.dir))
    .filter((name) => glob.test(name))
    .sort()
    .map((name) => path.join(p.dir, name));
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Checks the --scrape.file-sd values as the sink starts: each must have a file_sd name, a plain path must
 * exist, a glob's directory must exist (it may match nothing yet), and every file must parse. Returns
 * every problem, each naming its file.
 */
export function checkFileSd(values: readonly string[], job: string): string[] {
  const problems: string[] = [];
  for (const value of values) {
    const bad = patternProblem(value);
    if (bad !== undefined) {
      problems.push(bad);
      continue;
    }
    const p = compile(value);
    let files: string[];
    try {
      files = listSync(p);
    } catch (err) {
      problems.push(`"${value}": cannot list ${p.dir}: ${describe(err)}`);
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        problems.push(`${file}: cannot read it: ${describe(err)}`);
        continue;
      }
      const r = parseFileSd(text, { job, file });
      if (!r.ok) for (const problem of r.problems) problems.push(`${file}: ${problem}`);
    }
  }
  return problems;
}

/** What was last read of one file. */
interface FileState {
  text?: string;
  valid: boolean;
}

/**
 * Prometheus' file-based service discovery for the sink: reads the --scrape.file-sd files (and the files
 * their globs match) into the TargetSet, then re-reads them when their directory reports a change
 * (fs.watch) and every --scrape.file-sd.refresh-interval in any case (fs.watch misses changes on some
 * file systems, e.g. NFS, and a directory may not exist yet).
 *
 * A file that becomes invalid, or a plain path that disappears, keeps its last good targets, and says so
 * in one log line per change (and in hostscope_sink_file_sd_read_errors_total at every read). A file a
 * glob no longer matches is gone, and its targets with it: removing a file from a directory is how one
 * removes its targets.
 */
export class FileSd {
  private readonly patterns: readonly Pattern[];
  private readonly states = new Map<string, FileState>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly unwatchable = new Set<string>();
  /** Per file (or pattern), the problem last logged: one that persists is logged once, not at every read. */
  private readonly reported = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  readErrors = 0;

  constructor(
    values: readonly string[],
    private readonly options: {
      readonly job: string;
      readonly refreshIntervalMs: number;
      /** false: no fs.watch, the periodic re-read only (as on a file system without change events). */
      readonly watch?: boolean;
    },
    private readonly set: TargetSet,
    private readonly logger: Logger,
  ) {
    this.patterns = values.map(compile);
  }

  /** Reads every file now, synchronously; returns every problem (the start then fails with them). */
  loadInitial(): string[] {
    const problems: string[] = [];
    for (const p of this.patterns) {
      let files: string[];
      try {
        files = listSync(p);
      } catch (err) {
        problems.push(`"${p.text}": cannot list ${p.dir}: ${describe(err)}`);
        continue;
      }
      if (p.glob !== undefined && files.length === 0)
        this.logger.warn({ pattern: p.text }, 'file_sd pattern matches no file yet');
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          problems.push(`${file}: cannot read it: ${describe(err)}`);
          continue;
        }
        const r = parseFileSd(text, { job: this.options.job, file });
        if (!r.ok) {
          for (const problem of r.problems) problems.push(`${file}: ${problem}`);
          continue;
        }
        this.states.set(file, { text, valid: true });
        this.set.setFile(file, r.value, { quiet: true });
      }
    }
    return problems;
  }

  /** Starts watching the files' directories and the periodic re-read. */
  start(): void {
    const watching = this.options.watch !== false;
    if (watching) this.watchAll();
    this.timer = setInterval(() => {
      if (watching) this.watchAll();
      void this.refresh();
    }, this.options.refreshIntervalMs);
    this.timer.unref();
  }

  /** Watches each directory not watched yet; one that cannot be watched is read by the timer only. */
  private watchAll(): void {
    for (const dir of new Set(this.patterns.map((p) => p.dir))) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.onEvent());
        w.on('error', (err) => {
          this.logger.warn(
            { dir, err: { message: describe(err) } },
            'file_sd: watching the directory failed; re-reading every --scrape.file-sd.refresh-interval',
          );
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
        this.unwatchable.delete(dir);
      } catch (err) {
        if (!this.unwatchable.has(dir))
          this.logger.warn(
            { dir, err: { message: describe(err) } },
            'file_sd: cannot watch the directory; re-reading every --scrape.file-sd.refresh-interval',
          );
        this.unwatchable.add(dir);
      }
    }
  }

  /**
   * Any event in a watched directory leads to a read (SETTLE_MS later), not only events naming a
   * file_sd file: a Kubernetes ConfigMap volume, for one, changes its files by swapping a `..data`
   * symlink, and the files themselves report nothing. Files whose text did not change cost a read only.
   */
  private onEvent(): void {
    // The first event schedules the read; later ones ride on it (a busy directory cannot postpone it).
    if (this.stopped || this.settle !== undefined) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      void this.refresh();
    }, SETTLE_MS);
    this.settle.unref();
  }

  /** Re-reads every file; single-flight (a change during a read causes one more read). */
  refresh(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.readAll();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async readAll(): Promise<void> {
    const seen = new Set<string>();
    for (const p of this.patterns) {
      let files: string[];
      try {
        files = await list(p);
      } catch (err) {
        // The directory is unreadable or gone: nothing is known to have changed, keep its files' targets.
        this.readErrors++;
        for (const file of this.states.keys()) if (path.dirname(file) === p.dir) seen.add(file);
        this.report(
          p.text,
          `cannot list ${p.dir}: ${describe(err)}`,
          'file_sd: cannot list the directory; keeping the last good targets of its files',
        );
        continue;
      }
      // Only a glob is listed (a plain path is its own list); its key has a * no file path has here.
      if (p.glob !== undefined) this.reported.delete(p.text);
      for (const file of files) {
        seen.add(file);
        await this.readOne(file, p.glob !== undefined);
      }
    }
    // Files a glob matched before and matches no more: gone, with their targets.
    for (const file of [...this.states.keys()]) {
      if (seen.has(file)) continue;
      this.states.delete(file);
      this.reported.delete(file);
      this.set.setFile(file, undefined);
    }
  }

  private async readOne(file: string, fromGlob: boolean): Promise<void> {
    const state = this.states.get(file) ?? { valid: false };
    this.states.set(file, state);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (fromGlob && isMissing(err)) {
        // Listed a moment ago, deleted since: the next read finds it gone.
        this.again = true;
        return;
      }
      this.readErrors++;
      state.valid = false;
      state.text = undefined;
      this.report(
        file,
        `cannot read it: ${describe(err)}`,
        'file_sd: cannot read the file; keeping its last good targets',
      );
      return;
    }
    if (state.valid && state.text === text) return;
    state.text = text;
    const r = parseFileSd(text, { job: this.options.job, file });
    if (!r.ok) {
      this.readErrors++;
      state.valid = false;
      this.report(
        file,
        r.problems.join('; '),
        'file_sd: invalid file; keeping its last good targets',
        r.problems,
      );
      return;
    }
    state.valid = true;
    if (this.reported.delete(file)) this.logger.info({ file }, 'file_sd: the file is good again');
    this.set.setFile(file, r.value);
  }

  /** Logs a file's problem once, until it changes or goes away. */
  private report(file: string, problem: string, message: string, problems?: readonly string[]): void {
    if (this.reported.get(file) === problem) return;
    this.reported.set(file, problem);
    this.logger.error({ file, problems: problems ?? [problem] }, message);
  }

  /** Stops watching and the timer, and waits for a read under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.settle !== undefined) clearTimeout(this.settle);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.running;
  }

  /** Whether each file's last read was good (1) or not (0, its last good targets kept), and the read errors. */
  families(): MetricFamily[] {
    return fileSdFamilies(
      this.readErrors,
      [...this.states].map(([file, state]) => [file, state.valid]),
    );
  }
}

/** The file_sd families of the sink's /metrics: read errors, and each file's state. */
export function fileSdFamilies(
  readErrors: number,
  files: readonly (readonly [string, boolean])[],
): MetricFamily[] {
  const set = new MetricSet();
  set.counter(
    'hostscope_sink_file_sd_read_errors_total',
    'Reads of --scrape.file-sd files (or their directories) that failed or found an invalid file; the last good targets were kept.',
    readErrors,
  );
  for (const [file, valid] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    set.gauge(
      'hostscope_sink_file_sd_file_valid',
      'Whether the last read of a --scrape.file-sd file was good (1) or not (0: its last good targets are scraped).',
      valid ? 1 : 0,
      { file },
    );
  return set.families();
}
