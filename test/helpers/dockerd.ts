import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commandSucceeds } from './services';

export interface PrivateDockerd {
  /** `unix:///tmp/hostscope-dockerd-XXXX/docker.sock` */
  readonly host: string;
  readonly dir: string;
  start(): Promise<void>;
  /** SIGTERM and wait for the daemon (and its managed containerd) to exit. */
  stop(): Promise<void>;
  /** Stops the daemon if running and deletes everything it stored. */
  destroy(): Promise<void>;
  /** The daemon's log so far (for failure messages). */
  log(): string;
}

export function hasDockerd(): boolean {
  return (
    commandSucceeds('sh', ['-c', 'command -v dockerd && command -v containerd']) &&
    typeof process.getuid === 'function' &&
    process.getuid() === 0
  );
}

/**
 * A throwaway Docker daemon for one test: its own socket, data root, exec root (with its own managed
 * containerd) and pidfile under a temp dir, no bridge and no iptables. Tests may stop and restart it at will
 * without disturbing the shared engine other test files use in parallel.
 */
export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  // Short base path: unix socket paths are limited to 107 bytes, containerd's nests a few levels deep.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-dockerd-'));
  const sock = path.join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let logText = '';
  let runs = 0;

  const ready = async (): Promise<void> => {
    for (let i = 0; i < 240; i++) {
      if (child?.exitCode !== null && child?.exitCode !== undefined) {
        throw new Error(`private dockerd exited with ${child.exitCode}:\n${logText.slice(-4000)}`);
      }
      if (commandSucceeds('docker', ['-H', host, 'version'], 5000)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`private dockerd did not answer within 60 s:\n${logText.slice(-4000)}`);
  };

  const daemon: PrivateDockerd = {
    host,
    dir,
    async start() {
      if (child !== undefined && child.exitCode === null) return;
      runs++;
      logText += `--- start ${runs}\n`;
      const c = spawn(
        'dockerd',
        [
          `--host=${host}`,
          `--data-root=${path.join(dir, 'data')}`,
          `--exec-root=${path.join(dir, 'exec')}`,
          `--pidfile=${path.join(dir, 'docker.pid')}`,
          '--iptables=false',
          '--ip-masq=false',
          '--bridge=none',
          '--shutdown-timeout=2',
          '--log-level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      c.stdout?.on('data', (b: Buffer) => (logText += b.toString()));
      c.stderr?.on('data', (b: Buffer) => (logText += b.toString()));
      child = c;
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      await ready();
    },
    async stop() {
      const c = child;
      if (c === undefined || c.exitCode !== null) return;
      c.kill('SIGTERM');
      const killed = setTimeout(() => c.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(killed);
      // The managed containerd exits with dockerd; wait until its socket is released.
      const pidfile = path.join(dir, 'exec', 'containerd', 'containerd.pid');
      for (let i = 0; i < 100 && existsSync(pidfile); i++) {
        const pid = Number(readFileSync(pidfile, 'utf8').trim());
        if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async destroy() {
      try {
        await daemon.stop();
      } finally {
        // Leftover mounts (a crashed daemon) would make the removal fail: unmount what is under dir.
        const mounts = readFileSync('/proc/self/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1] ?? '')
          .filter((m) => m.startsWith(`${dir}/`))
          .sort((a, b) => b.length - a.length);
        for (const m of mounts) spawnSync('umount', ['-l', m]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    log: () => logText,
  };
  await daemon.start();
  return daemon;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
