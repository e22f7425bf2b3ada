import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type DaemonProcess } from './daemon';
import { freePort } from './net';

export { freePort };

export const REPO = path.join(__dirname, '../..');
export const PROMETHEUS_DIR = path.join(REPO, 'prometheus');
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs a command to completion; output is stdout + stderr (promtool prints failures on both). */
export function run(cmd: string, args: readonly string[], cwd = REPO): CommandResult {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export function listYaml(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  diagnostics: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${lastError}\n${diagnostics()}`);
}

/** One alert (or recording) rule as written in a rule file. */
export interface RuleEntry {
  readonly kind: 'alert' | 'record';
  readonly name: string;
  readonly file: string;
  /** The rule's own lines, for field checks. */
  readonly text: string;
}

/**
 * Splits the project's rule files into rules. The files are prettier-formatted YAML in one shape
 * (groups -> rules -> `- alert:` / `- record:` items), so a line scan is exact for them; a rule the scan
 * does not understand fails the field checks rather than passing silently.
 */
export function readRules(files: readonly string[]): RuleEntry[] {
  const out: RuleEntry[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let current: { kind: 'alert' | 'record'; name: string; indent: number; lines: string[] } | undefined;
    const flush = (): void => {
      if (current !== undefined)
        out.push({ kind: current.kind, name: current.name, file, text: current.lines.join('\n') });
      current = undefined;
    };
    for (const line of lines) {
      const m = /^(\s*)- (alert|record): (\S+)\s*$/.exec(line);
      if (m !== null) {
        flush();
        const [, indent = '', kind = '', name = ''] = m;
        current = { kind: kind === 'alert' ? 'alert' : 'record', name, indent: indent.length, lines: [line] };
        continue;
      }
      if (current === undefined) continue;
      const indent = /^(\s*)\S/.exec(line)?.[1]?.length;
      if (indent !== undefined && indent <= current.indent && !line.trim().startsWith('#')) flush();
      else current.lines.push(line);
    }
    flush();
  }
  return out;
}

/** What a promtool test file asserts about one alert at one evaluation time. */
export interface AlertCase {
  readonly file: string;
  readonly alertname: string;
  readonly fires: boolean;
}

/**
 * Finds every `alertname:` of the alert_rule_test entries and whether its `exp_alerts` is empty (the
 * alert must not fire) or not. promtool itself checks that the expectations hold.
 */
export function readAlertCases(files: readonly string[]): AlertCase[] {
  const out: AlertCase[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^\s*alertname: (\S+)\s*$/.exec(line);
      if (m === null) return;
      const next = lines.slice(i + 1).find((l) => /^\s*exp_alerts:/.test(l));
      if (next === undefined) throw new Error(`${file}: no exp_alerts after alertname ${m[1] ?? ''}`);
      out.push({ file, alertname: m[1] ?? '', fires: !/exp_alerts:\s*\[\]\s*$/.test(next) });
    });
  }
  return out;
}

export type PrometheusProcess = DaemonProcess;

/** Starts the real Prometheus with a config file, a temp TSDB, on a free 127.0.0.1 port. */
export function startPrometheus(configFile: string): Promise<PrometheusProcess> {
  return startDaemon({
    name: 'Prometheus',
    command: PROMETHEUS,
    args: (port, _url, dataDir) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    readyPath: '/-/ready',
  });
}
