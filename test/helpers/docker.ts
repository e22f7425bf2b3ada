import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { commandSucceeds } from './services';

const run = promisify(execFile);

/** The image the Docker tests run: a static busybox in an otherwise empty rootfs, made with docker import. */
export const BUSYBOX_IMAGE = 'local/busybox';

/** Applets linked in the test image (busybox runs any other one as `busybox <applet>`). */
const APPLETS = ['sh', 'sleep', 'yes', 'cat', 'dd', 'head', 'timeout', 'kill', 'mkdir', 'rm', 'ls'];

/** The shared engine of the tests: DOCKER_HOST when set, else the default socket. */
export function sharedDockerHost(): string {
  const env = process.env.DOCKER_HOST?.trim() ?? '';
  return env !== '' ? env : 'unix:///var/run/docker.sock';
}

/** A statically linked busybox on this machine (Debian's busybox-static installs /bin/busybox). */
export function staticBusybox(): string | undefined {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(candidate)) continue;
    const ldd = spawnSync('ldd', [candidate], { encoding: 'utf8' });
    if (ldd.status !== 0 || /not a dynamic executable|statically linked/.test(`${ldd.stdout}${ldd.stderr}`)) {
      return candidate;
    }
  }
  return undefined;
}

/** True when the shared Docker Engine answers and a test image can be made. */
export function hasDocker(): boolean {
  return (
    commandSucceeds('docker', ['-H', sharedDockerHost(), 'version'], 15_000) &&
    (staticBusybox() !== undefined ||
      commandSucceeds('docker', ['-H', sharedDockerHost(), 'image', 'inspect', BUSYBOX_IMAGE]))
  );
}

/** Runs the docker CLI against an engine and returns its stdout (trimmed). */
export async function docker(args: readonly string[], host = sharedDockerHost()): Promise<string> {
  const { stdout } = await run('docker', ['-H', host, ...args], { timeout: 120_000, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** Makes sure the busybox test image exists on the engine, building it with `docker import` if needed. */
export async function ensureBusyboxImage(host = sharedDockerHost()): Promise<void> {
  if (commandSucceeds('docker', ['-H', host, 'image', 'inspect', BUSYBOX_IMAGE])) return;
  const busybox = staticBusybox();
  if (busybox === undefined) throw new Error('no static busybox found (install busybox-static)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-busybox-'));
  try {
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(busybox, path.join(dir, 'bin', 'busybox'));
    for (const applet of APPLETS) symlinkSync('busybox', path.join(dir, 'bin', applet));
    for (const d of ['tmp', 'proc', 'sys', 'dev', 'etc']) mkdirSync(path.join(dir, d));
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const imp = spawn('docker', ['-H', host, 'import', '-', BUSYBOX_IMAGE], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let err = '';
      imp.stderr.on('data', (c: Buffer) => (err += c.toString()));
      tar.stdout.pipe(imp.stdin);
      imp.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`docker import failed (${String(code)}): ${err}`)),
      );
      tar.once('error', reject);
      imp.once('error', reject);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestContainer {
  readonly id: string;
  readonly name: string;
}

/**
 * Containers of one test file: every one carries the label `hostscope.test=<run id>`, and cleanup() removes
 * all containers with it (also those a failed test left behind). Containers get `--network none` unless the
 * caller passes its own `--network`, and a 1 s stop timeout so daemon shutdowns stay quick.
 */
export class TestContainers {
  readonly runId = randomBytes(4).toString('hex');
  readonly label = `hostscope.test=${this.runId}`;

  constructor(readonly host = sharedDockerHost()) {}

  async run(name: string, args: readonly string[], cmd: readonly string[]): Promise<TestContainer> {
    const fullName = `hs-${this.runId}-${name}`;
    const network = args.some((a) => a.startsWith('--network')) ? [] : ['--network', 'none'];
    const id = await docker(
      [
        'run',
        '-d',
        '--name',
        fullName,
        '--label',
        this.label,
        '--stop-timeout',
        '1',
        ...network,
        ...args,
        BUSYBOX_IMAGE,
        ...cmd,
      ],
      this.host,
    );
    return { id, name: fullName };
  }

  async cleanup(): Promise<void> {
    const ids = (await docker(['ps', '-aq', '--filter', `label=${this.label}`], this.host).catch(() => ''))
      .split('\n')
      .filter((l) => l !== '');
    if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids], this.host).catch(() => '');
  }
}

/** GET /containers/{id}/stats?stream=false&one-shot=true through the docker CLI's engine. */
export async function statsApi(id: string, host = sharedDockerHost()): Promise<Record<string, unknown>> {
  const socket = host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
  if (socket === undefined) throw new Error(`statsApi needs a unix socket, got ${host}`);
  const { stdout } = await run(
    'curl',
    ['-sf', '--unix-socket', socket, `http://localhost/containers/${id}/stats?stream=false&one-shot=true`],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}
