#!/usr/bin/env node
// Benchmark of `hostscope import` (run: npm run build && node scripts/bench-import.mjs). Writes an
// OpenMetrics backfill file of BENCH_SERIES series x BENCH_POINTS samples (default 1,000 x 1,000 = 1M
// samples at 15 s, node_exporter-like labels), then, in the same run:
//  1. `hostscope import --no-maintain` into an empty database: wall and CPU time, samples/s, peak RSS;
//  2. the same file again (every sample already stored: the idempotent path);
//  3. the maintenance alone (`hostscope maintain`), which an import runs at its end;
//  4. the peer: `promtool tsdb create-blocks-from openmetrics` on the same file, quoted as a ratio.
// Uses $DATABASE_URL when set; otherwise a private throwaway PostgreSQL cluster (needs root and the
// server binaries under /usr/lib/postgresql), removed afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { privateCluster, TUNED_SETTINGS } from './bench-lib.mjs';

const SERIES = Number(process.env.BENCH_SERIES ?? 1000);
const POINTS = Number(process.env.BENCH_POINTS ?? 1000);
const STEP_MS = 15_000;
const CLI = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', 'cli.js');

/** The backfill file: families grouped, each series in time order, timestamps in seconds. */
function writeBackfill(file) {
  const t0 = Math.floor((Date.now() - POINTS * STEP_MS - 3_600_000) / STEP_MS) * STEP_MS;
  const chunks = [
    '# HELP node_cpu_seconds Seconds the CPUs spent in each mode.\n',
    '# TYPE node_cpu_seconds counter\n',
  ];
  const modes = ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'nice'];
  for (let s = 0; s < SERIES; s++) {
    const labels = `cpu="${Math.floor(s / modes.length)}",instance="bench-${s % 10}:9100",job="node",mode="${modes[s % modes.length]}"`;
    let lines = '';
    for (let i = 0; i < POINTS; i++) {
      lines += `node_cpu_seconds_total{${labels}} ${(i * 0.37 + s).toFixed(2)} ${(t0 + i * STEP_MS) / 1000}\n`;
    }
    chunks.push(lines);
  }
  chunks.push('# EOF\n');
  writeFileSync(file, chunks.join(''));
}

/**
 * Runs a command under /usr/bin/time: wall seconds, CPU seconds (user + system) and peak RSS. CPU time is
 * quoted next to wall time because the machine is shared: wall time depends on what else runs.
 */
function timed(cmd, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => {
      const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(out);
      if (code !== 0 || m === null)
        reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`));
      else
        resolve({
          seconds: Number(m[1]),
          cpu: Number(m[2]) + Number(m[3]),
          peakMb: Number(m[4]) / 1024,
          out,
        });
    });
  });
}

/** The check and write pass times from the import's `file imported` log line. */
function passes(r) {
  const l = r.out.split('\n').find((x) => x.includes('"file imported"'));
  if (l === undefined) return '';
  const { checkSeconds, writeSeconds } = JSON.parse(l);
  return ` [pass 1 (check) ${checkSeconds} s, pass 2 (parse again + write) ${writeSeconds} s]`;
}

const line = (what, r, samples) =>
  `${what}: ${r.seconds.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU, ${Math.round(samples / r.seconds).toLocaleString('en')} samples/s (${Math.round(samples / r.cpu).toLocaleString('en')} per CPU second), peak RSS ${r.peakMb.toFixed(0)} MB`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-import-'));
const cluster = process.env.DATABASE_URL ? undefined : await privateCluster({ settings: TUNED_SETTINGS });
const url = process.env.DATABASE_URL ?? cluster.url;
try {
  const file = path.join(dir, 'backfill.om');
  writeBackfill(file);
  const samples = SERIES * POINTS;
  const mb = statSync(file).size / 2 ** 20;
  console.log(
    `file: ${samples.toLocaleString('en')} samples, ${SERIES} series, ${mb.toFixed(1)} MiB OpenMetrics`,
  );
  execFileSync(process.execPath, [CLI, 'migrate', `--database.url=${url}`], { stdio: 'ignore' });
  // As an operator runs it (the bin, no V8 flags).
  // BENCH_NODE_FLAGS: V8 flags for the imports (e.g. --max-old-space-size=128 to show memory stays bounded).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const args = [...nodeFlags, CLI, 'import', `--database.url=${url}`, '--no-maintain', file];
  // BENCH_PROFILE=DIR: a V8 CPU profile of the first import into DIR.
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const first = await timed(process.execPath, [...profile, ...args]);
  console.log(line('import (empty database)  ', first, samples) + passes(first));
  const again = await timed(process.execPath, args);
  console.log(line('import again (all stored)', again, samples) + passes(again));
  const m = await timed(process.execPath, [CLI, 'maintain', `--database.url=${url}`, '--log.level=warn']);
  console.log(
    `maintain (rollups of the imported hours): ${m.seconds.toFixed(1)} s wall, ${m.cpu.toFixed(1)} s CPU (node)`,
  );
  try {
    const blocks = path.join(dir, 'blocks');
    const p = await timed('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', file, blocks]);
    console.log(line('peer: promtool tsdb create-blocks-from openmetrics', p, samples));
    console.log(
      `ratio hostscope import / promtool: ${(first.seconds / p.seconds).toFixed(1)}x wall, ${(first.cpu / p.cpu).toFixed(1)}x CPU (hostscope's CPU excludes PostgreSQL's)`,
    );
  } catch (err) {
    console.log(`peer: promtool not run (${err.message.split('\n')[0]})`);
  }
} finally {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
