#!/usr/bin/env node
// End-to-end benchmark of the `hostscope sink` process (`npm run bench:sink:e2e`): what users run, measured
// from outside. In one run, on one private PostgreSQL cluster with its DEFAULT settings (initdb, then only
// port, listen address and socket directory; fsync, shared_buffers, WAL all as shipped):
//  A. steady state: the real `node dist/cli.js sink` scrapes one 300k-sample target every second over HTTP
//     (a separate target process serving precomputed node_exporter-like bodies whose values change every
//     request). After a warm-up scrape that creates the series, BENCH_SECONDS of: samples/s from the sink's
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
// BENCH_SINK_LOG (a file to keep the last long-lived sink's log in), BENCH_HEAPSNAPSHOT (signal the sink
// for a heap snapshot at the end of a phase).
// Needs root and the PostgreSQL server binaries under /usr/lib/postgresql. Everything is removed afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createServer, get as httpGet } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import {
  NODE_FLAGS,
  cpuMs,
  freePort,
  percentile,
  privateCluster,
  rssMb,
  serverCpuSeconds,
  table,
  waitForHttp,
} from './bench-lib.mjs';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.join(path.dirname(SELF), '..');
// BENCH_CLI: another build's dist/cli.js (e.g. the previous commit's), to compare in alternating runs.
const CLI = process.env.BENCH_CLI ?? path.join(ROOT, 'dist', 'cli.js');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SERIES = Number(process.env.BENCH_SERIES ?? 300_000);
const CAPACITY_TARGETS = Number(process.env.BENCH_CAPACITY_TARGETS ?? 2);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter((s) => s !== ''));
const SINK_NODE_ARGS = (process.env.BENCH_SINK_NODE_ARGS ?? '').split(' ').filter((s) => s !== '');
const BODY_VARIANTS = 4;

// ---------------------------------------------------------------------------------------------------
// Exposition: node_exporter- and cAdvisor-like families, realistic label sets, ~SERIES samples.

/** `len` hex digits derived from n: container ids, device names (distinct for distinct n). */
function hex(n, len) {
  return createHash('sha256').update(String(n)).digest('hex').slice(0, len);
}

/** The series part of every line (`name{labels} `) and family headers, in exposition order. */
function layout(total) {
  const families = [];
  const add = (name, type, help, lines) => families.push({ name, type, help, lines });
  const modes = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
  const cpus = 64;
  add(
    'node_cpu_seconds_total',
    'counter',
    'Seconds the CPUs spent in each mode.',
    Array.from(
      { length: cpus * 8 },
      (_, i) => `node_cpu_seconds_total{cpu="${i >> 3}",mode="${modes[i & 7]}"} `,
    ),
  );
  const gauges = [
    'node_load1',
    'node_load5',
    'node_load15',
    'node_memory_MemAvailable_bytes',
    'node_memory_MemTotal_bytes',
  ];
  for (const g of gauges) add(g, 'gauge', `${g} gauge.`, [`${g} `]);
  const netDevices = 1500;
  for (const dir of ['receive', 'transmit'])
    for (const what of ['bytes', 'packets', 'errs', 'drop', 'fifo', 'compressed', 'multicast', 'frame']) {
      const name = `node_network_${dir}_${what}_total`;
      add(
        name,
        'counter',
        `Network device statistic ${dir}_${what}.`,
        Array.from({ length: netDevices }, (_, i) => `${name}{device="veth${hex(i, 7)}"} `),
      );
    }
  const filesystems = 1200;
  for (const what of [
    'avail_bytes',
    'device_error',
    'files',
    'files_free',
    'free_bytes',
    'readonly',
    'size_bytes',
  ]) {
    const name = `node_filesystem_${what}`;
    add(
      name,
      'gauge',
      `Filesystem ${what}.`,
      Array.from(
        { length: filesystems },
        (_, i) =>
          `${name}{device="overlay",fstype="overlay",mountpoint="/var/lib/docker/overlay2/${hex(i, 64)}/merged"} `,
      ),
    );
  }
  const handlers = 400;
  const les = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
  const hist = [];
  for (let h = 0; h < handlers; h++) {
    const l = `handler="/api/v1/items/${h}",method="${h % 3 === 0 ? 'POST' : 'GET'}"`;
    for (const le of les) hist.push(`http_request_duration_seconds_bucket{${l},le="${le}"} `);
    hist.push(`http_request_duration_seconds_sum{${l}} `, `http_request_duration_seconds_count{${l}} `);
  }
  add('http_request_duration_seconds', 'histogram', 'Request latency.', hist);
  const containerFamilies = [
    ['container_cpu_usage_seconds_total', 'counter'],
    ['container_cpu_user_seconds_total', 'counter'],
    ['container_cpu_system_seconds_total', 'counter'],
    ['container_memory_usage_bytes', 'gauge'],
    ['container_memory_working_set_bytes', 'gauge'],
    ['container_memory_rss', 'gauge'],
    ['container_memory_cache', 'gauge'],
    ['container_network_receive_bytes_total', 'counter'],
    ['container_network_transmit_bytes_total', 'counter'],
    ['container_last_seen', 'gauge'],
  ];
  const containers = 7000;
  for (const [name, type] of containerFamilies)
    add(
      name,
      type,
      `cAdvisor ${name}.`,
      Array.from(
        { length: containers },
        (_, i) =>
          `${name}{id="/docker/${hex(i, 64)}",image="registry.example.com/team/service-${i % 50}:1.${i % 9}.${i % 13}",name="service-${i % 50}-${hex(i, 6)}"} `,
      ),
    );
  let n = 0;
  for (const f of families) n += f.lines.length;
  // Fill up to `total` with node_exporter's largest family on big hosts: interrupts per CPU.
  const fill = [];
  for (let i = 0; n + fill.length < total; i++)
    fill.push(
      `node_interrupts_total{cpu="${i % cpus}",devices="eth${(i >> 6) % 8}-TxRx-${i >> 9}",info="PCI-MSI-edge",type="${i >> 6}"} `,
    );
  add('node_interrupts_total', 'counter', 'Interrupt details.', fill);
  return families;
}

function bodies(total) {
  const fams = layout(total);
  const out = [];
  for (let v = 0; v < BODY_VARIANTS; v++) {
    const parts = [];
    let k = 0;
    for (const f of fams) {
      parts.push(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`);
      for (const line of f.lines) {
        k++;
        // Values as client_golang writes them: integers, decimals, exponents; different every request.
        const x = ((k * 7919 + v * 104729) % 1000003) / 7;
        const value =
          k % 3 === 0
            ? String(Math.round(x * 1000 + v))
            : k % 3 === 1
              ? String(x + v / 8)
              : (x * 1e7 + v).toExponential(6).replace('e+', 'e+0');
        parts.push(line, value, '\n');
      }
    }
    out.push(Buffer.from(parts.join('')));
  }
  return out;
}

/** Child process: serves the bodies on one port per target, round-robin. Prints the ports as JSON. */
async function serveTargets(count, total) {
  const bs = bodies(total);
  const ports = [];
  for (let t = 0; t < count; t++) {
    let i = 0;
    const server = createServer((req, res) => {
      const body = bs[i++ % bs.length];
      res.writeHead(200, {
        'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
        'Content-Length': body.length,
      });
      res.end(body);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push(server.address().port);
  }
  process.stdout.write(`${JSON.stringify({ ports, bytes: bs[0].length })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------
// Raw COPY child: `--raw-copy <url> <table> <rowsPerCopy> <copies> <firstTimeMs> <targets>`.

const PG_EPOCH_MS = 946_684_800_000;

async function rawCopy(url, tableName, rowsPerCopy, copies, firstTimeMs, targets) {
  const { Client } = require('pg');
  const { from: copyFrom } = require('pg-copy-streams');
  const client = new Client({ connectionString: url });
  await client.connect();
  // One precomputed payload per target (its series ids and values); only the time field is patched per COPY.
  const ROW = 38;
  const payloads = [];
  for (let t = 0; t < targets; t++) {
    const b = Buffer.allocUnsafe(19 + rowsPerCopy * ROW + 2);
    b.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
    b.writeInt32BE(0, 11);
    b.writeInt32BE(0, 15);
    for (let i = 0; i < rowsPerCopy; i++) {
      const p = 19 + i * ROW;
      b.writeInt16BE(3, p);
      b.writeInt32BE(8, p + 2);
      b.writeBigInt64BE(BigInt(t * rowsPerCopy + i + 1), p + 6);
      b.writeInt32BE(8, p + 14);
      b.writeInt32BE(8, p + 26);
      b.writeDoubleBE(Math.random() * 1e6, p + 30);
    }
    b.writeInt16BE(-1, 19 + rowsPerCopy * ROW);
    payloads.push(b);
  }
  const t0 = performance.now();
  for (let c = 0; c < copies; c++) {
    const b = payloads[c % targets];
    const us = BigInt(Math.round((firstTimeMs + Math.floor(c / targets) * 1000 - PG_EPOCH_MS) * 1000));
    for (let i = 0; i < rowsPerCopy; i++) b.writeBigInt64BE(us, 19 + i * ROW + 18);
    const stream = client.query(
      copyFrom(`COPY ${tableName} (series_id, time, value) FROM STDIN (FORMAT binary)`),
    );
    await new Promise((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
      stream.end(b);
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  await client.end();
  process.stdout.write(`${JSON.stringify({ rows: rowsPerCopy * copies, seconds })}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Orchestration.

function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function spawnChild(args, opts = {}) {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], ...opts });
  const lines = [];
  let rest = '';
  child.stdout.on('data', (d) => {
    rest += d.toString();
    let i;
    while ((i = rest.indexOf('\n')) >= 0) {
      lines.push(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, lines, exited };
}

async function firstLine(proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (proc.lines.length === 0) {
    if (Date.now() > deadline) throw new Error('child did not answer');
    await sleep(50);
  }
  return JSON.parse(proc.lines[0]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET on a fresh connection (no keep-alive to race with the server closing an idle socket). */
function get(url) {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Reads the sink's counters from its /metrics. */
async function sinkCounters(port) {
  const text = await get(`http://127.0.0.1:${port}/metrics`);
  const total = (re) => {
    let sum = 0;
    for (const m of text.matchAll(re)) sum += Number(m[1]);
    return sum;
  };
  return {
    written: total(/^hostscope_sink_samples_written_total (\S+)$/gm),
    scrapes: total(/^hostscope_sink_scrapes_total\{[^}]*\} (\S+)$/gm),
    failures: total(/^hostscope_sink_scrape_failures_total\{[^}]*\} (\S+)$/gm),
    buffered: total(/^hostscope_sink_buffer_samples (\S+)$/gm),
    dropped: total(/^hostscope_sink_samples_dropped_total\{reason="buffer_full"\} (\S+)$/gm),
  };
}

/** Each sink run gets its own empty outage buffer: one left in ./data by another run would be replayed first. */
function sinkArgs(targetUrls, dbUrl, extra) {
  const bufferDir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-e2e-buffer-'));
  process.on('exit', () => rmSync(bufferDir, { recursive: true, force: true }));
  return [
    ...NODE_FLAGS,
    ...SINK_NODE_ARGS,
    CLI,
    'sink',
    ...targetUrls.map((u) => `--scrape.target=${u}`),
    ...(extra.includes('--once') ? [] : ['--scrape.interval=1s']),
    `--database.url=${dbUrl}`,
    '--maintain.schedule=',
    '--log.level=info',
    `--buffer.dir=${bufferDir}`,
    ...extra,
  ];
}

/** The sink's total from its final log line ("stopped", {written}). */
function loggedWritten(lines) {
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]);
      if (typeof o.written === 'number') return o.written;
    } catch {
      // not JSON
    }
  }
  return NaN;
}

async function countRows(db) {
  return Number((await db.query('SELECT count(*)::float8 AS n FROM hostscope.samples_raw')).rows[0].n);
}

/** Runs a long-lived sink on `urls` for SECONDS after a warm-up; returns its figures. */
async function runSink(label, urls, dbUrl, db, postmaster) {
  const port = await freePort();
  const before = await countRows(db);
  const proc = spawnChild(sinkArgs(urls, dbUrl, [`--web.listen-address=127.0.0.1:${port}`]), { cwd: ROOT });
  const pid = proc.child.pid;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000);
    // Warm-up: the first scrape of every target creates its series; then two more rounds settle the caches.
    const warmDeadline = Date.now() + 180_000;
    for (;;) {
      const c = await sinkCounters(port);
      if (c.written >= 3 * urls.length * SERIES) break;
      if (Date.now() > warmDeadline)
        throw new Error(`${label}: warm-up did not finish (${JSON.stringify(c)})`);
      await sleep(500);
    }
    // Event-loop stall probe: a GET /health every 100 ms; its latency is how long the loop was busy.
    let probing = true;
    const probes = [];
    const probe = (async () => {
      while (probing) {
        const t = performance.now();
        try {
          await get(`http://127.0.0.1:${port}/health`);
          probes.push(performance.now() - t);
        } catch {
          probes.push(NaN);
        }
        await sleep(100);
      }
    })();
    const c0 = await sinkCounters(port);
    const t0 = performance.now();
    const cpu0 = cpuMs(pid);
    const pg0 = serverCpuSeconds(postmaster);
    const rss = [];
    while (performance.now() - t0 < SECONDS * 1000) {
      await sleep(1000);
      rss.push(rssMb(pid));
    }
    const c1 = await sinkCounters(port);
    const seconds = (performance.now() - t0) / 1000;
    // BENCH_HEAPSNAPSHOT: ask for a heap snapshot (needs --heapsnapshot-signal=SIGUSR2 in BENCH_SINK_NODE_ARGS).
    if (process.env.BENCH_HEAPSNAPSHOT) {
      proc.child.kill('SIGUSR2');
      await sleep(20_000);
    }
    const sinkCpu = (cpuMs(pid) - cpu0) / 1000;
    const pgCpu = serverCpuSeconds(postmaster) - pg0;
    probing = false;
    await probe;
    const hwm = peakRssMb(pid);
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    const after = await countRows(db);
    const logged = loggedWritten(proc.lines);
    if (process.env.BENCH_SINK_LOG) writeFileSync(process.env.BENCH_SINK_LOG, `${proc.lines.join('\n')}\n`);
    const samples = c1.written - c0.written;
    const lat = probes.filter((x) => !Number.isNaN(x));
    return {
      label,
      rate: samples / seconds,
      samples,
      seconds,
      rounds: (c1.scrapes - c0.scrapes) / urls.length,
      failures: c1.failures - c0.failures,
      dropped: c1.dropped - c0.dropped,
      buffered: c1.buffered,
      rssPeak: Math.max(...rss),
      rssMedian: percentile(rss, 50),
      hwm,
      stallMax: Math.max(...lat),
      stallP99: percentile(lat, 99),
      probeFails: probes.length - lat.length,
      sinkCpuUs: (sinkCpu * 1e6) / samples,
      pgCpuUs: (pgCpu * 1e6) / samples,
      rowsCheck: { counted: after - before, logged, exit },
    };
  } catch (err) {
    const exit = proc.child.exitCode ?? proc.child.signalCode;
    console.error(`${label}: sink exit ${exit}; last log lines:\n${proc.lines.slice(-5).join('\n')}`);
    throw err;
  } finally {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  }
}

async function coldStart(url, dbUrl, db) {
  const before = await countRows(db);
  const t0 = performance.now();
  const proc = spawnChild(sinkArgs([url], dbUrl, ['--once', '--web.listen-address=']), { cwd: ROOT });
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

async function rawCopyPhase(dbUrl, db, rows, firstTimeMs, targets) {
  await db.query('DROP TABLE IF EXISTS bench_raw_copy');
  await db.query(`CREATE TABLE bench_raw_copy (series_id bigint NOT NULL, time timestamptz NOT NULL,
    value double precision NOT NULL, PRIMARY KEY (series_id, time)) PARTITION BY RANGE (time)`);
  // Same partition bounds as the head table has now.
  const parts = await db.query(`SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'hostscope.samples_raw'::regclass`);
  let k = 0;
  for (const p of parts.rows)
    await db.query(`CREATE TABLE bench_raw_copy_${k++} PARTITION OF bench_raw_copy ${p.bound}`);
  const rowsPerCopy = SERIES;
  const copies = Math.max(targets, Math.round(rows / rowsPerCopy));
  const proc = spawnChild([
    SELF,
    '--raw-copy',
    dbUrl,
    'bench_raw_copy',
    String(rowsPerCopy),
    String(copies),
    String(firstTimeMs),
    String(targets),
  ]);
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`raw COPY failed: ${JSON.stringify(exit)}`);
  const r = JSON.parse(proc.lines[0]);
  const counted = Number((await db.query('SELECT count(*)::float8 AS n FROM bench_raw_copy')).rows[0].n);
  await db.query('DROP TABLE bench_raw_copy');
  return { ...r, rate: r.rows / r.seconds, counted, partitions: parts.rows.length };
}

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

async function main() {
  const { Client } = require('pg');
  const cluster = await privateCluster();
  const target = spawnChild([SELF, '--serve', String(1 + CAPACITY_TARGETS), String(SERIES)]);
  const db = new Client({ connectionString: cluster.url });
  const results = {};
  try {
    await db.connect();
    const { ports, bytes } = await firstLine(target, 120_000);
    const urls = ports.map((p) => `http://127.0.0.1:${p}/metrics`);
    console.log(
      `hostscope sink end-to-end benchmark: PostgreSQL ${cluster.version} (default settings), ${os.cpus().length} CPUs, ` +
        `target body ${(bytes / 2 ** 20).toFixed(1)} MiB / ${fmt(SERIES)} samples, ${SECONDS} s per phase`,
    );
    // Schema first, so the phases all start the same way.
    execFileSync(process.execPath, [CLI, 'migrate', `--database.url=${cluster.url}`, '--log.level=warn'], {
      stdio: 'inherit',
    });
    if (!SKIP.has('steady')) {
      results.steady = await runSink('steady (1 target)', [urls[0]], cluster.url, db, cluster.postmaster);
      console.log(`  A. steady: ${JSON.stringify(results.steady)}`);
    }
    if (!SKIP.has('cold')) {
      // Make sure the series exist even when the steady phase was skipped.
      if (SKIP.has('steady')) await coldStart(urls[0], cluster.url, db);
      results.cold = await coldStart(urls[0], cluster.url, db);
      console.log(`  B. cold --once: ${JSON.stringify(results.cold)}`);
    }
    // Each write stream starts on an empty head, as the raw COPY does.
    await db.query('TRUNCATE hostscope.samples_raw');
    let firstTimeMs = Math.floor(Date.now() / 1000) * 1000;
    if (!SKIP.has('capacity')) {
      firstTimeMs = Math.floor(Date.now() / 1000) * 1000;
      results.capacity = await runSink(
        `capacity (${CAPACITY_TARGETS} targets)`,
        urls.slice(1, 1 + CAPACITY_TARGETS),
        cluster.url,
        db,
        cluster.postmaster,
      );
      console.log(`  C. capacity: ${JSON.stringify(results.capacity)}`);
    }
    if (!SKIP.has('raw')) {
      const rows = results.capacity?.samples ?? SERIES * SECONDS;
      results.raw = await rawCopyPhase(cluster.url, db, rows, firstTimeMs, CAPACITY_TARGETS);
      console.log(`  D. raw COPY: ${JSON.stringify(results.raw)}`);
    }
  } finally {
    await db.end().catch(() => undefined);
    target.child.stdin.end();
    await Promise.race([target.exited, sleep(2000)]);
    if (target.child.exitCode === null) target.child.kill('SIGKILL');
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

const [mode, ...args] = process.argv.slice(2);
const run =
  mode === '--serve'
    ? serveTargets(Number(args[0]), Number(args[1]))
    : mode === '--raw-copy'
      ? rawCopy(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4]), Number(args[5]))
      : mode === '--dump-bodies' // for profiling the pipeline in-process: writes PREFIX-<variant>.prom
        ? Promise.resolve(
            bodies(Number(args[1] ?? SERIES)).forEach((b, i) => writeFileSync(`${args[0]}-${i}.prom`, b)),
          )
        : main();
run.catch((err) => {
  console.error(err);
  process.exit(1);
});
