import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from './net';

export interface DaemonProcess {
  readonly pid: number | undefined;
  readonly port: number;
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

export interface DaemonSpec {
  /** For messages, e.g. "Prometheus". */
  readonly name: string;
  readonly command: string;
  /** Arguments, given the free port, the daemon's URL and a fresh temporary data directory. */
  args(port: number, url: string, dataDir: string): string[];
  /** Path answering 200 once the daemon is ready, e.g. `/-/ready`. */
  readonly readyPath: string;
  /** Polls the ready path until it answers 200, failing with the daemon's output after this long. */
  readonly timeoutMs?: number;
}

/**
 * Starts a real daemon (Prometheus, Alertmanager) on a free 127.0.0.1 port with a temporary data
 * directory, waits until it is ready, and stops it (SIGTERM, then removes the directory).
 */
export async function startDaemon(spec: DaemonSpec): Promise<DaemonProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), `hostscope-${spec.name.toLowerCase()}-`));
  const child = spawn(spec.command, spec.args(port, url, dataDir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: DaemonProcess = {
    pid: child.pid,
    port,
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (spec.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      await proc.stop();
      throw new Error(`${spec.name} exited with ${child.exitCode}:\n${out}`);
    }
    try {
      if ((await fetch(`${url}${spec.readyPath}`)).ok) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${spec.name} was not ready within ${spec.timeoutMs ?? 30_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
