#!/usr/bin/env node
// What open overview pages cost the sink (`npm run bench:page`). One `node dist/cli.js sink` scrapes one large
// node_exporter-like target (BENCH_SERIES samples, default 100,000) every second into a private PostgreSQL
// cluster with default settings. After a warm-up, phases of BENCH_SECONDS (10) run on the same sink process,
// in pairs of adjacent phases:
//  - treatment pairs: 0 and BENCH_CLIENTS (20) viewers, the order alternating from pair to pair (0 then 20,
//    20 then 0), so that a drift of the machine over time does not favour either;
//  - control pairs: 0 and 0 viewers, interleaved with them: the same comparison with nothing changed,
//    whose ratios show how far two phases differ by noise alone (the noise floor).
// BENCH_PAIRS (12) of each. A viewer fetches the page (index.html, script, stylesheet, brotli) once and then
// consumes the live stream (GET /api/v1/live) for the whole phase, as an open browser tab does.
// Per phase: the median scrape duration (scrape_duration_seconds the sink stored during the phase),
// write throughput (hostscope_sink_samples_written_total per second), mean batch write time
// (hostscope_sink_write_duration_seconds), sink CPU per round and the live page's own compute time per
// round (hostscope_sink_live_compute_seconds_total). Per pair, the ratio of its two phases (20/0, or
// second/first for the controls); per figure, the median ratio of the treatment pairs with a
// distribution-free interval (order statistics, >= 95 % coverage), beside the control pairs' median and
// interval, whose farthest end from 1 is the noise floor: how far a comparison of identical conditions
// lands. The target: within 5 % (ratio 0.95..1.05 for throughput, <= 1.05 for the durations), shown when
// the treatment's whole interval is; a cost below the noise floor cannot be told from noise.
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 20);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 12);

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
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY value)::float8 AS median, count(*)::int AS n
       FROM hostscope.samples
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
    scrapeMedian: r.rows[0].median,
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
  const loadAtStart = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
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
        `${PAIRS} pairs of ${SECONDS} s phases with 0 and ${CLIENTS} viewers and ${PAIRS} control pairs (0 and 0)`,
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
    // Treatment and control pairs interleaved; the treatment's order alternates.
    const plan = [];
    for (let i = 0; i < PAIRS; i++) {
      plan.push({ kind: 'treatment', clients: i % 2 === 0 ? [0, CLIENTS] : [CLIENTS, 0] });
      plan.push({ kind: 'control', clients: [0, 0] });
    }
    const pairs = [];
    for (const [n, p] of plan.entries()) {
      const phases = [];
      for (const clients of p.clients) {
        const r = await phase(`${p.kind} ${n + 1}: ${clients} viewers`, port, db, sink.child.pid, clients);
        console.log(`  ${JSON.stringify(r)}`);
        phases.push(r);
      }
      // Treatment: the phase with viewers over the one without; control: the second over the first.
      const [a, b] =
        p.kind === 'treatment'
          ? [phases.find((x) => x.clients === 0), phases.find((x) => x.clients === CLIENTS)]
          : phases;
      pairs.push({ kind: p.kind, a, b });
    }
    const median = (xs) => {
      const s = [...xs].sort((x, y) => x - y);
      const m = s.length >> 1;
      return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    };
    /**
     * A distribution-free confidence interval of the median of `xs` (order statistics, the sign test's
     * binomial): [x(k), x(n-k+1)] with the largest k whose coverage is at least 95 %, and that coverage.
     */
    const medianInterval = (xs) => {
      const s = [...xs].sort((x, y) => x - y);
      const n = s.length;
      const binom = (k) => {
        let c = 1;
        for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
        return c / 2 ** n;
      };
      let k = 1;
      let below = binom(0); // P(Bin(n, 1/2) <= k - 1)
      while (k < n / 2 && 1 - 2 * (below + binom(k)) >= 0.95) below += binom(k++);
      return { low: s[k - 1], high: s[n - k], coverage: 1 - 2 * below };
    };
    const ratios = (kind, key) => pairs.filter((p) => p.kind === kind).map((p) => p.b[key] / p.a[key]);
    const values = (clients, key) =>
      pairs
        .flatMap((p) => [p.a, p.b])
        .filter((r) => r.clients === clients)
        .map((r) => r[key]);
    const figures = [
      ['scrape duration, median', 'scrapeMedian', 3, ' s'],
      ['write throughput', 'rate', 0, ' samples/s'],
      ['batch write time, mean', 'writeMean', 3, ' s'],
      ['sink CPU per round', 'cpuPerRound', 0, ' ms'],
    ];
    const interval = (xs) => {
      const i = medianInterval(xs);
      return `${median(xs).toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`;
    };
    const coverage = medianInterval(Array(PAIRS).fill(1)).coverage;
    const rows = [
      [
        '',
        '0 viewers (median)',
        `${CLIENTS} viewers (median)`,
        `${CLIENTS}/0: median ratio [${(100 * coverage).toFixed(0)} % interval]`,
        `0/0 control: median ratio [interval]`,
        'noise floor',
      ],
    ];
    const verdicts = {};
    for (const [name, key, digits, unit] of figures) {
      const t = ratios('treatment', key);
      const c = ratios('control', key);
      // How far from 1 a comparison of two identical conditions lands: the control's interval.
      const ci = medianInterval(c);
      const floor = Math.max(Math.abs(ci.low - 1), Math.abs(ci.high - 1));
      verdicts[key] = { ratio: median(t), ...medianInterval(t), floor };
      rows.push([
        name,
        `${median(values(0, key)).toFixed(digits)}${unit}`,
        `${median(values(CLIENTS, key)).toFixed(digits)}${unit}`,
        interval(t),
        interval(c),
        `±${(100 * floor).toFixed(1)} %`,
      ]);
    }
    rows.push(
      [
        'live page compute per round',
        `${median(values(0, 'liveMsPerRound')).toFixed(2)} ms`,
        `${median(values(CLIENTS, 'liveMsPerRound')).toFixed(2)} ms`,
        '',
        '',
        '',
      ],
      [
        'scrape rounds per phase',
        median(values(0, 'rounds')).toFixed(0),
        median(values(CLIENTS, 'rounds')).toFixed(0),
        '',
        '',
        '',
      ],
      ['live messages per phase (all viewers)', '0', fmt(median(values(CLIENTS, 'messages'))), '', '', ''],
      [
        'page bytes per viewer (brotli)',
        '',
        fmt(pairs.find((p) => p.kind === 'treatment')?.b.pageBytes),
        '',
        '',
        '',
      ],
    );
    console.log(table(rows));
    const scrape = verdicts.scrapeMedian;
    const rate = verdicts.rate;
    const pct = (v) =>
      `x${v.ratio.toFixed(3)} [${v.low.toFixed(3)}, ${v.high.toFixed(3)}], noise floor ±${(100 * v.floor).toFixed(1)} %`;
    // Shown within 5 %: the whole interval of the median ratio is (durations may only be faster).
    const shown = scrape.high <= 1.05 && rate.low >= 0.95 && rate.high <= 1.05;
    const point = scrape.ratio <= 1.05 && rate.ratio >= 0.95 && rate.ratio <= 1.05;
    console.log(`  scrape duration ${pct(scrape)}; write throughput ${pct(rate)}`);
    console.log(
      `  within 5 %: ${shown ? 'yes, the whole interval' : point ? 'the median ratios are, their intervals are not' : 'NO'}` +
        (scrape.floor <= 0.05 && rate.floor <= 0.05
          ? ''
          : shown
            ? '; the noise floor is above 5 %: a cost that small could not be told from noise'
            : '; the noise floor is above 5 %, so this run cannot resolve 5 % (run longer phases, more pairs, or on a quieter machine)'),
    );
    console.log(
      `  ${PAIRS} treatment and ${PAIRS} control pairs of ${SECONDS} s phases; load average at the start: ${loadAtStart}; at the end: ${os
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
