// Shared helpers of the stress suite (scripts/stress/run.mjs): processes, a replay target server (run as a
// child: `node lib.mjs --replay <count>`), a private Docker daemon, SQL checks, figures and verdicts.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { setInterval, clearInterval } from 'node:timers';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  cpuMs,
  firstLine,
  freePort,
  NODE_ENV_VARS,
  NODE_FLAGS,
  rssMb,
  sleep,
  spawnChild,
  waitForHttp,
} from '../bench-lib.mjs';

const LIB = fileURLToPath(import.meta.url);
export const ROOT = path.join(path.dirname(LIB), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'storage', 'exporter-15s.prom.gz');

/** A scenario's outcome: what was checked, its figures (label -> value) and the verdict with its reason. */
export function verdict(name, checked, figures, failures, notes = []) {
  return {
    name,
    checked,
    figures,
    notes,
    pass: failures.length === 0,
    reason: failures.length === 0 ? 'all checks held' : failures.join('; '),
  };
}

export const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : String(n));
export const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : String(n));

/** Least-squares slope of ys over xs. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Least-squares slope of ys over xs with a second regressor ks held constant: the coefficient of xs in
 * ys = a + b·xs + c·ks. The soak's open fds follow the number of running containers, which the churn moves
 * either way; this is their drift with that number taken out. Equals slope() when ks does not vary.
 */
export function partialSlope(xs, ks, ys) {
  const n = xs.length;
  if (n < 3) return NaN;
  const mean = (v) => v.reduce((a, b) => a + b, 0) / n;
  const [mx, mk, my] = [mean(xs), mean(ks), mean(ys)];
  let sxx = 0;
  let skk = 0;
  let sxk = 0;
  let sxy = 0;
  let sky = 0;
  for (let i = 0; i < n; i++) {
    const [x, k, y] = [xs[i] - mx, ks[i] - mk, ys[i] - my];
    sxx += x * x;
    skk += k * k;
    sxk += x * k;
    sxy += x * y;
    sky += k * y;
  }
  const det = sxx * skk - sxk * sxk;
  // det is 0 when ks does not vary (then sxk is 0 too) or moves in step with xs.
  if (det === 0) return slope(xs, ys);
  return (sxy * skk - sky * sxk) / det;
}

export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Samples RSS (MB) and CPU of a pid every `everyMs` until stop(); returns peak, last and CPU % of one core. */
export function watchProcess(pid, everyMs = 500) {
  const t0 = Date.now();
  const cpu0 = cpuMs(pid);
  const rss = [];
  const timer = setInterval(() => {
    try {
      rss.push(rssMb(pid));
    } catch {
      // exited
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      let cpu = NaN;
      try {
        cpu = ((cpuMs(pid) - cpu0) / (Date.now() - t0)) * 100;
      } catch {
        // exited
      }
      return { rssPeak: Math.max(...rss), rssLast: rss.at(-1) ?? NaN, cpuPercent: cpu };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Processes.

/** `hostscope exporter` on a free port with the production node flags; resolves { child, url, port, stop }. */
export async function startExporter(extra = [], env = {}) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, CLI, 'exporter', `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...NODE_ENV_VARS, ...env } },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitForHttp(url, 30_000);
  return { child, url, port, stderr: () => stderr, stop: () => stopChild(child) };
}

/** node_exporter 1.5 with upstream's defaults (Debian's package patches these two). */
export async function startNodeExporter() {
  const port = await freePort();
  const child = spawn(
    'prometheus-node-exporter',
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.netdev.device-exclude=',
      '--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitForHttp(url, 30_000);
  return { child, url, port, stop: () => stopChild(child) };
}

export async function stopChild(child, signal = 'SIGTERM', timeoutMs = 40_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([exited, sleep(timeoutMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

export function migrate(dbUrl) {
  execFileSync(process.execPath, [CLI, 'migrate', `--database.url=${dbUrl}`, '--log.level=warn'], {
    stdio: 'inherit',
  });
}

/** A fresh database on the private cluster, migrated; returns its URL. */
export async function freshDatabase(admin, clusterUrl, name) {
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = clusterUrl.replace(/\/postgres$/, `/${name}`);
  migrate(url);
  return url;
}

/**
 * A long-lived sink: resolves { child, proc, port, bufferDir, stop, kill, counters() }. `bufferDir` may be
 * given (a tmpfs for the disk-full fault; a kept directory across a restart).
 */
export async function startSink({ dbUrl, targets = [], fileSd, interval = '1s', bufferDir, extra = [] }) {
  const port = await freePort();
  const dir = bufferDir ?? mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-buffer-'));
  const args = [
    ...NODE_FLAGS,
    CLI,
    'sink',
    ...(targets.length === 0 && fileSd === undefined ? ['--scrape.target='] : []),
    ...targets.map((u) => `--scrape.target=${u}`),
    ...(fileSd === undefined ? [] : [`--scrape.file-sd=${fileSd}`]),
    `--scrape.interval=${interval}`,
    `--database.url=${dbUrl}`,
    '--maintain.schedule=',
    '--log.level=info',
    `--buffer.dir=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...extra,
  ];
  const proc = spawnChild(args, { env: { ...process.env, ...NODE_ENV_VARS }, cwd: ROOT });
  const child = proc.child;
  await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000);
  return {
    child,
    proc,
    port,
    bufferDir: dir,
    counters: () => sinkMetrics(port),
    stop: () => stopChild(child),
    removeBuffer: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The totals a stopped sink logs last ("stopped": samples written, scrapes and failed scrapes, samples
 * dropped by reason): exact, where /metrics read before the stop can miss a last round.
 */
export function stoppedTotals(proc) {
  for (let i = proc.lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(proc.lines[i]);
      if (typeof o.msg === 'string' && o.msg.startsWith('stopped') && o.dropped !== undefined) return o;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/** The sink's own counters (all series of each family summed, dropped by reason). */
export async function sinkMetrics(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const sum = (name, labelRe = '') => {
    const re = new RegExp(`^${name}(?:\\{[^}]*${labelRe}[^}]*\\})? (\\S+)$`, 'gm');
    let s = 0;
    for (const m of text.matchAll(re)) s += Number(m[1]);
    return s;
  };
  return {
    written: sum('hostscope_sink_samples_written_total'),
    scrapes: sum('hostscope_sink_scrapes_total'),
    scrapeFailures: sum('hostscope_sink_scrape_failures_total'),
    writeFailures: sum('hostscope_sink_write_failures_total'),
    buffered: sum('hostscope_sink_buffer_samples'),
    bufferBytes: sum('hostscope_sink_buffer_bytes'),
    dropped: sum('hostscope_sink_samples_dropped_total'),
    droppedFull: sum('hostscope_sink_samples_dropped_total', 'reason="buffer_full"'),
    droppedWriteFailed: sum('hostscope_sink_samples_dropped_total', 'reason="buffer_write_failed"'),
    skippedOverrun: sum('hostscope_sink_scrape_rounds_skipped_total', 'reason="overrun"'),
    skippedBacklog: sum('hostscope_sink_scrape_rounds_skipped_total', 'reason="backlog"'),
    skippedLate: sum('hostscope_sink_scrape_rounds_skipped_total', 'reason="late"'),
    clockJumps: sum('hostscope_sink_clock_jumps_total'),
    maintenanceRuns: sum('hostscope_sink_maintenance_runs_total'),
    maintenanceFailures: sum('hostscope_sink_maintenance_failures_total'),
  };
}

// ---------------------------------------------------------------------------------------------------
// Replay targets: recorded exporter bodies (test/fixtures/storage), one port per target.

/** The first `n` recorded scrapes of the fixture, without their timestamps (the scraper stamps them). */
export function recordedBodies(n = 4) {
  const text = gunzipSync(readFileSync(FIXTURE)).toString();
  const out = [];
  let cur = [];
  let curTs;
  let headers = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      headers.push(line);
      continue;
    }
    const sp = line.lastIndexOf(' ');
    const ts = line.slice(sp + 1);
    if (curTs !== undefined && ts !== curTs) {
      // A new scrape begins with the first sample whose time differs (its headers were read already).
      const pending = headers;
      headers = [];
      out.push(cur.join('\n') + '\n');
      if (out.length === n) break;
      cur = [];
      cur.push(...pending);
    } else {
      cur.push(...headers);
      headers = [];
    }
    curTs = ts;
    cur.push(line.slice(0, sp));
  }
  if (out.length < n && cur.length > 0) out.push(cur.join('\n') + '\n');
  return out;
}

/** Child: serves the recorded bodies on `count` ports; counts requests per port; prints ports as JSON. */
async function serveReplay(count) {
  const bodies = recordedBodies(4).map((b) => Buffer.from(b));
  const samples = bodies[0]
    .toString()
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#')).length;
  const ports = [];
  const served = [];
  const requests = [];
  for (let t = 0; t < count; t++) {
    let i = 0;
    served.push(0);
    const server = createServer((req, res) => {
      const start = Date.now();
      const body = bodies[i++ % bodies.length];
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Length': body.length });
      res.end(body, () => {
        served[t]++;
        requests.push([start, Date.now()]);
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push(server.address().port);
  }
  process.stdout.write(`${JSON.stringify({ ports, samples, bytes: bodies[0].length })}\n`);
  process.stdin.setEncoding('utf8');
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d;
    let k;
    while ((k = buf.indexOf('\n')) >= 0) {
      const cmd = buf.slice(0, k);
      buf = buf.slice(k + 1);
      if (cmd === 'stats') process.stdout.write(`${JSON.stringify({ served, requests })}\n`);
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

/** Starts the replay server child; resolves { ports, samples, addresses, stats(), stop() }. */
export async function startReplay(count) {
  const proc = spawnChild([LIB, '--replay', String(count)]);
  const first = await firstLine(proc, 60_000);
  return {
    ...first,
    addresses: first.ports.map((p) => `127.0.0.1:${p}`),
    urls: first.ports.map((p) => `http://127.0.0.1:${p}/metrics`),
    async stats() {
      const n = proc.lines.length;
      proc.child.stdin.write('stats\n');
      while (proc.lines.length === n) await sleep(20);
      return JSON.parse(proc.lines[n]);
    },
    async stop() {
      proc.child.stdin.end();
      await Promise.race([proc.exited, sleep(2000)]);
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// A private Docker daemon (as test/helpers/dockerd.ts starts one), never the shared engine.

export function hasDockerd() {
  return spawnSync('sh', ['-c', 'command -v dockerd && command -v containerd']).status === 0;
}

export async function privateDockerd() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-stress-dockerd-'));
  const host = `unix://${path.join(dir, 'docker.sock')}`;
  let child;
  const docker = (args, opts = {}) =>
    spawnSync('docker', ['-H', host, ...args], { encoding: 'utf8', timeout: 60_000, ...opts });
  /** The docker CLI without blocking the event loop: resolves { status, stdout }. */
  const dockerAsync = (args) =>
    new Promise((resolve) =>
      execFile('docker', ['-H', host, ...args], { timeout: 60_000 }, (err, stdout) =>
        resolve({ status: err ? 1 : 0, stdout }),
      ),
    );
  const d = {
    host,
    dir,
    docker,
    dockerAsync,
    async start() {
      child = spawn(
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
          '--log-level=error',
        ],
        { stdio: 'ignore' },
      );
      for (let i = 0; i < 240; i++) {
        if (child.exitCode !== null) throw new Error(`private dockerd exited with ${child.exitCode}`);
        if (docker(['version'], { timeout: 5000 }).status === 0) return;
        await sleep(250);
      }
      throw new Error('private dockerd did not answer within 60 s');
    },
    get pid() {
      return child?.pid;
    },
    /** SIGKILL of dockerd alone (its containerd and shims live on, as after a crash). */
    async kill() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      spawnSync('sh', ['-c', `docker -H ${host} ps -aq | xargs -r docker -H ${host} rm -f`], {
        timeout: 120_000,
      });
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        await stopChild(child, 'SIGTERM', 60_000);
      }
      const pidfile = path.join(dir, 'exec', 'containerd', 'containerd.pid');
      if (existsSync(pidfile)) {
        const pid = Number(readFileSync(pidfile, 'utf8').trim());
        try {
          if (pid > 0) process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
        await sleep(1000);
      }
      const mounts = readFileSync('/proc/self/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(`${dir}/`))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await d.start();
  // The busybox image of the tests (test/helpers/docker.ts), imported into this daemon.
  const rootfs = mkdtempSync(path.join(os.tmpdir(), 'hs-stress-busybox-'));
  try {
    mkdirSync(path.join(rootfs, 'bin'));
    copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    for (const a of ['sh', 'sleep', 'dd', 'yes', 'cat']) symlinkSync('busybox', path.join(rootfs, 'bin', a));
    for (const x of ['tmp', 'proc', 'sys', 'dev', 'etc']) mkdirSync(path.join(rootfs, x));
    execFileSync('sh', ['-c', `tar -C ${rootfs} -c . | docker -H ${host} import - local/busybox`], {
      stdio: 'ignore',
    });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return d;
}

if (process.argv[1] === LIB) {
  const [mode, arg] = process.argv.slice(2);
  if (mode === '--replay') {
    serveReplay(Number(arg)).catch((err) => {
      console.error(err);
      process.exit(1);
    });
  } else {
    console.error(`lib.mjs: unknown mode ${mode}`);
    process.exit(2);
  }
}

/**
 * A private PostgreSQL cluster that can be stopped and started (bench-lib's privateCluster deletes its
 * directory on stop): { url, start(), stop(mode), destroy() }.
 */
export async function controllableCluster() {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const bin = path.join(root, version, 'bin');
  const base = mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-pg-'));
  execFileSync('chown', ['postgres:postgres', base]);
  const data = path.join(base, 'data');
  const asPg = (cmd, args) =>
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'ignore' });
  asPg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${base}`;
  const c = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => asPg('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(base, 'log'), '-w', 'start']),
    stop: (mode = 'fast') => asPg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']),
    destroy() {
      try {
        c.stop('immediate');
      } catch {
        // not running
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
  c.start();
  return c;
}

/** Scrapes stored per (instance, time) and their sizes: { scrapes, min, max, samples }. */
export async function storedScrapes(db) {
  const { rows } = await db.query(
    `SELECT count(*)::int AS scrapes, min(n)::int AS min, max(n)::int AS max, coalesce(sum(n), 0)::float8 AS samples
       FROM (SELECT count(*) AS n FROM hostscope.samples GROUP BY labels->>'instance', time) x`,
  );
  return rows[0];
}
