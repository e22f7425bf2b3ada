#!/usr/bin/env node
// Benchmark of the sink's write path (`npm run bench:sink`). Prints, in one run:
//  1. steady-state samples/s of the whole path (parse exposition text, series cache lookup, binary COPY
//     into the partitioned samples table with its primary key), next to a raw binary COPY of the very same
//     rows into an equivalent table (same columns, same partitioning and primary key);
//  2. memory (RSS, heap) after the run;
//  3. the hourly rollup of one day of 2,000 series at 15 s (11.5M samples), timed.
// Uses $DATABASE_URL when set; otherwise a private throwaway PostgreSQL cluster (needs root and the
// server binaries under /usr/lib/postgresql), removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { privateCluster, serverCpuSeconds, TUNED_SETTINGS } from './bench-lib.mjs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist');
const { parseExposition } = require(path.join(dist, 'expfmt/parse.js'));
const { PostgresDatabase } = require(path.join(dist, 'db/postgres.js'));
const { migrate } = require(path.join(dist, 'db/migrate.js'));
const { BinaryCopyWriter } = require(path.join(dist, 'db/binary-copy.js'));
const { PartitionManager, dayStart } = require(path.join(dist, 'db/partitions.js'));
const { Sink } = require(path.join(dist, 'sink/sink.js'));
const { rollupHour } = require(path.join(dist, 'sink/maintain.js'));
const { silentLogger } = require(path.join(dist, 'log/logger.js'));

const TARGETS = Number(process.env.BENCH_TARGETS ?? 20);
const SERIES_PER_TARGET = Number(process.env.BENCH_SERIES ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const ROLLUP_SERIES = 2000;
const STEP_MS = 15_000;

/** node_exporter-like exposition text: families of 50 series with 3 labels each. */
function exposition(target) {
  const lines = [];
  const families = Math.ceil(SERIES_PER_TARGET / 50);
  let n = 0;
  for (let f = 0; f < families && n < SERIES_PER_TARGET; f++) {
    const counter = f % 2 === 0;
    const name = counter ? `bench_metric_${f}_total` : `bench_metric_${f}_bytes`;
    lines.push(`# HELP ${name} Benchmark metric ${f}.`, `# TYPE ${name} ${counter ? 'counter' : 'gauge'}`);
    for (let s = 0; s < 50 && n < SERIES_PER_TARGET; s++, n++) {
      const value = counter ? 1e6 * Math.random() : Math.random() * 1e9;
      lines.push(
        `${name}{device="sd${String.fromCharCode(97 + (s % 26))}${s}",mode="m${s % 7}",target="t${target}"} ${value}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** CPU seconds (user + system) used so far by a process and its live children (the PostgreSQL server). */
function cpuMeter(postmaster) {
  const c0 = process.cpuUsage();
  const s0 = serverCpuSeconds(postmaster);
  return () => {
    const c = process.cpuUsage(c0);
    return { client: (c.user + c.system) / 1e6, server: serverCpuSeconds(postmaster) - s0 };
  };
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}

async function main() {
  const cluster = process.env.DATABASE_URL
    ? undefined
    : await privateCluster({
        settings: { ...TUNED_SETTINGS, checkpoint_timeout: '30min' },
      });
  const url = process.env.DATABASE_URL ?? cluster.url;
  const db = new PostgresDatabase(url, { max: 4 });
  const logger = silentLogger();
  try {
    await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE; DROP TABLE IF EXISTS bench_raw_copy CASCADE;');
    await migrate(db, logger);
    const targets = Array.from({ length: TARGETS }, (_, i) => ({
      url: `http://bench-${i}:9100/metrics`,
      instance: `bench-${i}:9100`,
      job: 'bench',
    }));
    const bodies = targets.map((_, i) => exposition(i));
    const bufferDir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-bench-buffer-'));
    const sink = await Sink.open(
      db,
      {
        targets,
        intervalMs: STEP_MS,
        timeoutMs: 10_000,
        bodyLimitBytes: 0,
        bufferDir,
        bufferMaxBytes: 4 * 1024 ** 3,
        // Everything stays in memory (the direct path): this measures writing, not the disk buffer.
        bufferMaxSamples: 50_000_000,
        batchSamples: 250_000,
        maintainSchedule: '',
        maintain: { retentionRawMs: 14 * 86_400_000, retentionHourlyMs: 400 * 86_400_000 },
      },
      logger,
    );
    const start = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 3_600_000; // one day, away from midnight
    // As in the sink, scraping and parsing go on while the previous batch is being written (the flush
    // runs in the background); a round waits only when more than six rounds are still unwritten.
    const round = async (r) => {
      const t = start + r * STEP_MS;
      for (let i = 0; i < targets.length; i++) {
        const families = parseExposition(bodies[i], 'text');
        sink.enqueue({
          target: targets[i],
          timeMs: t,
          durationSeconds: 0.01,
          families,
          body: bodies[i],
          format: 'text',
        });
        // Responses of different targets arrive separately: the event loop turns between them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      void sink.flush();
      while (sink.buffer.samples > 6 * TARGETS * SERIES_PER_TARGET)
        await new Promise((resolve) => setTimeout(resolve, 1));
    };
    await round(0); // warm-up: creates metrics, series and the partition
    if (!(await sink.flush())) throw new Error('flush failed');
    const perRound = sink.metrics.samplesWritten;
    const t0 = performance.now();
    const pathCpu = cpuMeter(cluster?.postmaster);
    for (let r = 1; r <= ROUNDS; r++) await round(r);
    if (!(await sink.flush())) throw new Error('flush failed');
    const pathSeconds = (performance.now() - t0) / 1000;
    const pathCpuUsed = pathCpu();
    // Memory of the sink path in steady state (before the raw COPY comparison loads its rows).
    const mem = process.memoryUsage();
    const pathSamples = sink.metrics.samplesWritten - perRound;
    const pathRate = pathSamples / pathSeconds;

    // Raw COPY of the same rows (series ids and values of the stored samples) into an equivalent table.
    await db.exec(`CREATE TABLE bench_raw_copy (series_id bigint NOT NULL, time timestamptz NOT NULL, value double precision NOT NULL,
      PRIMARY KEY (series_id, time)) PARTITION BY RANGE (time);
      CREATE INDEX ON bench_raw_copy USING brin (time);
      CREATE TABLE bench_raw_copy_d PARTITION OF bench_raw_copy FOR VALUES FROM ('${new Date(dayStart(start)).toISOString()}') TO ('${new Date(dayStart(start) + 86_400_000).toISOString()}');`);
    const rows = await db.query(
      `SELECT series_id::float8 AS s, (extract(epoch FROM time) * 1000)::float8 AS t, value AS v FROM hostscope.samples_raw
      WHERE time > $1 ORDER BY time, series_id`,
      [new Date(start).toISOString()],
    );
    const payloads = [];
    for (let i = 0; i < rows.length; i += 250_000) {
      const w = new BinaryCopyWriter(250_000 * 38 + 64);
      for (const row of rows.slice(i, i + 250_000)) w.row(3).int8Safe(row.s).timestampMs(row.t).float8(row.v);
      payloads.push(w.finish());
    }
    rows.length = 0;
    const t1 = performance.now();
    const copyCpu = cpuMeter(cluster?.postmaster);
    for (const p of payloads) await db.copyBinary('bench_raw_copy (series_id, time, value)', p);
    const copySeconds = (performance.now() - t1) / 1000;
    const copyCpuUsed = copyCpu();
    const copySamples = Number((await db.query('SELECT count(*)::float8 AS n FROM bench_raw_copy'))[0].n);
    const copyRate = copySamples / copySeconds;
    payloads.length = 0;

    console.log('hostscope sink benchmark');
    console.log(
      `  workload: ${TARGETS} targets x ${fmt(SERIES_PER_TARGET)} series, ${ROUNDS} steady-state rounds (after a warm-up round)`,
    );
    console.log(
      `  sink path (parse + series lookup + binary COPY): ${fmt(pathSamples)} samples in ${pathSeconds.toFixed(2)} s = ${fmt(pathRate)} samples/s`,
    );
    console.log(
      `  raw binary COPY of the same rows:               ${fmt(copySamples)} rows in ${copySeconds.toFixed(2)} s = ${fmt(copyRate)} rows/s`,
    );
    console.log(
      `  ratio sink/raw: ${(pathRate / copyRate).toFixed(2)}x   (targets: >= 200,000 samples/s and >= 0.6x)`,
    );
    const us = (sec, n) => ((sec * 1e6) / n).toFixed(2);
    console.log(
      `  CPU per sample: sink path ${us(pathCpuUsed.client, pathSamples)} us node + ${us(pathCpuUsed.server, pathSamples)} us postgres;` +
        ` raw COPY ${us(copyCpuUsed.client, copySamples)} us node + ${us(copyCpuUsed.server, copySamples)} us postgres`,
    );
    console.log(
      `  load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${os.cpus().length} CPUs (other work on the machine skews the wall-clock rates)`,
    );
    console.log(
      `  memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, series cached ${fmt(sink.writer.cachedSeries)}`,
    );

    await sink.buffer.close();
    rmSync(bufferDir, { recursive: true, force: true });

    // Rollup: one day of 2,000 series at 15 s.
    if (process.env.BENCH_SKIP_ROLLUP) return;
    await db.exec('DROP SCHEMA hostscope CASCADE; DROP TABLE bench_raw_copy;');
    await migrate(db, logger);
    const day = dayStart(Date.now()) - 2 * 86_400_000;
    const parts = new PartitionManager();
    await parts.ensureDays(db, 'samples_raw', [day]);
    await db.exec(`INSERT INTO hostscope.metrics (name, name_hash, family, type, is_counter)
      VALUES ('bench_counter_total', '\\x01', 'bench_counter_total', 'counter', true), ('bench_gauge', '\\x02', 'bench_gauge', 'gauge', false);
      INSERT INTO hostscope.series (metric_id, labels, key_hash)
      SELECT CASE WHEN i % 2 = 0 THEN 1 ELSE 2 END, jsonb_build_object('i', i::text), int4send(i) FROM generate_series(1, ${ROLLUP_SERIES}) i;`);
    const tl = performance.now();
    await db.exec(`INSERT INTO hostscope.samples_raw (series_id, time, value)
      SELECT s.id, ts, CASE WHEN s.id % 2 = 0 THEN extract(epoch FROM ts - '${new Date(day).toISOString()}') * s.id ELSE random() END
        FROM generate_series('${new Date(day).toISOString()}'::timestamptz, '${new Date(day + 86_400_000 - STEP_MS).toISOString()}'::timestamptz, interval '15 seconds') ts
        CROSS JOIN hostscope.series s ORDER BY ts, s.id`);
    const loadSeconds = (performance.now() - tl) / 1000;
    await db.exec('VACUUM ANALYZE hostscope.samples_raw');
    const n = Number((await db.query('SELECT count(*)::float8 AS n FROM hostscope.samples_raw'))[0].n);
    const tr = performance.now();
    let rolled = 0;
    for (let h = 0; h < 24; h++) rolled += await rollupHour(db, parts, day + h * 3_600_000);
    const rollupSeconds = (performance.now() - tr) / 1000;
    console.log(
      `  hourly rollup: ${fmt(n)} samples (${ROLLUP_SERIES} series x 1 day at 15 s; loaded in ${loadSeconds.toFixed(1)} s) -> ${fmt(rolled)} rows in ${rollupSeconds.toFixed(2)} s   (target: < 30 s)`,
    );
  } finally {
    await db.close();
    cluster?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
