// Load scenarios: the exporter under 50 concurrent scrapers (node_exporter as the peer), a fleet of replay
// targets from one sink (file_sd), and the sink offered about twice what it can write.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { percentile, rssMb, sleep, startTargets } from '../bench-lib.mjs';
import {
  f1,
  f2,
  freshDatabase,
  startExporter,
  startNodeExporter,
  startReplay,
  startSink,
  verdict,
  watchProcess,
} from './lib.mjs';

function scrapeOnce(agent, url) {
  return new Promise((resolve) => {
    const t = performance.now();
    const req = request(url, { agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t }));
      res.on('error', () => resolve({ status: 0, ms: performance.now() - t }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t }));
    req.end();
  });
}

async function hammer(target, scrapers, seconds) {
  const agent = new Agent({ keepAlive: true, maxSockets: scrapers });
  const ok = [];
  let limited = 0;
  let failed = 0;
  const watch = watchProcess(target.child.pid);
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: scrapers }, async () => {
      while (Date.now() < deadline) {
        const r = await scrapeOnce(agent, target.url);
        if (r.status === 200) ok.push(r.ms);
        else if (r.status === 503) limited++;
        else failed++;
      }
    }),
  );
  agent.destroy();
  const w = watch.stop();
  return {
    scrapes: ok.length,
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    limited,
    failed,
    ...w,
  };
}

/** 1. Exporter load: hostscope, then node_exporter, each under the same scrapers for the same time. */
export async function exporterLoad(p) {
  const scrapers = 50;
  const hs = await startExporter(['--no-collector.docker']);
  let hsr;
  try {
    for (let i = 0; i < 20; i++) await scrapeOnce(undefined, hs.url);
    hsr = await hammer(hs, scrapers, p.loadSeconds);
  } finally {
    await hs.stop();
  }
  const ne = await startNodeExporter();
  let ner;
  try {
    for (let i = 0; i < 20; i++) await scrapeOnce(undefined, ne.url);
    ner = await hammer(ne, scrapers, p.loadSeconds);
  } finally {
    await ne.stop();
  }
  const row = (r) =>
    `${r.scrapes} ok, p50 ${f2(r.p50)} ms, p99 ${f2(r.p99)} ms, ${r.limited} × 503 (max-requests), ` +
    `${r.failed} failed, CPU ${f1(r.cpuPercent)} % of a core, RSS peak ${f1(r.rssPeak)} MB, end ${f1(r.rssLast)} MB`;
  const failures = [];
  if (hsr.failed > 0) failures.push(`${hsr.failed} failed scrapes (not 200 nor 503)`);
  if (hsr.scrapes === 0) failures.push('no successful scrape');
  return verdict(
    'Exporter load',
    `${scrapers} concurrent keep-alive scrapers for ${p.loadSeconds} s against \`hostscope exporter --no-collector.docker\` ` +
      '(default `--web.max-requests=40`), then against node_exporter 1.5 (upstream defaults) under the same load. ' +
      'Pass: no failed scrape (503s from the request limit are counted apart).',
    [
      ['hostscope', row(hsr)],
      ['node_exporter (peer)', row(ner)],
      [
        'ratio hostscope/node_exporter',
        `p50 ${f2(hsr.p50 / ner.p50)}, p99 ${f2(hsr.p99 / ner.p99)}, throughput ${f2(hsr.scrapes / ner.scrapes)}, ` +
          `CPU ${f2(hsr.cpuPercent / ner.cpuPercent)}, RSS peak ${f2(hsr.rssPeak / ner.rssPeak)}`,
      ],
    ],
    failures,
  );
}

/** Per round: the span from the first request of the round to the last response (replay server's clock). */
function roundSpans(requests, intervalMs) {
  const sorted = [...requests].sort((a, b) => a[0] - b[0]);
  const rounds = [];
  let cur;
  for (const [s, e] of sorted) {
    if (cur === undefined || s - cur.start > intervalMs / 2) {
      cur = { start: s, end: e, n: 0 };
      rounds.push(cur);
    }
    cur.end = Math.max(cur.end, e);
    cur.n++;
  }
  return rounds;
}

/** 2. Fleet: N replay targets in a file_sd file, scraped by one sink; rows checked in SQL per round. */
export async function fleet(p, pg) {
  const { targets, rounds, intervalS } = p.fleet;
  const dbUrl = await freshDatabase(pg.admin, pg.url, 'stress_fleet');
  const replay = await startReplay(targets);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-sd-'));
  const sdFile = path.join(dir, 'fleet.json');
  writeFileSync(sdFile, JSON.stringify([{ targets: replay.addresses, labels: { env: 'stress' } }]));
  const { Client } = await import('pg');
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  const sink = await startSink({ dbUrl, fileSd: sdFile, interval: `${intervalS}s` });
  const failures = [];
  let w;
  let coldS = NaN;
  try {
    // The first round creates every series; measured rounds follow it.
    // (new series are created then: a cold start, timed apart).
    const cold0 = Date.now();
    const firstDeadline = cold0 + 300_000;
    for (;;) {
      const c = await sink.counters();
      if (c.written >= targets * replay.samples && c.buffered === 0) break;
      if (Date.now() > firstDeadline)
        throw new Error(`cold start not written in 300 s: ${JSON.stringify(c)}`);
      await sleep(250);
    }
    coldS = (Date.now() - cold0) / 1000;
    await sleep(intervalS * 1000);
    w = watchProcess(sink.child.pid);
    const c0 = await sink.counters();
    const t0 = Date.now();
    const seen = new Map(); // round time (ms) -> first moment all targets' `up` rows were in
    while (Date.now() - t0 < rounds * intervalS * 1000 + 1000) {
      // The statement's snapshot is taken when it starts: rows it sees were in by then.
      const asOf = Date.now();
      const { rows } = await db.query(
        `SELECT (extract(epoch FROM time) * 1000)::float8 AS t, count(*)::int AS n FROM hostscope.samples
          WHERE metric = 'up' AND value = 1 AND time >= $1 GROUP BY time`,
        [new Date(t0 - intervalS * 1000)],
      );
      for (const r of rows) if (r.n >= targets && !seen.has(r.t)) seen.set(r.t, asOf);
      await sleep(250);
    }
    // Let the last round's writes land.
    const settle = Date.now() + intervalS * 1000;
    const final = new Map();
    while (Date.now() < settle) {
      const asOf = Date.now();
      const { rows } = await db.query(
        `SELECT (extract(epoch FROM time) * 1000)::float8 AS t, count(*)::int AS n,
                count(DISTINCT labels->>'instance')::int AS instances FROM hostscope.samples
          WHERE metric = 'up' AND time >= $1 GROUP BY time ORDER BY time`,
        [new Date(t0)],
      );
      for (const r of rows) {
        final.set(r.t, r);
        if (r.n >= targets && !seen.has(r.t)) seen.set(r.t, asOf);
      }
      await sleep(250);
    }
    const ws = w.stop();
    const c1 = await sink.counters();
    const measured = [...final.values()].filter((r) => r.t >= t0 && r.t < t0 + rounds * intervalS * 1000);
    const { rows: perScrape } = await db.query(
      `SELECT min(n)::int AS min, max(n)::int AS max FROM (SELECT count(*) AS n FROM hostscope.samples
        WHERE time >= $1 AND time < $2 GROUP BY labels->>'instance', time) x`,
      [new Date(t0), new Date(t0 + rounds * intervalS * 1000)],
    );
    const lags = measured.map((r) => (seen.get(r.t) ?? Infinity) - r.t);
    const stats = await replay.stats();
    const spans = roundSpans(
      stats.requests.filter(([s]) => s >= t0),
      intervalS * 1000,
    ).map((r) => r.end - r.start);
    const complete = measured.filter((r) => r.instances === targets && r.n === targets).length;
    if (measured.length < rounds) failures.push(`${measured.length} rounds stored, ${rounds} expected`);
    if (complete < measured.length) failures.push(`${measured.length - complete} rounds missing targets`);
    if (c1.skippedOverrun > c0.skippedOverrun)
      failures.push(`${c1.skippedOverrun - c0.skippedOverrun} rounds skipped (overrun)`);
    if (c1.scrapeFailures > c0.scrapeFailures)
      failures.push(`${c1.scrapeFailures - c0.scrapeFailures} failed scrapes`);
    const maxLag = Math.max(...lags);
    if (!(maxLag < intervalS * 1000)) failures.push(`written lag ${maxLag} ms ≥ one interval`);
    if (perScrape[0].min !== perScrape[0].max)
      failures.push(`samples per scrape vary: ${perScrape[0].min}..${perScrape[0].max}`);
    return verdict(
      'Fleet from one sink',
      `${targets} loopback targets (one replay process, one port each, so each is its own \`instance\`) serving ` +
        `recorded exporter bodies (${replay.samples} samples, ${(replay.bytes / 1024).toFixed(0)} KiB) ` +
        `listed in a \`--scrape.file-sd\` JSON file, scraped every ${intervalS} s by one sink into a private ` +
        `PostgreSQL; ${rounds} measured rounds after the first. Per round, the \`up\` rows of every target are ` +
        'polled in SQL. Pass: every round stored with every target, no round skipped, no failed scrape, ' +
        'the same number of rows per scrape, and each round fully written within one interval of its tick.',
      [
        ['cold start: first round (every series new) written after', `${f1(coldS)} s`],
        ['rounds stored / complete', `${measured.length} / ${complete}`],
        ['rows per scrape (min..max)', `${perScrape[0].min}..${perScrape[0].max}`],
        ['written lag (tick → all rows in SQL), p50 / max', `${f1(percentile(lags, 50))} / ${f1(maxLag)} ms`],
        [
          'round scrape span p50 / p99 (first request → last response, replay server)',
          `${f1(percentile(spans, 50))} / ${f1(percentile(spans, 99))} ms`,
        ],
        [
          'rounds skipped (overrun), failed scrapes',
          `${c1.skippedOverrun - c0.skippedOverrun}, ${c1.scrapeFailures - c0.scrapeFailures}`,
        ],
        [
          'sink CPU, RSS peak / end',
          `${f1(ws.cpuPercent)} % of a core, ${f1(ws.rssPeak)} / ${f1(ws.rssLast)} MB`,
        ],
        ['samples written per second', f1((c1.written - c0.written) / ((Date.now() - t0) / 1000))],
      ],
      failures,
    );
  } finally {
    if (w !== undefined) w.stop();
    await sink.stop();
    sink.removeBuffer();
    await db.end();
    await replay.stop();
    rmSync(dir, { recursive: true, force: true });
    await pg.admin.query('DROP DATABASE IF EXISTS stress_fleet');
  }
}

/**
 * 3. Back-pressure: big targets (bench-lib's node_exporter-like bodies) at a 1 s interval, about twice what
 * the sink writes here; the sink must skip rounds (counted) and keep its memory bounded.
 */
export async function backPressure(p, pg) {
  const { targets, series, seconds } = p.backPressure;
  const dbUrl = await freshDatabase(pg.admin, pg.url, 'stress_backpressure');
  const big = await startTargets(targets, series);
  const sink = await startSink({ dbUrl, targets: big.urls, interval: '1s' });
  const failures = [];
  const notes = [];
  try {
    // The first round creates every series (a cold start, timed apart); the back-pressure is measured after.
    const cold0 = Date.now();
    let peakCold = 0;
    for (;;) {
      const c = await sink.counters();
      peakCold = Math.max(peakCold, rssMb(sink.child.pid));
      if (c.written >= targets * series) break;
      if (Date.now() - cold0 > 400_000)
        throw new Error(`cold start not written in 400 s: ${JSON.stringify(c)}`);
      await sleep(500);
    }
    const coldS = (Date.now() - cold0) / 1000;
    const c0 = await sink.counters();
    const w = watchProcess(sink.child.pid, 250);
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(1000);
      if (sink.child.exitCode !== null || sink.child.signalCode !== null) break;
    }
    const c = await sink.counters().catch(() => undefined);
    const ws = w.stop();
    const elapsed = (Date.now() - t0) / 1000;
    const crashed = sink.child.exitCode !== null || sink.child.signalCode !== null;
    if (crashed) failures.push(`sink exited (${sink.child.exitCode ?? sink.child.signalCode})`);
    const offered = (targets * series) / 1; // per second at a 1 s interval
    const rate = c === undefined ? 0 : (c.written - c0.written) / elapsed;
    const skippedOverrun = c === undefined ? 0 : c.skippedOverrun - c0.skippedOverrun;
    const skippedBacklog = c === undefined ? 0 : c.skippedBacklog - c0.skippedBacklog;
    if (c !== undefined && rate > offered * 0.8)
      notes.push(`the sink kept up (${f1(rate)}/s of ${offered}/s offered): little back-pressure exercised`);
    else if (c !== undefined && skippedOverrun + skippedBacklog === 0)
      failures.push('no round skipped while overloaded');
    // Bound: --buffer.max-samples (1,000,000 at ~25 B) + two bodies in flight + the runtime, with margin.
    const bound = p.backPressure.rssBoundMb;
    if (ws.rssPeak > bound) failures.push(`RSS peak ${f1(ws.rssPeak)} MB over ${bound} MB`);
    return verdict(
      'Sink back-pressure',
      `${targets} targets of ${series.toLocaleString('en-US')} samples each (bench-lib's node_exporter-like ` +
        `bodies) scraped every 1 s by one sink, measured for ${seconds} s after the first round (every series new) is written: ${offered.toLocaleString('en-US')} samples/s ` +
        'offered, well over what one sink writes on this machine. Pass: no crash, rounds skipped and counted ' +
        `(overrun / backlog), RSS peak under ${bound} MB.`,
      [
        [
          'cold start: first round (every series new) written after, RSS peak',
          `${f1(coldS)} s, ${f1(peakCold)} MB`,
        ],
        [
          'offered / written per second',
          `${offered.toLocaleString('en-US')} / ${f1(rate)} (${f2(rate / offered)}×)`,
        ],
        [
          'rounds skipped: overrun / backlog',
          c === undefined ? 'n/a' : `${skippedOverrun} / ${skippedBacklog}`,
        ],
        ['samples waiting at the end (in memory)', c === undefined ? 'n/a' : String(c.buffered)],
        ['dropped samples', c === undefined ? 'n/a' : String(c.dropped)],
        [
          'sink CPU, RSS peak / end',
          `${f1(ws.cpuPercent)} % of a core, ${f1(ws.rssPeak)} / ${f1(ws.rssLast)} MB`,
        ],
      ],
      failures,
    );
  } finally {
    await sink.stop();
    sink.removeBuffer();
    await big.stop();
    await pg.admin.query('DROP DATABASE IF EXISTS stress_backpressure');
  }
}
