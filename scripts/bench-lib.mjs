// Shared helpers for the benchmark scripts: process CPU/RSS from /proc, percentiles, a free port; a private
// PostgreSQL cluster with default settings, a node_exporter-like target generator, a sink runner and a raw
// binary COPY baseline (bench-sink-e2e.mjs, bench-remote-write.mjs). Run as a script, it is their child:
// `--serve <targets> <samples>` serves target bodies, `--raw-copy ...` runs the raw COPY (see rawCopy).
import { execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const LIB = fileURLToPath(import.meta.url);

const CLK_TCK = 100;

/**
 * The environment the image sets for hostscope (Dockerfile ENV; the npm start scripts set it too; a test
 * checks), given to benchmarked sinks and exporters: one malloc arena, or each of V8's and libuv's threads
 * keeps an arena of its own freed memory.
 */
export const NODE_ENV_VARS = { MALLOC_ARENA_MAX: '1' };

/** V8 flags hostscope is launched with in production (package.json start scripts, Dockerfile ENTRYPOINT; why: Dockerfile). */
export const NODE_FLAGS = [
  '--max-semi-space-size=2',
  '--no-allocation-site-pretenuring',
  '--heap-growing-percent=50',
  '--liftoff-only',
];

/** CPU time (user + system) of a process in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Resident memory of a process in MB, from /proc/<pid>/status. */
export function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForHttp(url, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Times one GET of the whole body, in ms. */
export async function timedScrape(url) {
  const t = process.hrtime.bigint();
  const res = await fetch(url);
  const body = await res.text();
  return {
    ms: Number(process.hrtime.bigint() - t) / 1e6,
    lines: body.split('\n').filter((l) => l && !l.startsWith('#')).length,
  };
}

export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padStart(widths[i])).join('  ')).join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Exposition: node_exporter- and cAdvisor-like families, realistic label sets, ~`total` samples.

/** `len` hex digits derived from n: container ids, device names (distinct for distinct n). */
function hex(n, len) {
  return createHash('sha256').update(String(n)).digest('hex').slice(0, len);
}

/** The series part of every line (`name{labels} `) and family headers, in exposition order. */
export function layout(total) {
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

/** `variants` bodies of the same series whose values differ. */
export function bodies(total, variants = 4) {
  const fams = layout(total);
  const out = [];
  for (let v = 0; v < variants; v++) {
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
export async function serveTargets(count, total) {
  const bs = bodies(total);
  const ports = [];
  for (let t = 0; t < count; t++) {
    let i = 0;
    const server = createHttpServer((req, res) => {
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

export async function rawCopy(url, tableName, rowsPerCopy, copies, firstTimeMs, targets) {
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

/** Server settings for write micro-benchmarks: no durability, large buffers (never what a user runs). */
export const TUNED_SETTINGS = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  shared_buffers: '1GB',
  max_wal_size: '4GB',
};

/**
 * A private throwaway PostgreSQL cluster (needs root and the binaries under /usr/lib/postgresql, newest
 * version): initdb in a temporary directory, started on 127.0.0.1 with PostgreSQL's default settings plus
 * `settings` (name -> value). `stop()` stops it and deletes its directory.
 */
export async function privateCluster({ settings = {}, port } = {}) {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (version === undefined) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const bin = path.join(root, version, 'bin');
  const base = mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-pg-'));
  chownSync(
    base,
    Number(execFileSync('id', ['-u', 'postgres'])),
    Number(execFileSync('id', ['-g', 'postgres'])),
  );
  const data = path.join(base, 'data');
  const asPg = (cmd, args) =>
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'ignore' });
  // --no-sync only skips initdb's own fsync of the new directory; the server runs with the settings below.
  asPg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const listen = port ?? (await freePort());
  const opts = [
    `-p ${listen} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${base}`,
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  asPg('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(base, 'log'), '-w', 'start']);
  const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgres://postgres@127.0.0.1:${listen}/postgres`,
    postmaster,
    version,
    stop() {
      try {
        // The directory is deleted next: nothing to flush.
        asPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}

/** CPU seconds used so far by the postmaster and its children (the PostgreSQL server). */
export function serverCpuSeconds(postmaster) {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) === postmaster || Number(f[1]) === postmaster)
        ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

export function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function spawnChild(args, opts = {}) {
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

export async function firstLine(proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (proc.lines.length === 0) {
    if (Date.now() > deadline) throw new Error('child did not answer');
    await sleep(50);
  }
  return JSON.parse(proc.lines[0]);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET on a fresh connection (no keep-alive to race with the server closing an idle socket). */
export function get(url) {
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
export async function sinkCounters(port) {
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

/**
 * The argv of `node <cli> sink` (production node flags first). Each sink run gets its own empty outage
 * buffer: one left in ./data by another run would be replayed first.
 */
export function sinkArgs({ cli, nodeArgs = [] }, targetUrls, dbUrl, extra) {
  const bufferDir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-e2e-buffer-'));
  process.on('exit', () => rmSync(bufferDir, { recursive: true, force: true }));
  return [
    ...NODE_FLAGS,
    ...nodeArgs,
    cli,
    'sink',
    ...(targetUrls.length === 0 ? ['--scrape.target='] : targetUrls.map((u) => `--scrape.target=${u}`)),
    ...(extra.includes('--once') ? [] : ['--scrape.interval=1s']),
    `--database.url=${dbUrl}`,
    '--maintain.schedule=',
    '--log.level=info',
    `--buffer.dir=${bufferDir}`,
    ...extra,
  ];
}

/** The sink's total from its final log line ("stopped", {written}). */
export function loggedWritten(lines) {
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

/** Samples stored in the head: rows of samples_raw plus the non-NULL elements of samples_blocks. */
export async function countRows(db) {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM hostscope.samples_raw)::float8
          + (SELECT COALESCE(sum(cardinality(array_remove("values", NULL))), 0) FROM hostscope.samples_blocks)::float8 AS n`,
  );
  return Number(rows[0].n);
}

/**
 * Runs a long-lived sink scraping `urls` (each `series` samples) for `seconds` after a warm-up; returns its
 * figures. `run`: { cli, nodeArgs, cwd, seconds, series, dbUrl, db, postmaster, logFile, settleSeconds }:
 * the window starts settleSeconds (10) after the warm-up.
 */
export async function runSink(label, urls, run) {
  const { dbUrl, db, postmaster, seconds: duration, series } = run;
  const port = await freePort();
  const before = await countRows(db);
  const proc = spawnChild(sinkArgs(run, urls, dbUrl, [`--web.listen-address=127.0.0.1:${port}`]), {
    env: { ...process.env, ...NODE_ENV_VARS },
    cwd: run.cwd,
  });
  const pid = proc.child.pid;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000);
    // Warm-up: the first scrape of every target creates its series; then two more rounds settle the caches.
    const warmDeadline = Date.now() + 180_000;
    for (;;) {
      const c = await sinkCounters(port);
      if (c.written >= 3 * urls.length * series) break;
      if (Date.now() > warmDeadline)
        throw new Error(`${label}: warm-up did not finish (${JSON.stringify(c)})`);
      await sleep(500);
    }
    // Creating 300k series is a one-off that needs far more memory than scraping them (report it on its
    // own); the garbage it leaves goes at the next full collections. Measure once scraping has settled.
    const warmupPeak = peakRssMb(pid);
    await sleep((run.settleSeconds ?? 10) * 1000);
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
    while (performance.now() - t0 < duration * 1000) {
      await sleep(1000);
      rss.push(rssMb(pid));
    }
    const c1 = await sinkCounters(port);
    const seconds = (performance.now() - t0) / 1000;
    const sinkCpu = (cpuMs(pid) - cpu0) / 1000;
    const pgCpu = serverCpuSeconds(postmaster) - pg0;
    probing = false;
    await probe;
    const hwm = peakRssMb(pid);
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    const after = await countRows(db);
    const logged = loggedWritten(proc.lines);
    if (run.logFile) writeFileSync(run.logFile, `${proc.lines.join('\n')}\n`);
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
      warmupPeak,
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

/**
 * Raw binary COPY of `rows` (series_id, time, value) rows, in COPYs of `rowsPerCopy` rows from a separate
 * node process, into a table with PRIMARY KEY (series_id, time) partitioned by hour like the sink's head.
 */
export async function rawCopyPhase(dbUrl, db, rows, firstTimeMs, targets, rowsPerCopy) {
  await db.query('DROP TABLE IF EXISTS bench_raw_copy');
  await db.query(`CREATE TABLE bench_raw_copy (series_id bigint NOT NULL, time timestamptz NOT NULL,
    value double precision NOT NULL, PRIMARY KEY (series_id, time)) PARTITION BY RANGE (time)`);
  const copies = Math.max(targets, Math.round(rows / rowsPerCopy));
  // Hourly partitions, as the sink's head tables have, over the hours the rows' times span.
  const parts = { rows: [] };
  const lastMs = firstTimeMs + Math.ceil(copies / targets) * 1000;
  for (let h = Math.floor(firstTimeMs / 3_600_000) * 3_600_000; h <= lastMs; h += 3_600_000) {
    const bound = `FOR VALUES FROM ('${new Date(h).toISOString()}') TO ('${new Date(h + 3_600_000).toISOString()}')`;
    await db.query(`CREATE TABLE bench_raw_copy_${parts.rows.length} PARTITION OF bench_raw_copy ${bound}`);
    parts.rows.push({ bound });
  }
  const proc = spawnChild([
    LIB,
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

export const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

/** Starts the target server child (`count` targets of `total` samples); resolves its URLs and body size. */
export async function startTargets(count, total) {
  const proc = spawnChild([LIB, '--serve', String(count), String(total)]);
  const { ports, bytes } = await firstLine(proc, 120_000);
  return {
    proc,
    urls: ports.map((p) => `http://127.0.0.1:${p}/metrics`),
    bytes,
    async stop() {
      proc.child.stdin.end();
      await Promise.race([proc.exited, sleep(2000)]);
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    },
  };
}

if (process.argv[1] === LIB) {
  const [mode, ...args] = process.argv.slice(2);
  const run =
    mode === '--serve'
      ? serveTargets(Number(args[0]), Number(args[1]))
      : mode === '--raw-copy'
        ? rawCopy(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4]), Number(args[5]))
        : Promise.reject(new Error(`bench-lib.mjs: unknown mode ${mode}`));
  run.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
