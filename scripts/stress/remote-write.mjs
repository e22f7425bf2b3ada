// Remote write past what the sink can commit: the receiver must push back (503 or 429, which Prometheus
// retries) with a bounded heap, never crash, and in the end hold every sample exactly once.
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { countRows, sleep } from '../bench-lib.mjs';
import { checkShifted, patchablePayload, poster, shiftedBody } from '../remote-write-payloads.mjs';
import { CLI, f1, f2, freshDatabase, startSink, verdict, watchProcess } from './lib.mjs';

const require = createRequire(import.meta.url);
const DIST = path.dirname(CLI);
const HEADERS = {
  'content-encoding': 'snappy',
  'content-type': 'application/x-protobuf',
  'x-prometheus-remote-write-version': '0.1.0',
};

/**
 * `requests` WriteRequests of `perRequest` series each (node_exporter-like names and labels, one sample
 * per series at `t0`), prepared for shifting in time: one round of them is one scrape of every series.
 */
function payloads(requests, perRequest, t0) {
  const { encodeWriteRequest } = require(path.join(DIST, 'remote', 'prompb.js'));
  const out = [];
  for (let r = 0; r < requests; r++) {
    const timeseries = [];
    for (let k = 0; k < perRequest; k++) {
      const i = r * perRequest + k;
      timeseries.push({
        labels: [
          ['__name__', `node_stress_metric_${i % 250}_total`],
          ['cpu', String(i % 64)],
          ['device', `sd${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 16000)}`],
          ['instance', `host-${Math.floor(i / 10_000)}:9100`],
          ['job', 'node'],
          ['series', String(i)],
        ],
        timestamps: [t0],
        values: [i * 1.5],
      });
    }
    out.push(patchablePayload(encodeWriteRequest({ timeseries }), DIST));
  }
  checkShifted(out, 1000, DIST);
  return out;
}

/**
 * A Prometheus-like sender: requests are (payload, round) pairs; each is posted until it gets a 2xx,
 * retried after a 5xx, a 429 or a broken connection with a doubling backoff (100 ms to 2 s), at most
 * `concurrency` posts at once (its shards). Requests not yet accepted wait in `backlog`, as samples wait in
 * Prometheus' WAL.
 */
function sender(url, list, concurrency) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const backlog = [];
  const stats = { statuses: {}, retries: 0, accepted: 0, acceptedSamples: 0, posting: 0, maxBacklog: 0 };
  const post = poster(agent, url, HEADERS);
  let stopped = false;
  const pump = async () => {
    for (;;) {
      const now = performance.now();
      const i = backlog.findIndex((b) => b.notBefore <= now);
      if (i < 0) return;
      const job = backlog.splice(i, 1)[0];
      stats.posting++;
      // The body is made per attempt, so the backlog holds no bodies.
      const status = await post(shiftedBody(list[job.payload], job.round * 1000));
      stats.posting--;
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        stats.accepted++;
        stats.acceptedSamples += list[job.payload].samples;
      } else if (status === 0 || status === 429 || status >= 500) {
        stats.retries++;
        job.backoff = Math.min(2000, (job.backoff ?? 50) * 2);
        job.notBefore = performance.now() + job.backoff;
        backlog.push(job);
      }
      // Any other answer (a 4xx): Prometheus drops the request; the check below fails on it.
    }
  };
  const workers = Array.from({ length: concurrency }, async () => {
    for (;;) {
      await pump();
      if (stopped) return;
      await sleep(20);
    }
  });
  return {
    stats,
    offer(payload, round) {
      backlog.push({ payload, round, notBefore: 0 });
      stats.maxBacklog = Math.max(stats.maxBacklog, backlog.length);
    },
    get backlog() {
      return backlog.length;
    },
    /** Waits (up to `ms`) until every offered request is accepted; then stops the workers. */
    async drain(ms) {
      const t = Date.now();
      while ((backlog.length > 0 || stats.posting > 0) && Date.now() - t < ms) await sleep(100);
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return (Date.now() - t) / 1000;
    },
  };
}

/** hostscope_sink_remote_write_samples_written_total of the sink on `port`. */
async function remoteWritten(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^hostscope_sink_remote_write_samples_written_total (\S+)$/m.exec(text);
  return m === null ? NaN : Number(m[1]);
}

/** Remote-write back-pressure: closed-loop capacity first, then twice that offered. */
export async function remoteWriteBackPressure(p, pg) {
  const { requests, perRequest, measureS, overloadS, maxPending, concurrency, rssBoundMb } = p.remoteWrite;
  const dbUrl = await freshDatabase(pg.admin, pg.url, 'stress_remote_write');
  const { Client } = await import('pg');
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  const sink = await startSink({
    dbUrl,
    extra: ['--web.enable-remote-write-receiver', `--remote-write.max-pending-samples=${maxPending}`],
  });
  const url = `http://127.0.0.1:${sink.port}/api/v1/write`;
  const failures = [];
  const notes = [];
  try {
    // Rounds one second apart from 3 hours ago (inside the raw retention, before "now" for any run here).
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 3 * 3_600_000;
    const list = payloads(requests, perRequest, t0);
    const perRound = requests * perRequest;
    let round = 0;
    const offerRound = (s) => {
      for (let i = 0; i < list.length; i++) s.offer(i, round);
      round++;
    };
    // Warm-up: one round creates the series.
    const warm = sender(url, list, concurrency);
    offerRound(warm);
    await warm.drain(300_000);
    const written = () => remoteWritten(sink.port);

    // A. Capacity: 8 shards, each posting its next request as soon as the last is answered.
    const closed = sender(url, list, 8);
    const w0 = await written();
    const ta = performance.now();
    while (performance.now() - ta < measureS * 1000) {
      if (closed.backlog < 2 * list.length) offerRound(closed);
      await sleep(20);
    }
    const capacity = ((await written()) - w0) / ((performance.now() - ta) / 1000);
    await closed.drain(300_000);

    // B. Twice that offered, open loop, by `concurrency` shards; then C. the backlog drained.
    const open = sender(url, list, concurrency);
    const watch = watchProcess(sink.child.pid, 250);
    const offered = 2 * capacity;
    const c0 = await written();
    const tb = performance.now();
    let offeredSamples = 0;
    while (performance.now() - tb < overloadS * 1000) {
      const due = ((performance.now() - tb) / 1000) * offered;
      while (offeredSamples + perRound <= due) {
        offerRound(open);
        offeredSamples += perRound;
      }
      await sleep(20);
      if (sink.child.exitCode !== null || sink.child.signalCode !== null) break;
    }
    const overloadSeconds = (performance.now() - tb) / 1000;
    const acceptedInOverload = open.stats.acceptedSamples;
    const c1 = await written();
    const drainS = await open.drain(Math.max(120_000, overloadS * 3000));
    const ws = watch.stop();
    const crashed = sink.child.exitCode !== null || sink.child.signalCode !== null;
    if (crashed) failures.push(`sink exited (${sink.child.exitCode ?? sink.child.signalCode})`);
    const st = open.stats;
    const pushedBack = (st.statuses[503] ?? 0) + (st.statuses[429] ?? 0);
    const other = Object.entries(st.statuses).filter(([k]) => !['204', '503', '429'].includes(k));
    if (pushedBack === 0) failures.push('no 503 or 429 while offered twice the capacity');
    if (other.length > 0)
      failures.push(`answers other than 204/503/429: ${JSON.stringify(Object.fromEntries(other))}`);
    if (open.backlog > 0)
      failures.push(`${open.backlog} requests still not accepted ${f1(drainS)} s after the load`);
    const rows = await countRows(db);
    const sent = round * perRound;
    if (rows !== sent) failures.push(`${rows} samples stored, ${sent} sent (each once)`);
    const after = crashed ? undefined : await written();
    if (after !== undefined && after !== rows)
      failures.push(`the sink counted ${after} samples written, ${rows} stored`);
    if (ws.rssPeak > rssBoundMb) failures.push(`RSS peak ${f1(ws.rssPeak)} MB over ${rssBoundMb} MB`);
    if (c1 - c0 < 0.5 * capacity * overloadSeconds)
      notes.push('the receiver committed less than half its capacity while overloaded');
    return verdict(
      'Remote-write back-pressure',
      `\`hostscope sink --web.enable-remote-write-receiver --remote-write.max-pending-samples=${maxPending}\` ` +
        `takes WriteRequests of ${perRequest.toLocaleString('en-US')} samples (${requests} per round of ` +
        `${perRound.toLocaleString('en-US')} node_exporter-like series, rounds 1 s apart). First its capacity: ` +
        `8 senders posting as fast as it answers for ${measureS} s. Then twice that offered for ${overloadS} s ` +
        `by ${concurrency} Prometheus-like senders (open loop: requests not yet accepted wait in the sender, ` +
        "as in Prometheus' WAL; 503/429 and broken connections retried with backoff from 100 ms to 2 s), and " +
        'the backlog drained. Pass: no crash, the receiver pushes back (503/429) and answers nothing else but 204, ' +
        `RSS peak under ${rssBoundMb} MB, and in the end every sample sent is stored exactly once.`,
      [
        ['capacity (8 senders, closed loop), samples/s', f1(capacity)],
        [
          'offered / accepted while overloaded, samples/s',
          `${f1(offered)} / ${f1(acceptedInOverload / overloadSeconds)} (${f2(acceptedInOverload / overloadSeconds / offered)}×)`,
        ],
        [
          'answers 204 / 503 / 429; retries',
          `${st.statuses[204] ?? 0} / ${st.statuses[503] ?? 0} / ${st.statuses[429] ?? 0}; ${st.retries}`,
        ],
        [
          'sender backlog at most (requests)',
          `${st.maxBacklog} (${(st.maxBacklog * perRequest).toLocaleString('en-US')} samples)`,
        ],
        ['backlog drained after the load in', `${f1(drainS)} s`],
        ['samples sent / stored', `${sent.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')}`],
        [
          'sink CPU, RSS peak / end',
          `${f1(ws.cpuPercent)} % of a core, ${f1(ws.rssPeak)} / ${f1(ws.rssLast)} MB`,
        ],
      ],
      failures,
      notes,
    );
  } finally {
    await sink.stop();
    sink.removeBuffer();
    await db.end();
    await pg.admin.query('DROP DATABASE IF EXISTS stress_remote_write');
  }
}
