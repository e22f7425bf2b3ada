import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startDaemon, type DaemonProcess } from './daemon';
import { REPO } from './prometheus';

export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
export const AMTOOL = '/usr/bin/amtool';
export const RENDER_SCRIPT = path.join(REPO, 'scripts/render-alertmanager.mjs');

export interface RenderResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs scripts/render-alertmanager.mjs with exactly `env` (plus PATH), so variables of the developer's
 * shell cannot leak into a test.
 */
export function renderAlertmanager(env: Record<string, string>, args: readonly string[] = []): RenderResult {
  const r = spawnSync(process.execPath, [RENDER_SCRIPT, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A directory holding a rendered alertmanager.yml next to a copy of alertmanager/templates/. */
export interface RenderedConfig {
  readonly dir: string;
  readonly file: string;
  remove(): void;
}

export function renderAlertmanagerConfig(env: Record<string, string>): RenderedConfig {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-am-config-'));
  const file = path.join(dir, 'alertmanager.yml');
  const r = renderAlertmanager(env, ['--out', file]);
  if (r.status !== 0) throw new Error(`render-alertmanager failed (${String(r.status)}): ${r.stderr}`);
  cpSync(path.join(REPO, 'alertmanager/templates'), path.join(dir, 'templates'), { recursive: true });
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type AlertmanagerProcess = DaemonProcess;

/** Starts the real Alertmanager (no clustering) with a temp storage dir on a free 127.0.0.1 port. */
export function startAlertmanager(configFile: string): Promise<AlertmanagerProcess> {
  return startDaemon({
    name: 'Alertmanager',
    command: ALERTMANAGER,
    args: (port, url, dataDir) => [
      `--config.file=${configFile}`,
      `--storage.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    readyPath: '/-/ready',
  });
}
