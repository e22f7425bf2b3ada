#!/usr/bin/env node
// Storage benchmark (`npm run bench:storage`, also run by `npm run bench:sink`). Prints, in one run:
//  1. disk bytes per sample of a real exporter recording (test/fixtures/storage/, made with
//     scripts/record-exporter.mjs: a `hostscope exporter` with containers running, scraped every 15 s):
//     the row-per-sample layout of schema 1 (today's head: heap + primary key + BRIN) next to the
//     compacted chunks, with and without the series dictionary;
//  2. query latencies on compacted data: one series over one day through the `hostscope.samples` view,
//     and every SQL panel of the Long-term history dashboard over 30 days of `hostscope seed --hosts 10
//     --days 30` (p50/p95 of 5 runs each).
// Against a private PostgreSQL cluster with default settings (initdb + start, nothing tuned), or
// $DATABASE_URL. BENCH_SKIP_QUERIES=1 skips part 2 (a 30-day seed of 10 hosts, under a minute, then the
// queries); BENCH_KEEP=1 keeps the schema for a look afterwards (with DATABASE_URL).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { percentile, privateCluster } from './bench-lib.mjs';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const { parseExposition } = require(path.join(dist, 'expfmt/parse.js'));
const { PostgresDatabase } = require(path.join(dist, 'db/postgres.js'));
const { migrate } = require(path.join(dist, 'db/migrate.js'));
const { SampleWriter } = require(path.join(dist, 'sink/writer.js'));
const { maintain } = require(path.join(dist, 'sink/maintain.js'));
const { runSeed } = require(path.join(dist, 'sink/seed.js'));
const { silentLogger } = require(path.join(dist, 'log/logger.js'));

const FIXTURE = path.join(root, 'test/fixtures/storage/exporter-15s.prom.gz');
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The recording: concatenated expositions, each sample line ending in its scrape time (ms). */
function recordedScrapes() {
  const text = gunzipSync(readFileSync(FIXTURE)).toString('utf8');
  const scrapes = [];
  let lines = [];
  let comments = []; // HELP/TYPE lines since the last sample: they belong to the sample that follows
  let time;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const t = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (time !== undefined && t !== time) {
      scrapes.push({ time, body: lines.join('\n') + '\n' });
      lines = [];
    }
    time = t;
    lines.push(...comments, line);
    comments = [];
  }
  if (lines.length > 0) scrapes.push({ time, body: lines.join('\n') + '\n' });
  return scrapes;
}

/** Disk bytes of a table with its indexes and TOAST, summed over its partitions when it has any. */
async function size(db, relation) {
  const rows = await db.query(
    `SELECT COALESCE((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass)),
                     pg_total_relation_size($1::regclass))::float8 AS b`,
    [relation],
  );
  return Number(rows[0].b);
}

async function storage(db, logger) {
  const scrapes = recordedScrapes();
  const target = { url: 'http://recorded:9100/metrics', instance: 'recorded:9100', job: 'node' };
  const writer = new SampleWriter(db, logger, { past: 3650 * DAY, future: 3650 * DAY });
  let samples = 0;
  for (const s of scrapes) {
    const families = parseExposition(s.body, 'text');
    let n = 0;
    for (const f of families) n += f.samples.length;
    const r = await writer.write(
      [{ target, timeMs: s.time, families, sampleCount: n, containerUsage: [] }],
      s.time,
    );
    samples += r.written;
  }
  const first = scrapes[0].time;
  const last = scrapes[scrapes.length - 1].time;
  const series = Number((await db.query('SELECT count(*)::float8 AS n FROM hostscope.series'))[0].n);
  await db.exec('VACUUM ANALYZE');
  const dictionary = (await size(db, 'hostscope.series')) + (await size(db, 'hostscope.metrics'));
  const rows = await size(db, 'hostscope.samples_raw');
  await maintain(db, logger, {
    retentionRawMs: 3650 * DAY,
    retentionHourlyMs: 3650 * DAY,
    nowMs: last + 2 * HOUR,
  });
  await db.exec('VACUUM ANALYZE');
  const chunks = (await size(db, 'hostscope.chunks')) + (await size(db, 'hostscope.chunk_times'));
  const head = await size(db, 'hostscope.samples_raw');
  // Full blocks only (2 h at 15 s), where the steady state is: the recording's edges are partial blocks.
  const full = await db.query(
    `SELECT count(*)::float8 AS chunks, COALESCE(sum(count), 0)::float8 AS samples,
            COALESCE(sum(pg_column_size(c.*)), 0)::float8 AS bytes
       FROM hostscope.chunks c WHERE count >= 400`,
  );
  const hourlyRows = Number(
    (await db.query('SELECT count(*)::float8 AS n FROM hostscope.samples_hourly_raw'))[0].n,
  );
  const hourlyBytes = await size(db, 'hostscope.samples_hourly_raw');
  await db.exec('VACUUM FULL hostscope.chunks, hostscope.chunk_times');
  const packed = (await size(db, 'hostscope.chunks')) + (await size(db, 'hostscope.chunk_times'));
  const b = (x) => (x / samples).toFixed(2);
  const dictPerSampleDay = dictionary / series / 5760; // one day of every series at 15 s
  console.log('storage: a real exporter recording (test/fixtures/storage/exporter-15s.prom.gz)');
  console.log(
    `  ${scrapes.length} scrapes at 15 s over ${((last - first) / 60000).toFixed(0)} min, ${series} series, ${samples.toLocaleString('en-US')} samples`,
  );
  console.log(`  row per sample (schema 1 layout: heap + primary key + BRIN):   ${b(rows)} bytes/sample`);
  console.log(
    `  compacted chunks + time sets + indexes, as written:            ${b(chunks + head)} bytes/sample`,
  );
  console.log(
    `  the same after VACUUM FULL (without the dead versions that merging into an open block leaves`,
  );
  console.log(
    `    until autovacuum reuses their space; a bounded overhead, not one per sample):  ${b(packed + head)} bytes/sample`,
  );
  const f = full[0];
  if (f.samples > 0)
    console.log(
      `  full 2 h blocks alone (${f.chunks} chunks, ${f.samples.toLocaleString('en-US')} samples): ${(f.bytes / f.samples).toFixed(2)} bytes/sample of row data`,
    );
  console.log(
    `  series dictionary: ${(dictionary / series).toFixed(0)} bytes/series: ${b(dictionary)} bytes/sample over this recording, ${dictPerSampleDay.toFixed(2)} over a day of these series`,
  );
  if (hourlyRows > 0)
    console.log(
      `  hourly rollups: ${(hourlyBytes / hourlyRows).toFixed(0)} bytes per series and hour (${(hourlyBytes / hourlyRows / 240).toFixed(2)} per raw sample at 15 s)`,
    );
  console.log(
    `  compacted with indexes and dictionary (a day of these series): ${((packed + head) / samples + dictPerSampleDay).toFixed(2)} bytes/sample, ${(rows / (packed + head)).toFixed(1)}x less than row per sample   (target: <= 3)`,
  );
}

function expandMacros(sql, from, to) {
  const lit = (d) => `'${d.toISOString()}'`;
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, c) => `${c} BETWEEN ${lit(from)} AND ${lit(to)}`)
    .replace(/\$__timeFrom\(\)/g, lit(from))
    .replace(/\$__timeTo\(\)/g, lit(to))
    .replace(/\$__timeGroupAlias\(([^,]+),\s*([^)]+)\)/g, (_, c, i) => `${group(c, i)} AS "time"`)
    .replace(/\$__timeGroup\(([^,]+),\s*([^)]+)\)/g, (_, c, i) => group(c, i))
    .replace(/\$__interval/g, "'1h'");
}

function group(col, interval) {
  const s = interval.trim().replace(/'/g, '');
  const secs = /^(\d+)([smhd])$/.exec(s);
  const n = secs ? Number(secs[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[secs[2]] : 3600;
  return `floor(extract(epoch from ${col})/${n})*${n}`;
}

async function queries(db, logger) {
  const t0 = performance.now();
  const now = Date.now();
  // BENCH_SEEDED=1 with DATABASE_URL: reuse a database already filled by `hostscope seed --hosts 10 --days 30`.
  if (!process.env.BENCH_SEEDED) {
    await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
    await migrate(db, logger);
    await runSeed(db, { hosts: 10, days: 30, stepMs: 60_000, nowMs: now, seed: 1 }, logger);
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  await db.exec('VACUUM ANALYZE');
  const time = async (sql, params = []) => {
    const ms = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await db.query(sql, params);
      ms.push(performance.now() - t);
    }
    return ms;
  };
  console.log(
    `queries: 10 seeded hosts x 30 days at 1 min (seed took ${seedSeconds.toFixed(1)} s), compacted`,
  );
  const day = new Date(now - 3 * DAY);
  const one = await time(
    `SELECT time, value FROM hostscope.samples
      WHERE metric = 'node_load1' AND labels @> '{"instance": "seed-host-03:9100"}'
        AND time >= $1 AND time < $2 ORDER BY time`,
    [day.toISOString(), new Date(day.getTime() + DAY).toISOString()],
  );
  console.log(
    `  one series over one day through hostscope.samples: p50 ${percentile(one, 50).toFixed(1)} ms, max ${Math.max(...one).toFixed(1)} ms   (target: < 20 ms)`,
  );
  const dash = JSON.parse(readFileSync(path.join(root, 'grafana/dashboards/history.json'), 'utf8'));
  const instances = (await db.query('SELECT instance FROM hostscope.hosts ORDER BY 1')).map(
    (r) => r.instance,
  );
  const vars = {
    instance: instances.map((i) => `'${i}'`).join(','),
    container: "'web','db','worker'",
    resolution: '1h',
  };
  const from = new Date(now - 30 * DAY);
  const to = new Date(now);
  const all = [];
  for (const panel of dash.panels ?? []) {
    for (const t of panel.targets ?? []) {
      if (!t.rawSql) continue;
      let sql = t.rawSql;
      for (const [k, v] of Object.entries(vars))
        sql = sql.replaceAll(`\${${k}:sqlstring}`, v).replaceAll(`$${k}`, v);
      sql = expandMacros(sql, from, to);
      const ms = await time(sql);
      all.push(...ms);
      console.log(
        `  ${panel.title.padEnd(48).slice(0, 48)} p50 ${percentile(ms, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(ms, 95).toFixed(1).padStart(7)} ms`,
      );
    }
  }
  console.log(
    `  every History panel over 30 days: p95 ${percentile(all, 95).toFixed(1)} ms   (target: < 300 ms)`,
  );
}

async function main() {
  const cluster = process.env.DATABASE_URL ? undefined : await privateCluster();
  const db = new PostgresDatabase(process.env.DATABASE_URL ?? cluster.url, { max: 2 });
  const logger = silentLogger();
  try {
    if (!process.env.BENCH_SEEDED) {
      await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE');
      await migrate(db, logger);
      await storage(db, logger);
    }
    if (!process.env.BENCH_SKIP_QUERIES) await queries(db, logger);
  } finally {
    if (!process.env.BENCH_SEEDED && !process.env.BENCH_KEEP)
      await db.exec('DROP SCHEMA IF EXISTS hostscope CASCADE').catch(() => undefined);
    await db.close();
    cluster?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
