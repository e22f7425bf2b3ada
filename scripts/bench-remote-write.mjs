#!/usr/bin/env node
// Remote-write throughput of the `hostscope sink` process (`npm run bench:remote-write`), measured from
// outside, on one private PostgreSQL cluster with its DEFAULT settings (see bench-lib.mjs privateCluster).
//  0. capture: the real Prometheus (/usr/bin/prometheus) scrapes a BENCH_CAPTURE_SERIES-sample
//     node_exporter-like target (bench-lib's generator) every second and remote-writes, with the queue
//     settings docs/prometheus.md recommends, to a capturing HTTP server here, until
//     BENCH_CAPTURE_SCRAPES scrapes' worth of samples (its real WriteRequests, headers and all) are kept.
//  A. receiver: the real `node dist/cli.js sink --scrape.target= --web.enable-remote-write-receiver`
//     (production node flags, its own --buffer.dir) takes those payloads replayed at full speed by a
//     sender process over BENCH_SENDERS concurrent keep-alive connections (as Prometheus' shards send), every
//     round with timestamps shifted back by the capture's span, so every round's samples are new rows.
//     After a warm-up round (which creates the series), BENCH_SECONDS of: samples/s committed (the sink's
//     hostscope_sink_remote_write_samples_written_total: a request is answered only once committed), RSS
//     and CPU per sample.
//  B. scrape path: the same sink build scrapes BENCH_CAPACITY_TARGETS targets of BENCH_SERIES samples every
//     second (more than it writes) from the same generator: samples/s it sustains (bench-sink-e2e's C).
//  C. raw binary COPY of as many (series_id, time, value) rows as A committed, into a table with PRIMARY KEY
//     (series_id, time) partitioned like hostscope.samples_raw (bench-sink-e2e's D): what storing the
//     receiver's samples one row each would cost at best.
//  D. lag: the real Prometheus scrapes a BENCH_LAG_SERIES-sample target every 5 s and remote-writes to a
//     sink for BENCH_LAG_SECONDS; from its prometheus_remote_storage_* metrics every 5 s: the queue lag
//     (highest timestamp in the WAL minus highest sent), failed, retried and dropped samples.
// Prints one table against the targets (>= 300k samples/s; lag < 30 s with no failed samples).
// Timestamps are patched in place in the compressed payloads (remote-write-payloads.mjs): the sender
// re-encodes each captured body once with snappy (the timestamp bytes kept as literals, so a shift is a
// few byte writes), which changes the compression (not the protobuf, not the label bytes) against what
// Prometheus sent.
// Env: BENCH_SECONDS (60), BENCH_SENDERS (8), BENCH_CAPTURE_SERIES (100000), BENCH_CAPTURE_SCRAPES (4),
// BENCH_SERIES (300000), BENCH_CAPACITY_TARGETS (2), BENCH_LAG_SERIES (100000), BENCH_LAG_SECONDS (180),
// BENCH_SKIP (list of receiver,scrape,raw,lag), BENCH_CLI, BENCH_SINK_NODE_ARGS (e.g. --cpu-prof),
// BENCH_SINK_LOG, BENCH_CAPTURE_FILE (keep the captured requests there, for profiling). Needs root, Prometheus and the PostgreSQL server binaries. Everything is removed afterwards.
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import {
  countRows,
  cpuMs,
  fmt,
  freePort,
  get,
  percentile,
  privateCluster,
  rawCopyPhase,
  rssMb,
  runSink,
  sinkArgs,
  sleep,
  spawnChild,
  startTargets,
  table,
  waitForHttp,
} from './bench-lib.mjs';
import { checkShifted, patchablePayload, poster, shiftedBody } from './remote-write-payloads.mjs';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.join(path.dirname(SELF), '..');
const CLI = process.env.BENCH_CLI ?? path.join(ROOT, 'dist', 'cli.js');
const DIST = path.dirname(CLI);
const PROMETHEUS = '/usr/bin/prometheus';

const env = (name, dflt) => Number(process.env[name] ?? dflt);
const SECONDS = env('BENCH_SECONDS', 60);
const SENDERS = env('BENCH_SENDERS', 8);
const CAPTURE_SERIES = env('BENCH_CAPTURE_SERIES', 100_000);
const CAPTURE_SCRAPES = env('BENCH_CAPTURE_SCRAPES', 4);
const SERIES = env('BENCH_SERIES', 300_000);
const CAPACITY_TARGETS = env('BENCH_CAPACITY_TARGETS', 2);
const LAG_SERIES = env('BENCH_LAG_SERIES', 100_000);
const LAG_SECONDS = env('BENCH_LAG_SECONDS', 180);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter((s) => s !== ''));
const SINK = {
  cli: CLI,
  nodeArgs: (process.env.BENCH_SINK_NODE_ARGS ?? '').split(' ').filter((s) => s !== ''),
  cwd: ROOT,
};

/** docs/prometheus.md's queue settings for the sink. */
const QUEUE_CONFIG = `    queue_config:
      capacity: 10000
      max_samples_per_send: 5000
      max_shards: 8
      min_backoff: 100ms
      max_backoff: 5s
    metadata_config:
      send: true
      send_interval: 1m`;

// ---------------------------------------------------------------------------------------------------
// Prometheus.

async function startPrometheus(yaml) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-prom-'));
  writeFileSync(path.join(dir, 'prometheus.yml'), yaml);
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`, 30_000);
  } catch (err) {
    console.error(log);
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function promConfig(targetUrl, interval, writeUrl) {
  const u = new URL(targetUrl);
  return `global:
  scrape_interval: ${interval}
  scrape_timeout: ${interval}
scrape_configs:
  - job_name: bench
    metrics_path: ${u.pathname}
    static_configs:
      - targets: ['${u.host}']
remote_write:
  - url: ${writeUrl}
${QUEUE_CONFIG}
`;
}

/** Sums of the prometheus_remote_storage_* series in Prometheus' own /metrics (one remote_write). */
async function remoteStorage(port) {
  const text = await get(`http://127.0.0.1:${port}/metrics`);
  const out = {};
  for (const m of text.matchAll(/^(prometheus_remote_storage_[a-z_]+)(?:\{[^}]*\})? (\S+)$/gm))
    out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 0. Capture.

async function capture(targetUrl) {
  const { snappyDecode } = require(path.join(DIST, 'remote', 'snappy.js'));
  const { decodeWriteRequest } = require(path.join(DIST, 'remote', 'prompb.js'));
  const want = CAPTURE_SCRAPES * CAPTURE_SERIES;
  const kept = [];
  let samples = 0;
  let metadataRequests = 0;
  let headers;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const wr = decodeWriteRequest(snappyDecode(body));
      if (wr.timeseries.length === 0) metadataRequests++;
      else if (samples < want) {
        headers ??= Object.fromEntries(
          ['content-encoding', 'content-type', 'user-agent', 'x-prometheus-remote-write-version'].map((h) => [
            h,
            req.headers[h],
          ]),
        );
        kept.push(body);
        for (const ts of wr.timeseries) samples += ts.values.length;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const writeUrl = `http://127.0.0.1:${server.address().port}/api/v1/write`;
  const prom = await startPrometheus(promConfig(targetUrl, '1s', writeUrl));
  const deadline = Date.now() + 120_000;
  try {
    while (samples < want) {
      if (Date.now() > deadline) throw new Error(`capture: only ${samples} samples in 120 s\n${prom.log()}`);
      await sleep(200);
    }
  } finally {
    await prom.stop();
    server.close();
  }
  return { bodies: kept, samples, headers, metadataRequests };
}

// ---------------------------------------------------------------------------------------------------
// Sender child: `--send <file> <url> <senders> <seconds>`; the file holds the captured bodies and headers.

async function send(file, url, senders, seconds) {
  const { snappyDecode } = require(path.join(DIST, 'remote', 'snappy.js'));
  const { bodies, headers } = JSON.parse(readFileSync(file, 'utf8'));
  const payloads = bodies.map((b64) => patchablePayload(snappyDecode(Buffer.from(b64, 'base64')), DIST));
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of payloads)
    for (const v of p.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  // Every round goes back by the capture's span plus a second: its samples are all new rows.
  const spanMs = hi - lo + 1000;
  const body = (p, round) => shiftedBody(p, -(round + 1) * spanMs);
  checkShifted(payloads, -2 * spanMs, DIST);
  const perRound = payloads.reduce((s, p) => s + p.samples, 0);
  const agent = new Agent({ keepAlive: true, maxSockets: senders });
  const post = poster(agent, url, headers);
  let next = 0;
  let requests = 0;
  let samples = 0;
  const statuses = {};
  const t0 = performance.now();
  const report = setInterval(
    () =>
      process.stdout.write(
        `${JSON.stringify({ perRound, payloads: payloads.length, spanMs, requests, samples, statuses })}\n`,
      ),
    1000,
  );
  process.stdout.write(`${JSON.stringify({ perRound, payloads: payloads.length, spanMs, requests: 0 })}\n`);
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (performance.now() - t0 < seconds * 1000) {
        const n = next++;
        const p = payloads[n % payloads.length];
        const b = body(p, Math.floor(n / payloads.length));
        // A retryable answer is retried, as Prometheus does.
        for (;;) {
          const status = await post(b);
          statuses[status] = (statuses[status] ?? 0) + 1;
          requests++;
          if (status >= 200 && status < 300) break;
          if (status !== 0 && status < 500 && status !== 429) break;
          await sleep(100);
        }
        samples += p.samples;
      }
    }),
  );
  clearInterval(report);
  process.stdout.write(`${JSON.stringify({ perRound, requests, samples, statuses, done: true })}\n`);
  agent.destroy();
}

// ---------------------------------------------------------------------------------------------------
// Phases.

async function remoteCounters(port) {
  const text = await get(`http://127.0.0.1:${port}/metrics`);
  const total = (re) => {
    let sum = 0;
    for (const m of text.matchAll(re)) sum += Number(m[1]);
    return sum;
  };
  return {
    written: total(/^hostscope_sink_remote_write_samples_written_total (\S+)$/gm),
    received: total(/^hostscope_sink_remote_write_samples_received_total (\S+)$/gm),
    skipped: total(/^hostscope_sink_remote_write_samples_skipped_total (\S+)$/gm),
    rejected: total(/^hostscope_sink_remote_write_requests_total\{code="[^2]\d\d"\} (\S+)$/gm),
  };
}

async function startReceiverSink(dbUrl) {
  const port = await freePort();
  const proc = spawnChild(
    sinkArgs(SINK, [], dbUrl, [
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ]),
    { cwd: ROOT },
  );
  await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000);
  return { port, proc, url: `http://127.0.0.1:${port}/api/v1/write` };
}

async function stopSink(sink) {
  sink.proc.child.kill('SIGTERM');
  await Promise.race([sink.proc.exited, sleep(30_000)]);
  if (sink.proc.child.exitCode === null) sink.proc.child.kill('SIGKILL');
  if (process.env.BENCH_SINK_LOG)
    writeFileSync(process.env.BENCH_SINK_LOG, `${sink.proc.lines.join('\n')}\n`);
}

function saveCapture(captured, file) {
  writeFileSync(
    file,
    JSON.stringify({ bodies: captured.bodies.map((b) => b.toString('base64')), headers: captured.headers }),
  );
}

async function receiverPhase(captured, dbUrl) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-capture-')), 'capture.json');
  saveCapture(captured, file);
  const sink = await startReceiverSink(dbUrl);
  const pid = sink.proc.child.pid;
  const sender = spawnChild([SELF, '--send', file, sink.url, String(SENDERS), String(SECONDS + 300)]);
  try {
    const last = () => JSON.parse(sender.lines[sender.lines.length - 1] ?? '{}');
    const deadline = Date.now() + 120_000;
    while (sender.lines.length === 0) {
      if (Date.now() > deadline || sender.child.exitCode !== null) throw new Error('sender did not start');
      await sleep(100);
    }
    const { perRound } = last();
    // Warm-up: the first round creates the series; one more settles the caches.
    for (;;) {
      const c = await remoteCounters(sink.port);
      if (c.written >= 2 * perRound) break;
      if (Date.now() > deadline) throw new Error(`receiver warm-up did not finish: ${JSON.stringify(c)}`);
      await sleep(250);
    }
    const c0 = await remoteCounters(sink.port);
    const s0 = last();
    const t0 = performance.now();
    const cpu0 = cpuMs(pid);
    const rss = [];
    while (performance.now() - t0 < SECONDS * 1000) {
      await sleep(1000);
      rss.push(rssMb(pid));
    }
    const c1 = await remoteCounters(sink.port);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (cpuMs(pid) - cpu0) / 1000;
    const s1 = last();
    const samples = c1.written - c0.written;
    return {
      rate: samples / seconds,
      samples,
      seconds,
      requests: s1.requests - s0.requests,
      statuses: s1.statuses,
      samplesPerRequest: Math.round(captured.samples / captured.bodies.length),
      skipped: c1.skipped - c0.skipped,
      rejected: c1.rejected - c0.rejected,
      rssPeak: Math.max(...rss),
      rssMedian: percentile(rss, 50),
      cpuUs: (cpu * 1e6) / samples,
      cpuCores: cpu / seconds,
    };
  } finally {
    sender.child.kill('SIGKILL');
    await stopSink(sink);
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

async function lagPhase(targetUrl, dbUrl, db) {
  const sink = await startReceiverSink(dbUrl);
  const before = await countRows(db);
  const prom = await startPrometheus(promConfig(targetUrl, '5s', sink.url));
  const lags = [];
  let last = {};
  try {
    const t0 = performance.now();
    while (performance.now() - t0 < LAG_SECONDS * 1000) {
      await sleep(5000);
      last = await remoteStorage(prom.port);
      const highest = last.prometheus_remote_storage_highest_timestamp_in_seconds;
      const sent = last.prometheus_remote_storage_queue_highest_sent_timestamp_seconds;
      if (highest > 0 && sent > 0) lags.push(highest - sent);
    }
  } finally {
    await prom.stop();
  }
  await sleep(1000);
  const c = await remoteCounters(sink.port);
  await stopSink(sink);
  const after = await countRows(db);
  const m = (k) => last[`prometheus_remote_storage_${k}`] ?? NaN;
  return {
    lagMax: Math.max(...lags),
    lagP50: percentile(lags, 50),
    polls: lags.length,
    sent: m('samples_total'),
    failed: m('samples_failed_total'),
    retried: m('samples_retried_total'),
    dropped: m('samples_dropped_total'),
    shards: m('shards'),
    written: c.written,
    rows: after - before,
  };
}

async function main() {
  const { Client } = require('pg');
  const cluster = await privateCluster();
  // Target 0: the capture (and the lag phase's target when the sizes match); then the scrape-path targets.
  const capTargets = await startTargets(1, CAPTURE_SERIES);
  const scrapeTargets = await startTargets(CAPACITY_TARGETS, SERIES);
  const lagTargets = LAG_SERIES === CAPTURE_SERIES ? capTargets : await startTargets(1, LAG_SERIES);
  const db = new Client({ connectionString: cluster.url });
  const results = {};
  const loads = [];
  const load = (phase) => loads.push(`${phase} ${os.loadavg()[0].toFixed(2)}`);
  try {
    await db.connect();
    console.log(
      `hostscope remote-write benchmark: PostgreSQL ${cluster.version} (default settings), ${os.cpus().length} CPUs, ` +
        `${SECONDS} s per phase; load average ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
    execFileSync(process.execPath, [CLI, 'migrate', `--database.url=${cluster.url}`, '--log.level=warn'], {
      stdio: 'inherit',
    });
    let firstTimeMs = Math.floor(Date.now() / 1000) * 1000;
    if (!SKIP.has('receiver')) {
      load('capture');
      const captured = await capture(capTargets.urls[0]);
      if (process.env.BENCH_CAPTURE_FILE) saveCapture(captured, process.env.BENCH_CAPTURE_FILE);
      console.log(
        `  0. captured ${captured.bodies.length} WriteRequests, ${fmt(captured.samples)} samples, ` +
          `${(captured.bodies.reduce((s, b) => s + b.length, 0) / 2 ** 20).toFixed(1)} MiB snappy ` +
          `(and ${captured.metadataRequests} metadata requests) from Prometheus ${JSON.stringify(captured.headers)}`,
      );
      load('receiver');
      results.receiver = await receiverPhase(captured, cluster.url);
      console.log(`  A. receiver: ${JSON.stringify(results.receiver)}`);
    }
    if (!SKIP.has('scrape')) {
      await db.query('TRUNCATE hostscope.samples_raw, hostscope.samples_blocks');
      load('scrape');
      firstTimeMs = Math.floor(Date.now() / 1000) * 1000;
      results.scrape = await runSink(`scrape path (${CAPACITY_TARGETS} targets)`, scrapeTargets.urls, {
        ...SINK,
        seconds: SECONDS,
        series: SERIES,
        dbUrl: cluster.url,
        db,
        postmaster: cluster.postmaster,
      });
      console.log(`  B. scrape path: ${JSON.stringify(results.scrape)}`);
    }
    if (!SKIP.has('raw')) {
      load('raw');
      const rows = results.receiver?.samples ?? SERIES * SECONDS;
      results.raw = await rawCopyPhase(cluster.url, db, rows, firstTimeMs, CAPACITY_TARGETS, SERIES);
      console.log(`  C. raw COPY: ${JSON.stringify(results.raw)}`);
    }
    if (!SKIP.has('lag')) {
      await db.query('TRUNCATE hostscope.samples_raw, hostscope.samples_blocks');
      load('lag');
      results.lag = await lagPhase(lagTargets.urls[0], cluster.url, db);
      console.log(`  D. lag: ${JSON.stringify(results.lag)}`);
    }
  } finally {
    await db.end().catch(() => undefined);
    await capTargets.stop();
    await scrapeTargets.stop();
    if (lagTargets !== capTargets) await lagTargets.stop();
    cluster.stop();
  }

  const { receiver, scrape, raw, lag } = results;
  const rows = [['', 'figure', 'target']];
  if (receiver) {
    rows.push(['receiver samples/s (committed)', fmt(receiver.rate), '>= 300,000']);
    rows.push([
      'receiver requests / samples per request',
      `${fmt(receiver.requests)} / ${fmt(receiver.samplesPerRequest)}`,
      '',
    ]);
    rows.push(['receiver non-2xx answers', fmt(receiver.rejected), '0']);
  }
  if (scrape) rows.push(['scrape path samples/s (capacity)', fmt(scrape.rate), '']);
  if (receiver && scrape)
    rows.push(['ratio receiver / scrape path', `${(receiver.rate / scrape.rate).toFixed(2)}x`, '']);
  if (raw) rows.push(['raw binary COPY rows/s', fmt(raw.rate), '']);
  if (receiver && raw)
    rows.push(['ratio receiver / raw COPY', `${(receiver.rate / raw.rate).toFixed(2)}x`, '']);
  if (receiver) {
    rows.push([
      'receiver RSS peak / median MB',
      `${receiver.rssPeak.toFixed(0)} / ${receiver.rssMedian.toFixed(0)}`,
      '',
    ]);
    rows.push([
      'receiver sink CPU us/sample (cores)',
      `${receiver.cpuUs.toFixed(2)} (${receiver.cpuCores.toFixed(2)})`,
      '',
    ]);
  }
  if (scrape) {
    rows.push([
      'scrape RSS peak / median MB',
      `${scrape.rssPeak.toFixed(0)} / ${scrape.rssMedian.toFixed(0)}`,
      '',
    ]);
    rows.push(['scrape sink CPU us/sample', scrape.sinkCpuUs.toFixed(2), '']);
  }
  if (lag) {
    rows.push([
      `lag: Prometheus queue lag max / p50 s (${LAG_SERIES / 1000}k every 5 s)`,
      `${lag.lagMax.toFixed(1)} / ${lag.lagP50.toFixed(1)}`,
      '< 30',
    ]);
    rows.push(['lag: samples sent / failed', `${fmt(lag.sent)} / ${fmt(lag.failed)}`, 'failed 0']);
    rows.push(['lag: samples retried / dropped', `${fmt(lag.retried)} / ${fmt(lag.dropped)}`, '']);
    rows.push(['lag: sink written / rows stored', `${fmt(lag.written)} / ${fmt(lag.rows)}`, 'equal']);
  }
  console.log(table(rows));
  console.log(`  load average (1 min) at the start of each phase: ${loads.join(', ')}`);
}

const [mode, ...args] = process.argv.slice(2);
const run = mode === '--send' ? send(args[0], args[1], Number(args[2]), Number(args[3])) : main();
run.catch((err) => {
  console.error(err);
  process.exit(1);
});
