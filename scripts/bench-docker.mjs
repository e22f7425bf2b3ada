// Benchmark: the hostscope docker collector at N running containers, side by side with `docker stats
// --no-stream` in the same run. Starts N busybox containers (label hostscope.bench=<run>), the built exporter
// with only the docker collector, scrapes it sequentially, and prints p50/p99 scrape latency, CPU ms per
// scrape (exporter, and dockerd during the scrapes), RSS, and the same figures for `docker stats`, with ratios.
// Removes its containers at the end, also on failure or Ctrl-C.
// Usage: npm run bench:docker [-- --containers 100 --scrapes 200]
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { promisify } from 'node:util';
import {
  cpuMs,
  freePort,
  NODE_ENV_VARS,
  NODE_FLAGS,
  percentile,
  rssMb,
  table,
  timedScrape,
  waitForHttp,
} from './bench-lib.mjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt;
};
const N = arg('containers', 100);
const SCRAPES = arg('scrapes', 200);
const STATS_RUNS = arg('stats-runs', 3);
const IMAGE = 'local/busybox';
const root = path.join(import.meta.dirname, '..');
const label = `hostscope.bench=${randomBytes(4).toString('hex')}`;

const docker = async (...a) => (await run('docker', a, { maxBuffer: 64 << 20 })).stdout.trim();

async function ensureImage() {
  if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (busybox === undefined) throw new Error('no busybox (install busybox-static)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-bb-'));
  try {
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(busybox, path.join(dir, 'bin', 'busybox'));
    for (const a of ['sh', 'sleep']) symlinkSync('busybox', path.join(dir, 'bin', a));
    const r = spawnSync('sh', ['-c', `tar -C ${dir} -c . | docker import - ${IMAGE}`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('docker import failed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startContainers() {
  const ids = [];
  let next = 0;
  const worker = async () => {
    while (next < N) {
      next++;
      ids.push(
        await docker(
          'run',
          '-d',
          '--network',
          'none',
          '--label',
          label,
          '--stop-timeout',
          '1',
          IMAGE,
          'sleep',
          '1000000',
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return ids;
}

let cleaned = false;
async function cleanup(exporter) {
  if (cleaned) return;
  cleaned = true;
  if (exporter && exporter.exitCode === null) exporter.kill('SIGTERM');
  const ids = (await docker('ps', '-aq', '--filter', `label=${label}`).catch(() => ''))
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) await docker('rm', '-f', ...ids).catch(() => '');
}

function dockerdPid() {
  try {
    return Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  } catch {
    const r = spawnSync('pidof', ['dockerd'], { encoding: 'utf8' });
    return Number((r.stdout || '').trim().split(/\s+/)[0]);
  }
}

function countContainers(body) {
  return body.split('\n').filter((l) => l.startsWith('container_last_seen{')).length;
}

let exporter;
process.once('SIGINT', async () => {
  await cleanup(exporter);
  process.exit(130);
});

try {
  await ensureImage();
  const t0 = Date.now();
  const ids = await startContainers();
  console.log(`started ${N} containers in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const port = await freePort();
  exporter = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      path.join(root, 'dist/cli.js'),
      'exporter',
      '--collector.disable-defaults',
      '--collector.docker',
      '--log.level=warn',
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...NODE_ENV_VARS } },
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitForHttp(url);
  // The first scrapes connect, list and inspect; wait until every container is exported.
  for (let i = 0; ; i++) {
    const body = await (await fetch(url)).text();
    if (countContainers(body) >= N) break;
    if (i > 600) throw new Error(`only ${countContainers(body)} of ${N} containers exported`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 20; i++) await timedScrape(url);
  await new Promise((r) => setTimeout(r, 1000));

  const dpid = dockerdPid();
  const latencies = [];
  let samples = 0;
  const cpu0 = cpuMs(exporter.pid);
  const d0 = cpuMs(dpid);
  for (let i = 0; i < SCRAPES; i++) {
    const r = await timedScrape(url);
    latencies.push(r.ms);
    samples = r.lines;
  }
  const hs = {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpu: (cpuMs(exporter.pid) - cpu0) / SCRAPES,
    dockerdCpu: (cpuMs(dpid) - d0) / SCRAPES,
    rss: rssMb(exporter.pid),
  };

  // docker stats --no-stream: one stats API call per container inside the engine, timed end to end.
  const statsWall = [];
  const statsDockerd = [];
  const statsCli = [];
  for (let i = 0; i < STATS_RUNS; i++) {
    const d = cpuMs(dpid);
    const t = process.hrtime.bigint();
    const r = await new Promise((resolve, reject) => {
      const p = spawn('docker', ['stats', '--no-stream', ...ids], { stdio: ['ignore', 'pipe', 'inherit'] });
      let lines = 0;
      let cpu = 0;
      p.stdout.on('data', (c) => (lines += c.toString().split('\n').length - 1));
      const timer = setInterval(() => {
        try {
          cpu = cpuMs(p.pid);
        } catch {
          // exited
        }
      }, 20);
      p.once('exit', (code) => {
        clearInterval(timer);
        if (code === 0) resolve({ lines, cpu });
        else reject(new Error(`docker stats exited ${code}`));
      });
    });
    statsWall.push(Number(process.hrtime.bigint() - t) / 1e6);
    statsDockerd.push(cpuMs(dpid) - d);
    statsCli.push(r.cpu);
  }
  const ds = {
    wall: percentile(statsWall, 50),
    dockerdCpu: percentile(statsDockerd, 50),
    cliCpu: percentile(statsCli, 50),
  };

  console.log(
    `${N} running containers, ${SCRAPES} sequential scrapes, ${STATS_RUNS} docker stats runs, ${os.cpus().length} cores`,
  );
  console.log(
    table([
      ['', 'samples', 'p50 ms', 'p99 ms', 'CPU ms/scrape', 'dockerd CPU ms/scrape', 'RSS MB'],
      [
        'hostscope docker collector',
        samples,
        hs.p50.toFixed(1),
        hs.p99.toFixed(1),
        hs.cpu.toFixed(1),
        hs.dockerdCpu.toFixed(1),
        hs.rss.toFixed(1),
      ],
      [
        'docker stats --no-stream',
        N,
        ds.wall.toFixed(1),
        Math.max(...statsWall).toFixed(1),
        `${ds.cliCpu.toFixed(1)} (CLI)`,
        ds.dockerdCpu.toFixed(1),
        '',
      ],
      [
        'ratio docker stats / hostscope',
        '',
        (ds.wall / hs.p50).toFixed(1),
        '',
        '',
        (ds.dockerdCpu / Math.max(hs.dockerdCpu, 0.01)).toFixed(0),
        '',
      ],
    ]),
  );
  const ok = (v, t) => (v <= t ? 'ok' : 'MISSED');
  console.log(
    `targets: p50 <= 50 ms (${ok(hs.p50, 50)}), p99 <= 150 ms (${ok(hs.p99, 150)}), CPU <= 25 ms/scrape (${ok(hs.cpu, 25)}), RSS <= 100 MB (${ok(hs.rss, 100)})`,
  );
} finally {
  await cleanup(exporter);
}
