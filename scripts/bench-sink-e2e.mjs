#!/usr/bin/env node
// End-to-end benchmark of the `hostscope sink` process (`npm run bench:sink:e2e`): what users run, measured
// from outside. In one run, on one private PostgreSQL cluster with its DEFAULT settings (initdb, then only
// port, listen address and socket directory; fsync, shared_buffers, WAL all as shipped):
//  A. steady state: the real `node dist/cli.js sink` scrapes one 300k-sample target every second over HTTP
//     (a separate target process serving precomputed node_exporter-like bodies whose values change every
//     request). After a warm-up scrape that creates the series (its peak RSS reported on its own) and 10 s to
//     settle, BENCH_SECONDS of: samples/s from the sink's
//     own hostscope_sink_samples_written_total, RSS every second, scrape rounds done, and event-loop stalls
//     (the latency of a GET /health probe sent every 100 ms: a busy event loop answers late).
//  B. cold start: `sink --once` on the same target, whose 300k series already exist: wall time and peak RSS.
//  C. capacity: the sink scrapes BENCH_CAPACITY_TARGETS such targets every second (more than it can write),
//     so samples/s is what the sink process sustains.
//  D. raw binary COPY of as many (series_id, time, value) rows as C wrote, in COPYs of one scrape's rows,
//     from a separate node process streaming precomputed payloads into a table with PRIMARY KEY
//     (series_id, time) partitioned like hostscope.samples_raw (same partition bounds): rows/s.
// Prints the figures against the targets (>= 400k samples/s, >= 0.8x raw COPY, <= 300 MB RSS).
// Env: BENCH_SECONDS (60), BENCH_SERIES (300000), BENCH_CAPACITY_TARGETS (2), BENCH_CLI, BENCH_SKIP (list of
// steady,cold,capacity,raw), BENCH_SINK_NODE_ARGS (extra node flags for the sink, e.g. --cpu-prof),
// BENCH_SINK_LOG (a file to keep the last long-lived sink's log in). Shared pieces (target generator, cluster,
// sink runner, raw COPY) are in bench-lib.mjs.
// Needs root and the PostgreSQL server binaries under /usr/lib/postgresql. Everything is removed afterwards.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  countRows,
  fmt,
  loggedWritten,
  NODE_ENV_VARS,
  peakRssMb,
  privateCluster,
  rawCopyPhase,
  runSink,
  sinkArgs,
  spawnChild,
  startTargets,
  table,
} from './bench-lib.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_CLI: another build's dist/cli.js (e.g. the previous commit's), to compare in alternating runs.
const CLI = process.env.BENCH_CLI ?? path.join(ROOT, 'dist', 'cli.js');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SERIES = Number(process.env.BENCH_SERIES ?? 300_000);
const CAPACITY_TARGETS = Number(process.env.BENCH_CAPACITY_TARGETS ?? 2);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter((s) => s !== ''));
const SINK_NODE_ARGS = (process.env.BENCH_SINK_NODE_ARGS ?? '').split(' ').filter((s) => s !== '');
const SINK = { cli: CLI, nodeArgs: SINK_NODE_ARGS, cwd: ROOT };

async function coldStart(url, dbUrl, db) {
  const before = await countRows(db);
  const t0 = performance.now();
  const proc = spawnChild(sinkArgs(SINK, [url], dbUrl, ['--once', '--web.listen-address=']), {
    cwd: ROOT,
    env: { ...process.env, ...NODE_ENV_VARS },
  });
  let hwm = 0;
  const poll = setInterval(() => {
    try {
      const peak = peakRssMb(proc.child.pid);
      if (Number.isFinite(peak)) hwm = Math.max(hwm, peak);
    } catch {
      // exited
    }
  }, 50);
  const exit = await proc.exited;
  clearInterval(poll);
  const seconds = (performance.now() - t0) / 1000;
  const after = await countRows(db);
  return { seconds, hwm, exit, counted: after - before, logged: loggedWritten(proc.lines) };
}

async function main() {
  const { Client } = require('pg');
  const cluster = await privateCluster();
  const target = await startTargets(1 + CAPACITY_TARGETS, SERIES);
  const { urls, bytes } = target;
  const run = {
    ...SINK,
    seconds: SECONDS,
    series: SERIES,
    dbUrl: cluster.url,
    postmaster: cluster.postmaster,
    logFile: process.env.BENCH_SINK_LOG,
  };
  const db = new Client({ connectionString: cluster.url });
  const results = {};
  try {
    await db.connect();
    run.db = db;
    console.log(
      `hostscope sink end-to-end benchmark: PostgreSQL ${cluster.version} (default settings), ${os.cpus().length} CPUs, ` +
        `target body ${(bytes / 2 ** 20).toFixed(1)} MiB / ${fmt(SERIES)} samples, ${SECONDS} s per phase`,
    );
    // Schema first, so the phases all start the same way.
    execFileSync(process.execPath, [CLI, 'migrate', `--database.url=${cluster.url}`, '--log.level=warn'], {
      stdio: 'inherit',
    });
    if (!SKIP.has('steady')) {
      results.steady = await runSink('steady (1 target)', [urls[0]], run);
      console.log(`  A. steady: ${JSON.stringify(results.steady)}`);
    }
    if (!SKIP.has('cold')) {
      // Make sure the series exist even when the steady phase was skipped.
      if (SKIP.has('steady')) await coldStart(urls[0], cluster.url, db);
      results.cold = await coldStart(urls[0], cluster.url, db);
      console.log(`  B. cold --once: ${JSON.stringify(results.cold)}`);
    }
    // Each write stream starts on an empty head, as the raw COPY does.
    await db.query('TRUNCATE hostscope.samples_raw, hostscope.samples_blocks');
    let firstTimeMs = Math.floor(Date.now() / 1000) * 1000;
    if (!SKIP.has('capacity')) {
      firstTimeMs = Math.floor(Date.now() / 1000) * 1000;
      results.capacity = await runSink(
        `capacity (${CAPACITY_TARGETS} targets)`,
        urls.slice(1, 1 + CAPACITY_TARGETS),
        run,
      );
      console.log(`  C. capacity: ${JSON.stringify(results.capacity)}`);
    }
    if (!SKIP.has('raw')) {
      const rows = results.capacity?.samples ?? SERIES * SECONDS;
      results.raw = await rawCopyPhase(cluster.url, db, rows, firstTimeMs, CAPACITY_TARGETS, SERIES);
      console.log(`  D. raw COPY: ${JSON.stringify(results.raw)}`);
    }
  } finally {
    await db.end().catch(() => undefined);
    await target.stop();
    cluster.stop();
  }

  const rows = [['', 'figure', 'target']];
  const { steady, cold, capacity, raw } = results;
  if (capacity) rows.push(['sink samples/s (capacity)', fmt(capacity.rate), '>= 400,000']);
  if (raw) rows.push(['raw binary COPY rows/s', fmt(raw.rate), '']);
  if (capacity && raw) rows.push(['ratio sink/raw', `${(capacity.rate / raw.rate).toFixed(2)}x`, '>= 0.8x']);
  if (steady) {
    rows.push(['steady samples/s (1 target, 1 s)', fmt(steady.rate), `${fmt(SERIES + 3)}/s offered`]);
    rows.push(['steady rounds done / seconds', `${steady.rounds} / ${steady.seconds.toFixed(0)}`, 'all']);
    rows.push([
      'steady RSS peak / median MB',
      `${steady.rssPeak.toFixed(0)} / ${steady.rssMedian.toFixed(0)}`,
      '<= 300',
    ]);
    rows.push(['first scrape, 300k new series: peak RSS MB', steady.warmupPeak.toFixed(0), '']);
    rows.push([
      'steady event-loop stall max / p99 ms',
      `${steady.stallMax.toFixed(0)} / ${steady.stallP99.toFixed(0)}`,
      '',
    ]);
    rows.push([
      'steady CPU us/sample sink / postgres',
      `${steady.sinkCpuUs.toFixed(2)} / ${steady.pgCpuUs.toFixed(2)}`,
      '',
    ]);
  }
  if (capacity) {
    rows.push([
      'capacity RSS peak / median MB',
      `${capacity.rssPeak.toFixed(0)} / ${capacity.rssMedian.toFixed(0)}`,
      '',
    ]);
    rows.push([
      'capacity stall max / p99 ms',
      `${capacity.stallMax.toFixed(0)} / ${capacity.stallP99.toFixed(0)}`,
      '',
    ]);
    rows.push([
      'capacity CPU us/sample sink / postgres',
      `${capacity.sinkCpuUs.toFixed(2)} / ${capacity.pgCpuUs.toFixed(2)}`,
      '',
    ]);
    rows.push(['capacity dropped (buffer full)', fmt(capacity.dropped), '']);
  }
  if (cold)
    rows.push([
      'cold --once on existing series: s / peak RSS MB',
      `${cold.seconds.toFixed(1)} / ${cold.hwm.toFixed(0)}`,
      '< 10 s',
    ]);
  for (const r of [steady, capacity])
    if (r && r.rowsCheck.counted !== r.rowsCheck.logged)
      rows.push([
        `${r.label}: count(*) != sink total`,
        `${r.rowsCheck.counted} vs ${r.rowsCheck.logged}`,
        'equal',
      ]);
  if (cold && cold.counted !== cold.logged)
    rows.push(['cold: count(*) != sink total', `${cold.counted} vs ${cold.logged}`, 'equal']);
  console.log(table(rows));
  console.log(
    `  load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
