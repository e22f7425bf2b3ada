// Faults, each with its recovery time and data loss: PostgreSQL stopped and restarted (also with
// `-m immediate`), the buffer directory's disk full, SIGTERM during writes and SIGKILL with a restart
// (the sink), dockerd killed and restarted under load (the exporter, on a private dockerd).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../bench-lib.mjs';
import {
  controllableCluster,
  f1,
  hasDockerd,
  migrate,
  privateDockerd,
  startExporter,
  startReplay,
  startSink,
  stopChild,
  stoppedTotals,
  storedScrapes,
  verdict,
} from './lib.mjs';

async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

const drained = (sink) => async () => {
  const c = await sink.counters().catch(() => undefined);
  return c !== undefined && c.buffered === 0;
};

/** Served scrapes (replay server) against stored complete scrapes; loss in scrapes and samples. */
async function loss(replay, db, perScrape) {
  const stats = await replay.stats();
  const served = stats.served.reduce((a, b) => a + b, 0);
  const s = await storedScrapes(db);
  return {
    served,
    stored: s.scrapes,
    lost: served - s.scrapes,
    lostSamples: served * perScrape - s.samples,
    uneven: s.min !== s.max,
    perScrape: s.max,
  };
}

async function withSinkSetup(c, name, targets, fn) {
  const { Client } = await import('pg');
  const admin = new Client({ connectionString: c.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dbUrl = c.url.replace(/\/postgres$/, `/${name}`);
  migrate(dbUrl);
  const replay = await startReplay(targets);
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  try {
    return await fn({ dbUrl, replay, db });
  } finally {
    await db.end().catch(() => undefined);
    await replay.stop();
  }
}

/** PostgreSQL stopped for a while, then restarted; then stopped with -m immediate and started at once. */
async function postgresOutage(p, c) {
  return withSinkSetup(c, 'stress_pg', p.faults.targets, async ({ dbUrl, replay, db }) => {
    const sink = await startSink({ dbUrl, targets: replay.urls, interval: '1s' });
    const failures = [];
    try {
      await sleep(5000);
      await db.end();
      c.stop('fast');
      const down = Date.now();
      let peakBuffered = 0;
      while (Date.now() - down < p.faults.pgOutageS * 1000) {
        await sleep(1000);
        const k = await sink.counters();
        peakBuffered = Math.max(peakBuffered, k.buffered);
      }
      const mid = await sink.counters();
      c.start();
      const up = Date.now();
      await until('buffer written after the outage', drained(sink), 300_000);
      const recover1 = (Date.now() - up) / 1000;
      await sleep(3000);
      c.stop('immediate');
      c.start();
      const up2 = Date.now();
      // The sink notices on its next write; the buffer is empty again once it has caught up.
      await sleep(1500);
      await until('buffer written after the immediate restart', drained(sink), 300_000);
      const recover2 = (Date.now() - up2) / 1000;
      await sleep(2000);
      await sink.stop();
      const { Client } = await import('pg');
      const db2 = new Client({ connectionString: dbUrl });
      await db2.connect();
      const l = await loss(replay, db2, 816);
      await db2.end();
      const alive = sink.child.exitCode === 0;
      if (!alive) failures.push(`sink exit ${sink.child.exitCode ?? sink.child.signalCode}`);
      if (l.lost !== 0) failures.push(`${l.lost} scrapes served but not stored`);
      if (l.uneven) failures.push('stored scrapes of unequal size (partial writes)');
      if (peakBuffered === 0) failures.push('nothing was buffered during the outage');
      return verdict(
        'Fault: PostgreSQL outage and immediate restart',
        `A sink scraping ${p.faults.targets} replay targets every 1 s (outage buffer on disk); its private PostgreSQL ` +
          `stopped (\`pg_ctl stop -m fast\`) for ${p.faults.pgOutageS} s and started again, then stopped with ` +
          '`-m immediate` (a crash) and started at once. Data loss: every scrape the targets served against complete ' +
          'scrapes stored (per instance and time), after a SIGTERM at the end. Pass: zero loss, no partial scrape.',
        [
          ['samples buffered during the outage (peak)', String(peakBuffered)],
          ['disk buffer at the end of the outage', `${(mid.bufferBytes / 1024).toFixed(0)} KiB`],
          ['recovery: PostgreSQL back → buffer written', `${f1(recover1)} s`],
          ['recovery after `-m immediate` restart → buffer written', `${f1(recover2)} s`],
          ['scrapes served / stored / lost', `${l.served} / ${l.stored} / ${l.lost}`],
          ['samples lost', String(l.lostSamples)],
        ],
        failures,
      );
    } finally {
      await sink.stop();
      sink.removeBuffer();
    }
  });
}

/** SIGTERM at a random moment (writes under way every second), then SIGKILL and a restart on the same buffer. */
async function signals(p, c) {
  return withSinkSetup(c, 'stress_signals', p.faults.targets, async ({ dbUrl, replay, db }) => {
    const bufferDir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-buffer-'));
    const failures = [];
    try {
      const figures = [];
      const s1 = await startSink({ dbUrl, targets: replay.urls, interval: '1s', bufferDir });
      await sleep(5000 + Math.random() * 1000);
      const t = Date.now();
      await stopChild(s1.child, 'SIGTERM');
      const termS = (Date.now() - t) / 1000;
      const l1 = await loss(replay, db, 816);
      figures.push(['SIGTERM: exit code, time to exit', `${s1.child.exitCode}, ${f1(termS)} s`]);
      figures.push(['SIGTERM: scrapes served / stored / lost', `${l1.served} / ${l1.stored} / ${l1.lost}`]);
      if (s1.child.exitCode !== 0) failures.push(`SIGTERM exit code ${s1.child.exitCode}`);
      if (l1.lost !== 0) failures.push(`SIGTERM lost ${l1.lost} scrapes`);

      const s2 = await startSink({ dbUrl, targets: replay.urls, interval: '1s', bufferDir });
      await sleep(5000 + Math.random() * 1000);
      s2.child.kill('SIGKILL');
      await new Promise((r) =>
        s2.child.exitCode !== null || s2.child.signalCode !== null ? r() : s2.child.once('exit', r),
      );
      const killed = Date.now();
      const l2a = await loss(replay, db, 816);
      const s3 = await startSink({ dbUrl, targets: replay.urls, interval: '1s', bufferDir });
      const back = Date.now();
      await until('first write after the restart', async () => (await s3.counters()).written > 0, 60_000);
      const firstWrite = (Date.now() - killed) / 1000;
      await sleep(3000);
      await stopChild(s3.child, 'SIGTERM');
      const l3 = await loss(replay, db, 816);
      const killLost = l2a.lost - l1.lost;
      figures.push([
        'SIGKILL → restart answering / first write',
        `${f1((back - killed) / 1000)} s / ${f1(firstWrite)} s`,
      ]);
      figures.push([
        'SIGKILL: scrapes lost (served, not yet written when killed; none of them was in the disk buffer)',
        `${killLost} (${killLost * 816} samples)`,
      ]);
      figures.push([
        'after the restart and a final SIGTERM: served / stored / lost in all',
        `${l3.served} / ${l3.stored} / ${l3.lost}`,
      ]);
      if (l3.lost !== killLost) failures.push(`loss grew after the restart (${killLost} → ${l3.lost})`);
      if (l3.uneven) failures.push('stored scrapes of unequal size (partial writes)');
      // In memory while the database keeps up, so a SIGKILL loses what was scraped and not yet committed:
      // at most the rounds of the last two seconds.
      if (killLost > 2 * p.faults.targets) failures.push(`SIGKILL lost ${killLost} scrapes, over two rounds`);
      return verdict(
        'Fault: SIGTERM during writes, SIGKILL and restart',
        `A sink scraping ${p.faults.targets} replay targets every 1 s (a write every second) gets SIGTERM at a random ` +
          'moment; a second sink on the same buffer directory gets SIGKILL, and a third starts on it at once and ' +
          'ends with SIGTERM. Pass: SIGTERM exits 0 with zero loss; SIGKILL loses at most what was scraped and not ' +
          'yet written (two rounds), nothing after the restart, and no scrape is stored partly.',
        figures,
        failures,
        [
          'While the database keeps up, scrapes wait in memory until written (the disk buffer holds them only during an outage or a backlog), so a SIGKILL loses the scrapes not yet committed.',
        ],
      );
    } finally {
      rmSync(bufferDir, { recursive: true, force: true });
    }
  });
}

/** The buffer directory on a 2 MiB tmpfs, PostgreSQL down until it fills, then back. */
async function diskFull(p, c) {
  return withSinkSetup(c, 'stress_diskfull', 20, async ({ dbUrl, replay, db }) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-tmpfs-'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    if (m.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      return verdict(
        'Fault: disk full on the buffer directory',
        'skipped: cannot mount a tmpfs here',
        [],
        ['mount -t tmpfs failed (not root?)'],
      );
    }
    const failures = [];
    let sink;
    try {
      sink = await startSink({ dbUrl, targets: replay.urls, interval: '1s', bufferDir: dir });
      await sleep(3000);
      await db.end();
      c.stop('fast');
      const down = Date.now();
      await until(
        'buffer directory full',
        async () => (await sink.counters()).droppedWriteFailed + (await sink.counters()).droppedFull > 0,
        120_000,
      );
      const fullAfter = (Date.now() - down) / 1000;
      await sleep(5000);
      const during = await sink.counters();
      c.start();
      const up = Date.now();
      await until('buffer written after the disk was full', drained(sink), 300_000);
      const recover = (Date.now() - up) / 1000;
      await sleep(2000);
      const end = await sink.counters();
      await sink.stop();
      const { Client } = await import('pg');
      const db2 = new Client({ connectionString: dbUrl });
      await db2.connect();
      const l = await loss(replay, db2, 816);
      const stored = await storedScrapes(db2);
      await db2.end();
      if (sink.child.exitCode !== 0)
        failures.push(`sink exit ${sink.child.exitCode ?? sink.child.signalCode}`);
      // Every sample the sink produced is stored or counted as dropped. A scrape that failed (a timeout
      // under load, although the target had sent its body) produced only its 3 samples up, duration and
      // samples scraped, as in Prometheus: it is no buffer loss.
      const t = stoppedTotals(sink.proc);
      const counted = end.dropped;
      let produced = NaN;
      let droppedAll = NaN;
      if (t === undefined) failures.push('no "stopped" totals in the sink log');
      else {
        produced = (t.scrapes - t.scrapeFailures) * 816 + t.scrapeFailures * 3;
        droppedAll = Object.values(t.dropped).reduce((a, b) => a + b, 0);
        if (produced !== t.written + droppedAll)
          failures.push(
            `produced ${produced} samples but wrote ${t.written} and counted ${droppedAll} as dropped`,
          );
        if (stored.samples !== t.written)
          failures.push(`the sink wrote ${t.written} samples but ${stored.samples} are stored`);
      }
      return verdict(
        'Fault: disk full on the buffer directory',
        'A sink scraping 20 replay targets every 1 s with its `--buffer.dir` on a 2 MiB tmpfs (default ' +
          '`--buffer.max-bytes`, far larger) and PostgreSQL stopped until the directory is full, then 5 s more, ' +
          'then PostgreSQL back. Pass: no crash, writing resumes, and every sample the sink produced is stored or ' +
          'counted in `hostscope_sink_samples_dropped_total` (data loss is unavoidable once the disk is full), ' +
          'from the totals the sink logs when it stops.',
        [
          ['disk full after', `${f1(fullAfter)} s of outage`],
          [
            'dropped while full: buffer_write_failed / buffer_full',
            `${during.droppedWriteFailed} / ${during.droppedFull}`,
          ],
          ['recovery: PostgreSQL back → buffer written', `${f1(recover)} s`],
          ['scrapes served / stored / lost', `${l.served} / ${l.stored} / ${l.lost}`],
          ['samples lost / counted as dropped', `${l.lostSamples} / ${counted}`],
          ['scrapes failed by the sink (timeouts; stored as up 0)', `${t?.scrapeFailures ?? 'n/a'}`],
          ['samples produced = written + dropped', `${produced} = ${t?.written} + ${droppedAll}`],
        ],
        failures,
      );
    } finally {
      if (sink !== undefined) await sink.stop();
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** dockerd SIGKILLed under scrape load, restarted; the exporter must keep answering and pick it up again. */
async function dockerdKill() {
  if (!hasDockerd()) return verdict('Fault: dockerd killed', 'skipped', [], ['no dockerd']);
  const d = await privateDockerd();
  let exporter;
  let loading = true;
  try {
    const before = (
      await d.dockerAsync(['run', '-d', '--network', 'none', 'local/busybox', 'sleep', '600'])
    ).stdout.trim();
    exporter = await startExporter([`--collector.docker.host=${d.host}`]);
    let ok = 0;
    let failed = 0;
    let last = '';
    const load = (async () => {
      while (loading) {
        try {
          const res = await fetch(exporter.url);
          last = await res.text();
          if (res.status === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
        await sleep(100);
      }
    })();
    await until('container exported', async () => last.includes(before), 30_000);
    await d.kill();
    const killedAt = Date.now();
    await sleep(5000);
    const okDuring = ok;
    await d.start();
    const up = Date.now();
    const after = (
      await d.dockerAsync(['run', '-d', '--network', 'none', 'local/busybox', 'sleep', '600'])
    ).stdout.trim();
    const started = Date.now();
    await until('new container exported after the restart', async () => last.includes(after), 120_000);
    const seen = Date.now();
    loading = false;
    await load;
    const failures = [];
    if (failed > 0) failures.push(`${failed} failed scrapes`);
    if (okDuring === 0) failures.push('no scrape answered while dockerd was down');
    return verdict(
      'Fault: dockerd killed and restarted',
      'The exporter scraped every 100 ms, its docker collector on a private dockerd (never the shared engine) that ' +
        'is SIGKILLed, left down 5 s, and started again; a container is then started. Pass: every scrape answered ' +
        '(host metrics go on without the engine), and the new container is exported after the restart. There is ' +
        'no buffer in the exporter: container series are absent while the engine is down (the loss is the gap).',
      [
        ['scrapes answered / failed', `${ok} / ${failed}`],
        ['dockerd down', `${f1((up - killedAt) / 1000)} s (killed → answering again)`],
        ['recovery: container started → exported', `${f1((seen - started) / 1000)} s`],
      ],
      failures,
    );
  } finally {
    loading = false;
    if (exporter !== undefined) await exporter.stop();
    await d.destroy();
  }
}

/** `skip`: names of fault functions to leave out (`--skip diskFull`). */
export async function faults(p, _pg, skip = new Set()) {
  const out = [];
  const c = await controllableCluster();
  try {
    for (const f of [postgresOutage, signals, diskFull].filter((g) => !skip.has(g.name))) {
      try {
        out.push(await f(p, c));
      } catch (err) {
        out.push(
          verdict(
            `Fault: ${f.name}`,
            'the scenario could not run to its end',
            [],
            [String(err?.message ?? err)],
          ),
        );
      }
      try {
        c.start();
      } catch {
        // already running
      }
    }
  } finally {
    c.destroy();
  }
  try {
    out.push(await dockerdKill());
  } catch (err) {
    out.push(
      verdict(
        'Fault: dockerd killed and restarted',
        'the scenario could not run to its end',
        [],
        [String(err?.message ?? err)],
      ),
    );
  }
  return out;
}
