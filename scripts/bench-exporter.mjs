// Benchmark: hostscope exporter vs the real node_exporter, side by side in one run on this machine.
// Scrapes both alternately (same conditions), then prints p50/p99 latency, CPU ms per scrape, RSS, ratios.
// Usage: npm run bench:exporter [-- --scrapes 300 --paced 60]; BENCH_CLI=path/to/cli.js measures another build.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
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

const args = process.argv.slice(2);
const scrapes = Number(args[args.indexOf('--scrapes') + 1] || 0) || 300;
const paced = Number(args[args.indexOf('--paced') + 1] || 0) || 60;
const root = path.join(import.meta.dirname, '..');
const cli = process.env.BENCH_CLI ?? path.join(root, 'dist/cli.js');

async function start(name, cmd, argv, env = {}) {
  const port = await freePort();
  const child = spawn(cmd, [...argv, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitForHttp(url);
  return { name, child, url, latencies: [], lines: 0 };
}

const peers = [
  await start('node_exporter 1.5', 'prometheus-node-exporter', []),
  // Host collectors only: the docker collector has its own benchmark (bench:docker).
  // Launched as production launches it (V8 flags and environment of the image and npm start scripts).
  await start(
    'hostscope',
    process.execPath,
    [...NODE_FLAGS, cli, 'exporter', '--no-collector.docker', '--log.level=warn'],
    NODE_ENV_VARS,
  ),
];
try {
  // Warm-up: JIT, lazily loaded modules, first inventory refresh.
  for (let i = 0; i < 20; i++) for (const p of peers) await timedScrape(p.url);
  await new Promise((r) => setTimeout(r, 1000));
  const cpuStart = peers.map((p) => cpuMs(p.child.pid));
  for (let i = 0; i < scrapes; i++) {
    for (const p of i % 2 === 0 ? peers : [...peers].reverse()) {
      const r = await timedScrape(p.url);
      p.latencies.push(r.ms);
      p.lines = r.lines;
    }
  }
  const results = peers.map((p, i) => ({
    p50: percentile(p.latencies, 50),
    p99: percentile(p.latencies, 99),
    cpu: (cpuMs(p.child.pid) - cpuStart[i]) / scrapes,
    burstRss: rssMb(p.child.pid),
    rss: 0,
  }));
  // Resident memory as Prometheus sees it: one scrape a second (V8 shrinks its heap between scrapes;
  // back-to-back scraping above keeps the young generation at its maximum). RSS rises and falls by up to
  // ~10 MB with V8's collection cycle, so one reading says little: the median of one reading a second,
  // from the 10th second on, and its range.
  const samples = peers.map(() => []);
  for (let i = 0; i < paced; i++) {
    for (const p of peers) await timedScrape(p.url);
    await new Promise((r) => setTimeout(r, 1000));
    if (i >= 10) peers.forEach((p, j) => samples[j].push(rssMb(p.child.pid)));
  }
  peers.forEach((p, i) => {
    results[i].rss = percentile(samples[i], 50);
    results[i].rssRange = `${Math.min(...samples[i]).toFixed(1)}-${Math.max(...samples[i]).toFixed(1)}`;
  });
  const rows = [
    ['exporter', 'samples', 'p50 ms', 'p99 ms', 'CPU ms/scrape', 'RSS MB (burst)', 'RSS MB (1/s)', 'range'],
  ];
  peers.forEach((p, i) => {
    const r = results[i];
    rows.push([
      p.name,
      p.lines,
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      r.cpu.toFixed(2),
      r.burstRss.toFixed(1),
      r.rss.toFixed(1),
      r.rssRange,
    ]);
  });
  const [ne, hs] = results;
  rows.push([
    'ratio hostscope/node_exporter',
    '',
    (hs.p50 / ne.p50).toFixed(2),
    (hs.p99 / ne.p99).toFixed(2),
    (hs.cpu / ne.cpu).toFixed(2),
    (hs.burstRss / ne.burstRss).toFixed(2),
    (hs.rss / ne.rss).toFixed(2),
    '',
  ]);
  console.log(
    `${scrapes} scrapes each, alternating, sequential, on ${(await import('node:os')).cpus().length} cores`,
  );
  console.log(table(rows));
  console.log('targets: p50 ratio <= 1.00, CPU ratio <= 1.50, hostscope RSS <= 60 MB');
  console.log(
    `RSS (1/s): median (and range) of one reading a second over scrapes 11-${paced} at one per second, after the burst`,
  );
} finally {
  for (const p of peers) p.child.kill('SIGTERM');
}
