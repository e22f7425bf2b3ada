#!/usr/bin/env node
// What open overview pages cost the sink (`npm run bench:page`). One `node dist/cli.js sink` scrapes one large
// node_exporter-like target (BENCH_SERIES samples, default 100,000) every second into a private PostgreSQL
// cluster with default settings. After a warm-up, phases of BENCH_SECONDS (30) alternate between 0 and
// BENCH_CLIENTS (20) viewers, BENCH_ROUNDS (3) times each, on the same sink process: each viewer fetches the
// page (index.html, script, stylesheet, brotli) once and then consumes the live stream (GET /api/v1/live) for
// the whole phase, as an open browser tab does. Figures per condition, side by side with their ratio:
//  - scrape duration: the mean of the scrape_duration_seconds samples the sink stored during the phases;
//  - write throughput: samples written per second (hostscope_sink_samples_written_total), and the mean
//    batch write time (hostscope_sink_write_duration_seconds);
//  - sink CPU per round, and the live page's own compute time (hostscope_sink_live_compute_seconds_total).
// The target: within 5 % (ratio 0.95..1.05 for throughput, <= 1.05 for the durations).
// Needs root and the PostgreSQL server binaries under /usr/lib/postgresql. Everything is removed afterwards.
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  cpuMs,
  fmt,
  freePort,
  get,
  privateCluster,
  sinkArgs,
  sleep,
  spawnChild,
  startTargets,
  table,
  waitForHttp,
} from './bench-lib.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.BENCH_CLI ?? path.join(ROOT, 'dist', 'cli.js');
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The sink's counters this benchmark reads from its /metrics. */
async function counters(port) {
  const text = await get(`http://127.0.0.1:${port}/metrics`);
  const one = (name) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  let scrapes = 0;
  for (const m of text.matchAll(/^hostscope_sink_scrapes_total\{[^}]*\} (\S+)$/gm)) scrapes += Number(m[1]);
  return {
    written: one('hostscope_sink_samples_written_total'),
    scrapes,
    writeSum: one('hostscope_sink_write_duration_seconds_sum'),
    writeCount: one('hostscope_sink_write_duration_seconds_count'),
    liveCompute: one('hostscope_sink_live_compute_seconds_total'),
    liveClients: one('hostscope_sink_live_clients'),
    buffered: one('hostscope_sink_buffer_samples'),
  };
}

/** A viewer: fetches the page's files once, then reads the live stream until closed. */
async function viewer(base) {
  const index = await fetch(`${base}/`, { headers: { 'Accept-Encoding': 'br' } });
  let bytes = Number(index.headers.get('content-length'));
  const html = await (await fetch(`${base}/`)).text();
  for (const m of html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)) {
    const res = await fetch(`${base}/${m[1]}`, { headers: { 'Accept-Encoding': 'br' } });
    // As sent (fetch hands the body over decompressed).
    bytes += Number(res.headers.get('content-length'));
    await res.arrayBuffer();
  }
  const stream = { bytes: 0, messages: 0, close: () => undefined };
  await new Promise((resolve, reject) => {
    const req = request(`${base}/api/v1/live`, { agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`live stream answered ${res.statusCode}`));
      res.on('data', (c) => {
        stream.bytes += c.length;
        stream.messages += c.toString().split('event: host\n').length - 1;
      });
      res.on('error', () => undefined);
      resolve();
    });
    req.on('error', reject);
    req.end();
    stream.close = () => req.destroy();
  });
  return { pageBytes: bytes, stream };
}

async function phase(label, port, db, pid, clients) {
  const base = `http://127.0.0.1:${port}`;
  const viewers = await Promise.all(Array.from({ length: clients }, () => viewer(base)));
  await sleep(1000);
  const c0 = await counters(port);
  const cpu0 = cpuMs(pid);
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const c1 = await counters(port);
  const cpu1 = cpuMs(pid);
  const t1 = Date.now();
  for (const v of viewers) v.stream.close();
  const r = await db.query(
    `SELECT avg(value)::float8 AS mean, count(*)::int AS n FROM hostscope.samples
      WHERE metric = 'scrape_duration_seconds' AND time >= to_timestamp($1::float8) AND time < to_timestamp($2::float8)`,
    [t0 / 1000, t1 / 1000],
  );
  const seconds = (t1 - t0) / 1000;
  const rounds = c1.scrapes - c0.scrapes;
  return {
    label,
    clients,
    connected: c1.liveClients,
    seconds,
    scrapeMean: r.rows[0].mean,
    scrapes: r.rows[0].n,
    rate: (c1.written - c0.written) / seconds,
    writeMean: (c1.writeSum - c0.writeSum) / Math.max(1, c1.writeCount - c0.writeCount),
    cpuPerRound: (cpu1 - cpu0) / Math.max(1, rounds),
    liveMsPerRound: ((c1.liveCompute - c0.liveCompute) * 1000) / Math.max(1, rounds),
    rounds,
    buffered: c1.buffered,
    messages: viewers.reduce((s, v) => s + v.stream.messages, 0),
    streamBytes: viewers.reduce((s, v) => s + v.stream.bytes, 0),
    pageBytes: viewers[0]?.pageBytes ?? 0,
  };
}

async function main() {
  const { Client } = require('pg');
  const cluster = await privateCluster();
  const target = await startTargets(1, SERIES);
  const db = new Client({ connectionString: cluster.url });
  let sink;
  try {
    await db.connect();
    console.log(
      `hostscope overview page cost: PostgreSQL ${cluster.version} (default settings), ${os.cpus().length} CPUs, ` +
        `target ${(target.bytes / 2 ** 20).toFixed(1)} MiB / ${fmt(SERIES)} samples scraped every 1 s, ` +
        `${ROUNDS} x (${SECONDS} s with 0 viewers, ${SECONDS} s with ${CLIENTS})`,
    );
    execFileSync(process.execPath, [CLI, 'migrate', `--database.url=${cluster.url}`, '--log.level=warn'], {
      stdio: 'inherit',
    });
    const port = await freePort();
    sink = spawnChild(
      sinkArgs({ cli: CLI }, target.urls, cluster.url, [`--web.listen-address=127.0.0.1:${port}`]),
      { cwd: ROOT },
    );
    await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000);
    const warm = Date.now() + 180_000;
    while ((await counters(port)).written < 5 * SERIES) {
      if (Date.now() > warm) throw new Error('warm-up did not finish');
      await sleep(500);
    }
    const results = [];
    for (let i = 0; i < ROUNDS; i++)
      for (const clients of [0, CLIENTS]) {
        const r = await phase(`${clients} viewers #${i + 1}`, port, db, sink.child.pid, clients);
        console.log(`  ${JSON.stringify(r)}`);
        results.push(r);
      }
    const mean = (clients, key) => {
      const rs = results.filter((r) => r.clients === clients);
      return rs.reduce((s, r) => s + r[key], 0) / rs.length;
    };
    const row = (name, key, digits, unit = '') => {
      const a = mean(0, key);
      const b = mean(CLIENTS, key);
      return [name, `${a.toFixed(digits)}${unit}`, `${b.toFixed(digits)}${unit}`, `${(b / a).toFixed(3)}`];
    };
    const rows = [
      ['', '0 viewers', `${CLIENTS} viewers`, 'ratio'],
      row('scrape duration, mean', 'scrapeMean', 3, ' s'),
      row('write throughput', 'rate', 0, ' samples/s'),
      row('batch write time, mean', 'writeMean', 3, ' s'),
      row('sink CPU per round', 'cpuPerRound', 0, ' ms'),
      row('live page compute per round', 'liveMsPerRound', 2, ' ms'),
      ['scrape rounds done', mean(0, 'rounds').toFixed(1), mean(CLIENTS, 'rounds').toFixed(1), ''],
      ['live messages received (all viewers)', '0', fmt(mean(CLIENTS, 'messages')), ''],
      ['page bytes per viewer (brotli)', '', fmt(results.find((r) => r.clients === CLIENTS)?.pageBytes), ''],
    ];
    console.log(table(rows));
    const scrape = mean(CLIENTS, 'scrapeMean') / mean(0, 'scrapeMean');
    const rate = mean(CLIENTS, 'rate') / mean(0, 'rate');
    const ok = scrape <= 1.05 && rate >= 0.95 && rate <= 1.05;
    console.log(
      `  within 5 %: ${ok ? 'yes' : 'NO'} (scrape duration x${scrape.toFixed(3)}, write throughput x${rate.toFixed(3)})`,
    );
    console.log(
      `  load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    if (sink !== undefined && sink.child.exitCode === null) {
      sink.child.kill('SIGTERM');
      await Promise.race([sink.exited, sleep(30_000)]);
      if (sink.child.exitCode === null) sink.child.kill('SIGKILL');
    }
    await db.end().catch(() => undefined);
    await target.stop();
    cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
