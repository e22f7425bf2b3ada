#!/usr/bin/env node
// Memory of the one-command default (`npm run bench:start`): runs the command line of `npm start` (read
// from package.json, so the two never drift apart) with a throwaway --data.dir and loopback ports, and
// samples its resident memory once a second. Prints steady RSS (median of the last half), peak RSS (the
// kernel's high-water mark, VmHWM, so a spike between two samples still counts), and node_exporter's, when
// installed, scraped at the same interval.
//
// One maintenance run (rollups, retention) is triggered a third of the way through. With --history-days N
// (default 1) the data dir is first filled with N days of synthetic history for one host by `hostscope
// seed` (not measured), and the rollup watermark is moved back --reroll-hours, so that maintenance run
// rolls up real hours as it does after the first hour in production. --history-days 0: a first start
// (initdb included) on an empty data dir.
//
// Usage: npm run bench:start [-- --duration 180 --interval 5s --history-days 1 --reroll-hours 3]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { freePort, rssMb, table, waitForHttp } from './bench-lib.mjs';

const root = path.join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const durationS = Number(arg('duration', 180));
const interval = arg('interval', '5s');
const historyDays = Number(arg('history-days', 1));
const rerollHours = Number(arg('reroll-hours', 3));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The node command line of `npm start`, without `npm run build &&` and with its own flags after it. */
function startCommand() {
  const script = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.start;
  const cmd = script.split('&&').at(-1).trim().split(/\s+/);
  const env = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(cmd[0])) {
    const [k, ...v] = cmd.shift().split('=');
    env[k] = v.join('=');
  }
  if (cmd[0] !== 'node') throw new Error(`unexpected start script: ${script}`);
  return { env, argv: cmd.slice(1) };
}

function hwmMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function metric(url, name) {
  try {
    const body = await (await fetch(url)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Moves the rollup watermark back, so the next maintenance run rolls those hours up again. */
async function rewindRollups(dataDir, hours) {
  const require = createRequire(path.join(root, 'package.json'));
  const { PGlite } = require('@electric-sql/pglite');
  const db = new PGlite(path.join(dataDir, 'pglite'));
  try {
    await db.query(
      `UPDATE hostscope.rollup_state SET rolled_until = date_trunc('hour', now()) - make_interval(hours => $1)`,
      [hours],
    );
  } finally {
    await db.close();
  }
}

const base = mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-start-'));
const children = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
};
process.on('SIGINT', () => {
  stopAll();
  rmSync(base, { recursive: true, force: true });
  process.exit(130);
});

try {
  const dataDir = path.join(base, 'data');
  const cli = path.join(root, 'dist/cli.js');
  if (historyDays > 0) {
    execFileSync(
      process.execPath,
      [
        cli,
        'seed',
        `--data.dir=${dataDir}`,
        '--hosts=1',
        `--days=${historyDays}`,
        `--seed.interval=${interval}`,
      ],
      { stdio: 'ignore' },
    );
    if (rerollHours > 0) await rewindRollups(dataDir, rerollHours);
  }

  const { env, argv } = startCommand();
  const [exporterPort, webPort] = [await freePort(), await freePort()];
  const t0 = Date.now();
  // One maintenance run, a third of the way through (node-cron with a seconds field).
  const at = new Date(t0 + (durationS * 1000) / 3);
  const maintainCron = `${at.getSeconds()} ${at.getMinutes()} ${at.getHours()} * * *`;
  const hs = spawn(
    process.execPath,
    [
      ...argv,
      `--exporter.listen-address=127.0.0.1:${exporterPort}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      `--data.dir=${dataDir}`,
      `--scrape.interval=${interval}`,
      `--maintain.schedule=${maintainCron}`,
      '--log.level=warn',
    ],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // Warnings and errors only (--log.level=warn): shown if it exits early.
  let log = '';
  hs.stdout.on('data', (d) => (log = (log + d).slice(-4000)));
  children.push(hs);
  const sinkMetrics = `http://127.0.0.1:${webPort}/metrics`;

  let ne;
  if (hasCommand('prometheus-node-exporter')) {
    const port = await freePort();
    ne = {
      child: spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`], {
        stdio: 'ignore',
      }),
      url: `http://127.0.0.1:${port}/metrics`,
      samples: [],
    };
    children.push(ne.child);
    await waitForHttp(ne.url);
  }

  const samples = [];
  const intervalMs = Number(/^(\d+)s$/.exec(interval)?.[1] ?? 5) * 1000;
  let nextNeScrape = 0;
  let maintainedAt;
  for (let s = 0; s < durationS; s++) {
    if (hs.exitCode !== null) throw new Error(`hostscope exited with ${hs.exitCode}:\n${log}`);
    samples.push(rssMb(hs.pid));
    if (ne !== undefined) {
      if (Date.now() >= nextNeScrape) {
        nextNeScrape = Date.now() + intervalMs;
        await fetch(ne.url).then(
          (r) => r.text(),
          () => undefined,
        );
      }
      ne.samples.push(rssMb(ne.child.pid));
    }
    if (maintainedAt === undefined && s % 5 === 0 && Date.now() > at.getTime()) {
      const runs = await metric(sinkMetrics, 'hostscope_sink_maintenance_runs_total');
      if (runs !== undefined && runs > 0) maintainedAt = s;
    }
    await sleep(Math.max(0, t0 + (s + 1) * 1000 - Date.now()));
  }
  const peak = hwmMb(hs.pid);
  const scrapes = await metric(sinkMetrics, 'hostscope_sink_scrapes_total');
  const failures = await metric(sinkMetrics, 'hostscope_sink_maintenance_failures_total');

  const steady = median(samples.slice(Math.floor(samples.length / 2)));
  const rows = [['process', 'steady RSS MB', 'peak RSS MB']];
  rows.push(['hostscope (npm start)', steady.toFixed(1), peak.toFixed(1)]);
  if (ne !== undefined) {
    const neSteady = median(ne.samples.slice(Math.floor(ne.samples.length / 2)));
    const nePeak = hwmMb(ne.child.pid);
    rows.push(['node_exporter 1.5', neSteady.toFixed(1), nePeak.toFixed(1)]);
    rows.push(['ratio hostscope/node_exporter', (steady / neSteady).toFixed(1), (peak / nePeak).toFixed(1)]);
  }
  console.log(
    `${durationS} s at a ${interval} scrape interval, ${historyDays > 0 ? `${historyDays} d of history, ${rerollHours} h re-rolled` : 'first start (empty data dir)'}; ` +
      `maintenance ${maintainedAt === undefined ? 'did NOT complete' : `done by ${maintainedAt} s`}` +
      `${failures ? ` (${failures} failed)` : ''}; ${scrapes ?? '?'} scrapes`,
  );
  console.log(
    `command: node ${argv.join(' ')}${Object.keys(env).length ? ` (env ${JSON.stringify(env)})` : ''}`,
  );
  console.log(table(rows));
  const per10 = samples.filter((_, i) => i % 10 === 9).map((v) => v.toFixed(0));
  console.log(`RSS every 10 s: ${per10.join(' ')}`);
  console.log('targets: steady <= 150 MB, peak <= 250 MB');
} finally {
  const running = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  stopAll();
  // The sink writes what it buffered on SIGTERM; give it a few seconds before insisting.
  for (let i = 0; i < 100 && running().length > 0; i++) await sleep(100);
  for (const c of running()) c.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
}
