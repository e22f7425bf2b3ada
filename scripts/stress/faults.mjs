// Faults, each with its recovery time and data loss: PostgreSQL stopped and restarted (also with
// `-m immediate`), the buffer directory's disk full, SIGTERM during writes and SIGKILL with a restart
// (the sink), dockerd killed and restarted under load (the exporter, on a private dockerd).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../bench-lib.mjs';
import {
  CLI,
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
import { hungMount, procVanish } from './host-faults.mjs';

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

const HOUR_MS = 3_600_000;

/** The name of the hour partition of samples_blocks holding `ms`. */
const blockPartition = (ms) =>
  `samples_blocks_p${new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().replace(/[-:T]/g, '').slice(0, 10)}`;

/**
 * The sink's wall clock jumps while it scrapes, through its clock seam (`--testing.clock-offset-file`,
 * src/config/clock.ts): an hour ahead, then 70 minutes back (10 minutes behind true time), then true time
 * again; the machine's clock is never touched. Maintenance runs every 5 s meanwhile, at the sink's time.
 * Then `hostscope maintain` runs "four hours later" (the same seam), closing every hour written.
 */
async function clockJump(p, c) {
  const phaseMs = p.faults.clockPhaseS * 1000;
  return withSinkSetup(c, 'stress_clock', p.faults.targets, async ({ dbUrl, replay, db }) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-clock-'));
    const file = path.join(dir, 'offset');
    const put = (ms, f = file) => {
      writeFileSync(`${f}.tmp`, String(ms));
      renameSync(`${f}.tmp`, f);
    };
    put(0);
    const failures = [];
    const notes = [];
    const sink = await startSink({
      dbUrl,
      targets: replay.urls,
      interval: '1s',
      extra: [`--testing.clock-offset-file=${file}`, '--maintain.schedule=*/5 * * * * *'],
    });
    const newestNear = async (offsetMs, after) => {
      const { rows } = await db.query(
        `SELECT extract(epoch FROM max(time)) * 1000 AS t FROM hostscope.samples
          WHERE metric = 'up' AND time > $1 AND time > $2 AND time < $3`,
        [
          new Date(after).toISOString(),
          new Date(Date.now() + offsetMs - 5000).toISOString(),
          new Date(Date.now() + offsetMs + 5000).toISOString(),
        ],
      );
      return rows[0]?.t === null || rows[0]?.t === undefined ? undefined : Number(rows[0].t);
    };
    const phases = [
      { label: 'true time', offsetMs: 0 },
      { label: '+1 h', offsetMs: HOUR_MS },
      { label: 'back 70 min (-10 min)', offsetMs: -10 * 60_000 },
      { label: 'true time again', offsetMs: 0 },
    ];
    let ahead;
    try {
      let lastStamp = 0;
      for (const ph of phases) {
        const runs0 = (await sink.counters()).maintenanceRuns;
        put(ph.offsetMs);
        ph.start = Date.now();
        // Recovery: the jump written → the first round stored at the new time (every target of it).
        let first;
        await until(
          `a round stamped at ${ph.label}`,
          async () => {
            first = await newestNear(ph.offsetMs, ph.offsetMs >= 0 ? lastStamp : 0);
            return first !== undefined && first > ph.start + ph.offsetMs - 1500;
          },
          30_000,
        );
        ph.recoveryS = (Date.now() - ph.start) / 1000;
        // At least one maintenance run at this time of the sink's clock.
        await sleep(Math.max(0, ph.start + phaseMs - Date.now()));
        await until(
          `a maintenance run at ${ph.label}`,
          async () => (await sink.counters()).maintenanceRuns > runs0,
          30_000,
        );
        ph.end = Date.now();
        lastStamp = (await newestNear(ph.offsetMs, 0)) ?? lastStamp;
        if (ph.offsetMs === HOUR_MS) {
          const { rows } = await db.query(
            `SELECT (SELECT extract(epoch FROM rolled_until) * 1000 FROM hostscope.rollup_state WHERE id) AS rolled,
                    (SELECT count(*)::int FROM hostscope.chunks) AS chunks`,
          );
          ahead = { rolledUntil: Number(rows[0].rolled ?? 0), chunks: rows[0].chunks };
        }
      }
      const counters = await sink.counters();
      await sink.stop();
      const lines = sink.proc.lines;
      const jumpLines = lines.filter((l) => l.includes('between two scrape ticks')).length;
      const errors = lines.filter((l) => /"level":(50|60|"error"|"fatal")/.test(l));
      const droppedByRetention = lines.filter((l) => l.includes('dropped partitions past retention')).length;
      if (sink.child.exitCode !== 0)
        failures.push(`sink exit ${sink.child.exitCode ?? sink.child.signalCode}`);

      // Where each stored round is, against the sink's clock of its phase.
      const { rows: stamps } = await db.query(
        `SELECT extract(epoch FROM time) * 1000 AS t, count(*)::int AS n FROM hostscope.samples
          WHERE metric = 'up' GROUP BY time ORDER BY time`,
      );
      const perPhase = phases.map((ph, i) => {
        const to = (phases[i + 1]?.start ?? ph.end) + 1500;
        return stamps.filter((r) => {
          const t = Number(r.t);
          return t >= ph.start + ph.offsetMs - 1500 && t <= to + ph.offsetMs;
        }).length;
      });
      const placed = perPhase.reduce((a, b) => a + b, 0);
      const partial = stamps.filter((r) => r.n !== p.faults.targets).length;
      const futurePartition = blockPartition(phases[1].start + HOUR_MS);
      const { rows: parts } = await db.query(
        `SELECT 1 FROM pg_tables WHERE schemaname = 'hostscope' AND tablename = $1`,
        [futurePartition],
      );
      const { rows: pending } = await db.query(
        'SELECT extract(epoch FROM hour) * 1000 AS h FROM hostscope.rollup_pending ORDER BY hour',
      );
      const before = await loss(replay, db, 816);

      // Maintenance four hours later (the same seam): every hour written is closed, compacted, rolled up.
      const later = path.join(dir, 'later');
      put(4 * HOUR_MS, later);
      // Its warning that the clock is moved is expected; anything else it logs is noted.
      const maintainLog = execFileSync(
        process.execPath,
        [
          CLI,
          'maintain',
          `--database.url=${dbUrl}`,
          `--testing.clock-offset-file=${later}`,
          '--log.level=warn',
        ],
        { encoding: 'utf8' },
      )
        .split('\n')
        .filter((l) => l !== '' && !l.includes('(a testing aid)'));
      if (maintainLog.length > 0) notes.push(`\`hostscope maintain\` logged: ${maintainLog.join(' ')}`);
      const after = await loss(replay, db, 816);
      const { rows: hours } = await db.query(
        `SELECT s.h, s.stored, coalesce(r.rolled, 0) AS rolled FROM
           (SELECT date_trunc('hour', time, 'UTC') AS h, count(*)::int AS stored FROM hostscope.samples
             WHERE metric = 'up' GROUP BY 1) s
           LEFT JOIN (SELECT time AS h, sum(count)::int AS rolled FROM hostscope.samples_hourly
             WHERE metric = 'up' GROUP BY 1) r ON r.h = s.h ORDER BY 1`,
      );
      const wrongHours = hours.filter((r) => r.rolled !== r.stored);
      const { rows: head } = await db.query('SELECT count(*)::int AS n FROM hostscope.samples_blocks');

      const realSeconds = phases.map((ph, i) => ((phases[i + 1]?.start ?? ph.end) - ph.start) / 1000);
      if (before.lost !== 0) failures.push(`${before.lost} scrapes served but not stored`);
      if (before.uneven || partial > 0) failures.push(`${partial} rounds stored in part or twice`);
      if (placed !== stamps.length)
        failures.push(`${stamps.length - placed} rounds stored at a time outside their phase's clock`);
      perPhase.forEach((n, i) => {
        if (n < Math.floor(realSeconds[i]) - 2)
          failures.push(`${phases[i].label}: ${n} rounds stored in ${f1(realSeconds[i])} s`);
      });
      if (jumpLines !== 3 || counters.clockJumps !== 3)
        failures.push(`${jumpLines} jump log lines, ${counters.clockJumps} counted (3 jumps)`);
      if (counters.skippedOverrun + counters.skippedLate + counters.skippedBacklog > 0)
        failures.push('rounds skipped');
      if (parts.length !== 1) failures.push(`no partition ${futurePartition} for the hour ahead`);
      if (errors.length > 0) failures.push(`${errors.length} error lines in the sink's log`);
      if (counters.maintenanceFailures > 0)
        failures.push(`${counters.maintenanceFailures} failed maintenance runs`);
      if (droppedByRetention > 0) failures.push('maintenance dropped partitions (retention is 90 days)');
      if (after.stored !== before.stored || after.lostSamples !== before.lostSamples)
        failures.push(
          `maintenance four hours later changed the stored scrapes (${before.stored} → ${after.stored})`,
        );
      if (wrongHours.length > 0)
        failures.push(
          `rollups short or long: ${wrongHours.map((r) => `${r.h.toISOString()} ${r.rolled}/${r.stored}`).join(', ')}`,
        );
      if (head[0].n !== 0) failures.push(`${head[0].n} head rows left after maintenance four hours later`);
      const trueHour = Math.floor(phases[1].start / HOUR_MS) * HOUR_MS;
      const closedAhead = ahead !== undefined && ahead.rolledUntil > trueHour;
      if (closedAhead && !pending.some((r) => Number(r.h) < ahead.rolledUntil))
        failures.push(
          'rounds written into hours rolled up while the clock was ahead were not queued for a new rollup',
        );
      if (!closedAhead)
        notes.push(
          "The true hour was not closed while the clock ran ahead in this run (it started in the first 5 minutes of an hour, before maintenance's 5-minute close delay ran out an hour ahead), so the re-rollup path was not exercised.",
        );
      return verdict(
        'Fault: clock jumps on the sink',
        `A sink scraping ${p.faults.targets} replay targets every 1 s, maintenance every 5 s (\`--maintain.schedule\`), ` +
          'its wall clock moved through its clock seam (`--testing.clock-offset-file`, a file the suite rewrites; the ' +
          `machine's clock is never touched): true time, then an hour ahead, then 70 minutes back (10 minutes ` +
          `behind), then true time again, each for at least ${p.faults.clockPhaseS} s and one maintenance run; then ` +
          '`hostscope maintain` "four hours later" through the same seam. Intended behaviour: rounds go on one ' +
          "interval apart in real time, each stamped with the sink's clock as Prometheus stamps scrapes with its " +
          'own (so samples after the jump back are stored before those of the hour ahead), each jump logged once ' +
          'and counted, no round skipped; partitions follow the stamps; maintenance takes its "now" from the same ' +
          'clock, so it may close, roll up and compact the true current hour while the clock is ahead, and hours ' +
          'written into after that are rolled up again. Pass: no crash, no error logged, every served scrape ' +
          "stored once, at its phase's time, the hour ahead's partition made, 3 jumps logged and counted, nothing " +
          "dropped or lost by maintenance, and every hour's rollup counting exactly what it stores.",
        [
          [
            'rounds stored per phase (true / +1 h / -10 min / true), real seconds',
            `${perPhase.join(' / ')} in ${realSeconds.map((x) => f1(x)).join(' / ')} s`,
          ],
          [
            'recovery: jump written → first round stored at the new time (+1 h / -70 min / +10 min)',
            phases
              .slice(1)
              .map((ph) => `${f1(ph.recoveryS)} s`)
              .join(' / '),
          ],
          [
            'jumps logged / counted; rounds skipped (overrun, late, backlog)',
            `${jumpLines} / ${counters.clockJumps}; ${counters.skippedOverrun}, ${counters.skippedLate}, ${counters.skippedBacklog}`,
          ],
          [
            'scrapes served / stored / lost; rounds stored in part or twice',
            `${before.served} / ${before.stored} / ${before.lost}; ${partial}`,
          ],
          ['partition of the hour ahead', `${futurePartition} (${parts.length === 1 ? 'made' : 'missing'})`],
          [
            'while the clock was ahead: rolled up until, chunks',
            ahead === undefined
              ? 'n/a'
              : `${new Date(ahead.rolledUntil).toISOString().slice(11, 16)} UTC (true hour ${closedAhead ? 'closed' : 'open'}), ${ahead.chunks}`,
          ],
          ['hours queued for a new rollup after the jump back', String(pending.length)],
          [
            'after `hostscope maintain` 4 h later: hours rolled up = stored, scrapes stored, head rows left',
            `${hours.length - wrongHours.length} of ${hours.length}, ${after.stored}, ${head[0].n}`,
          ],
          [
            'maintenance runs in the sink (failed); partitions dropped',
            `${counters.maintenanceRuns} (${counters.maintenanceFailures}); ${droppedByRetention}`,
          ],
        ],
        failures,
        notes,
      );
    } finally {
      await sink.stop();
      sink.removeBuffer();
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
    for (const f of [postgresOutage, signals, diskFull, clockJump].filter((g) => !skip.has(g.name))) {
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
  for (const f of [hungMount, procVanish].filter((g) => !skip.has(g.name)))
    try {
      out.push(await f(p));
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
  if (!skip.has('dockerdKill'))
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
