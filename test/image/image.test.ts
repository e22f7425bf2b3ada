import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, REPO, waitFor } from '../helpers/prometheus';
import { commandSucceeds, describeWithService, hasBinary } from '../helpers/services';

/*
 * Builds the project's Dockerfile against a Debian base made here (debootstrap minbase + this machine's
 * Node.js 20, the stand-in for node:20-bookworm-slim, which cannot be pulled here), behind this
 * machine's TLS-intercepting egress (its CA passed as EXTRA_CA_CERT), then runs the image the way
 * docker-compose.yml does and checks it reports the host, not the container.
 */

const BASE = 'local/hostscope-base:bookworm-node20';
const IMAGE = 'hostscope:image-test';
const LOCAL_CA_DIR = '/usr/local/share/ca-certificates';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: readonly string[], timeoutMs = 120_000, input?: string): Result {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    input,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(cmd: string, args: readonly string[], timeoutMs?: number): string {
  const r = sh(cmd, args, timeoutMs);
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${String(r.status)}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`,
    );
  return r.stdout;
}

/** The CAs this machine added to its trust store (Debian's place for local CAs), as PEM text. */
function localCaCerts(): string {
  if (!existsSync(LOCAL_CA_DIR)) return '';
  return readdirSync(LOCAL_CA_DIR)
    .filter((f) => f.endsWith('.crt'))
    .map((f) => readFileSync(path.join(LOCAL_CA_DIR, f), 'utf8').trim())
    .join('\n');
}

/** debootstrap minbase bookworm + this Node.js and its npm, imported as BASE (once per machine). */
function ensureBaseImage(): void {
  if (sh('docker', ['image', 'inspect', BASE]).status === 0) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-rootfs-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    must('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian'], 600_000);
    const npmDir = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
    must('cp', [process.execPath, path.join(rootfs, 'usr/bin/node')]);
    must('mkdir', ['-p', path.join(rootfs, 'usr/lib/node_modules')]);
    must('cp', ['-a', npmDir, path.join(rootfs, 'usr/lib/node_modules/npm')]);
    must('ln', ['-sf', '../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/bin/npm')]);
    must('sh', ['-c', `tar -C '${rootfs}' -c . | docker import - ${BASE}`], 600_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * docker-compose.yml mounts / with rslave propagation (so filesystems mounted later appear). Docker
 * refuses that when the host's / is a private mount, as it is in some sandboxes; then the test mounts it
 * without propagation, which shows the same filesystems as long as nothing is mounted meanwhile.
 */
function rootMountOptions(): string {
  const root = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === '/');
  return root !== undefined && /\s(shared|master):\d+/.test(root) ? 'ro,rslave' : 'ro';
}

/** docker-compose.yml's hardening of every hostscope service (test/bundle/compose.test.ts checks it is there). */
const HARDENED = ['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true'];

const available = (): boolean =>
  hasBinary('docker') && hasBinary('debootstrap') && commandSucceeds('docker', ['version'], 20_000);

describeWithService('Docker Engine and debootstrap', available, 'Docker image', () => {
  let container = '';
  let port = 0;

  beforeAll(() => {
    ensureBaseImage();
    must(
      'docker',
      [
        'build',
        '--network',
        'host',
        '--build-arg',
        `BASE_IMAGE=${BASE}`,
        '--build-arg',
        `EXTRA_CA_CERT=${localCaCerts()}`,
        '-t',
        IMAGE,
        REPO,
      ],
      900_000,
    );
  }, 1_200_000);

  afterAll(() => {
    if (container !== '') sh('docker', ['rm', '-f', container]);
  });

  it('runs as a non-root user and carries only dist/ and the production dependencies', () => {
    expect(must('docker', ['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]).trim()).toBe(
      '10001:10001',
    );
    const ls = sh('docker', [
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      IMAGE,
      '-c',
      'ls /app; ls /app/node_modules',
    ]);
    expect(ls.status).toBe(0);
    expect(ls.stdout).toMatch(/^dist$/m);
    expect(ls.stdout).not.toMatch(/^(src|test)$/m);
    expect(ls.stdout).not.toMatch(/^(typescript|jest|eslint|ts-jest)$/m);
    expect(ls.stdout).toMatch(/^express$/m);
    const size = Number(must('docker', ['image', 'inspect', '--format', '{{.Size}}', IMAGE]).trim());
    // The base (Debian + Node.js, about 300 MB here) plus about 70 MB of production dependencies.
    expect(size).toBeLessThan(500 * 1024 * 1024);
  });

  it('runs the sink and the Alertmanager config renderer hardened as compose does', async () => {
    const volume = `hostscope-image-test-${process.pid}`;
    const sinkPort = await freePort();
    let sink = '';
    try {
      // The renderer writes the config into a named volume, on a read-only root.
      const render = sh('docker', [
        'run',
        '--rm',
        ...HARDENED,
        '-v',
        `${volume}:/var/lib/hostscope/alertmanager`,
        '-e',
        'SMTP_HOST=mail.example.com',
        '-e',
        'SMTP_FROM=alerts@example.com',
        '-e',
        'ALERT_EMAIL_TO=ops@example.com',
        '-e',
        'HOSTSCOPE_ALERT_WEBHOOK_URL=http://sink:9101/api/v1/alertmanager',
        '--entrypoint',
        'node',
        IMAGE,
        '/app/scripts/render-alertmanager.mjs',
        '--template=/app/alertmanager/alertmanager.yml.tmpl',
        '--out=/var/lib/hostscope/alertmanager/alertmanager.yml',
      ]);
      expect(render.stderr).toContain('wrote /var/lib/hostscope/alertmanager/alertmanager.yml');
      expect(render.status).toBe(0);
      // The sink, its buffer on a named volume (PostgreSQL away: it buffers), serves /health.
      sink = must('docker', [
        'run',
        '-d',
        ...HARDENED,
        '--network',
        'host',
        '-v',
        `${volume}-buffer:/var/lib/hostscope/buffer`,
        '-e',
        'DATABASE_URL=postgres://hostscope@127.0.0.1:1/hostscope',
        IMAGE,
        'sink',
        '--scrape.target=',
        '--web.enable-alertmanager-webhook',
        '--buffer.dir=/var/lib/hostscope/buffer',
        `--web.listen-address=127.0.0.1:${sinkPort}`,
      ]).trim();
      await waitFor(
        'the hardened sink to answer /health',
        async () => ((await fetch(`http://127.0.0.1:${sinkPort}/health`)).ok ? true : undefined),
        60_000,
        () => sh('docker', ['logs', '--tail', '50', sink]).stdout,
      );
      expect(must('docker', ['inspect', '--format', '{{.State.Running}}', sink]).trim()).toBe('true');
    } finally {
      if (sink !== '') sh('docker', ['rm', '-f', sink]);
      sh('docker', ['volume', 'rm', '-f', volume, `${volume}-buffer`]);
    }
  }, 120_000);

  it('runs with the compose mounts, hardened, and serves the host metrics, not the container ones', async () => {
    port = await freePort();
    const dockerGid = String(statSync('/var/run/docker.sock').gid);
    container = must('docker', [
      'run',
      '-d',
      ...HARDENED,
      '--tmpfs',
      '/tmp',
      '--pid',
      'host',
      '--network',
      'host',
      '--group-add',
      dockerGid,
      '-v',
      `/:/host:${rootMountOptions()}`,
      '-v',
      '/var/run/docker.sock:/var/run/docker.sock:ro',
      '-e',
      `HOSTSCOPE_HEALTHCHECK_URL=http://127.0.0.1:${port}/health`,
      IMAGE,
      'exporter',
      '--path.rootfs=/host',
      `--web.listen-address=127.0.0.1:${port}`,
    ]).trim();
    const logs = (): string => {
      const r = sh('docker', ['logs', '--tail', '50', container]);
      return r.stdout + r.stderr;
    };
    const metrics = await waitFor(
      'the containerised exporter to serve /metrics',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        return res.ok ? res.text() : undefined;
      },
      60_000,
      logs,
    );
    const value = (re: RegExp): number | undefined => {
      const m = re.exec(metrics);
      return m?.[1] === undefined ? undefined : Number(m[1]);
    };

    // The host's root filesystem (seen through /host), not the container's overlay root.
    const hostRoot = statfsSync('/');
    const rootSize = value(/^node_filesystem_size_bytes\{[^}]*mountpoint="\/"[^}]*\} (\S+)$/m);
    expect(rootSize).toBe(hostRoot.blocks * hostRoot.bsize);
    expect(metrics).not.toMatch(/mountpoint="\/host/);
    expect(metrics).not.toMatch(/^node_filesystem_size_bytes\{[^}]*fstype="overlay"[^}]*mountpoint="\/"/m);
    // Every other disk filesystem of the host (e.g. /var/lib/docker) with the host's size: a path that
    // is no mount point inside the container.
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => ({ mountpoint: l.split(' ')[4] ?? '', fstype: l.split(' - ')[1]?.split(' ')[0] ?? '' }))
      .filter(
        (m) =>
          /^(ext[234]|xfs|btrfs)$/.test(m.fstype) && m.mountpoint !== '/' && !m.mountpoint.includes('\\'),
      );
    for (const m of hostMounts) {
      const st = statfsSync(m.mountpoint);
      const re = new RegExp(
        `^node_filesystem_size_bytes\\{[^}]*mountpoint="${m.mountpoint}"[^}]*\\} (\\S+)$`,
        'm',
      );
      expect([m.mountpoint, value(re)]).toEqual([m.mountpoint, st.blocks * st.bsize]);
    }
    // The host's name, CPUs and memory.
    expect(metrics).toMatch(new RegExp(`^node_uname_info\\{[^}]*nodename="${hostname()}"`, 'm'));
    const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
    expect(value(/^node_memory_MemTotal_bytes (\S+)$/m)).toBe(memTotal);
    // The host's Docker Engine through the read-only socket, as the unprivileged user.
    expect(value(/^hostscope_docker_up (\S+)$/m)).toBe(1);

    // The image's HEALTHCHECK (node, no curl) reports healthy.
    await waitFor(
      'the HEALTHCHECK to report healthy',
      async () => {
        const s = must('docker', ['inspect', '--format', '{{.State.Health.Status}}', container]).trim();
        if (s === 'unhealthy') throw new Error('unhealthy');
        return s === 'healthy' ? s : undefined;
      },
      120_000,
      logs,
    );
  }, 240_000);
});
