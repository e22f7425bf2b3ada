// Faults of the host under the exporter (faults.mjs runs them): a hung NFS-like mount (a FUSE file system
// whose statfs never answers, fuse-hang.mjs), and /proc files vanishing mid-read (processes exiting by the
// thousand while the process-related collectors read them).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort, NODE_ENV_VARS, NODE_FLAGS, sleep, waitForHttp } from '../bench-lib.mjs';
import { CLI, f1, hasDockerd, openFds, privateDockerd, stopChild, verdict } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_EXPORTER_EXCLUDE =
  '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)';

/** Time of a GET and what it answered: { ms, status, text } or { ms, error }. */
async function timedGet(url, timeoutMs) {
  const t = performance.now();
  try {
    const res = await fetch(url, { signal: globalThis.AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { ms: performance.now() - t, status: res.status, text };
  } catch (err) {
    return {
      ms: performance.now() - t,
      error: err?.name === 'TimeoutError' ? 'timeout' : String(err?.message ?? err),
    };
  }
}

/** Per mount point: node_filesystem_device_error and whether node_filesystem_size_bytes is there. */
function filesystems(text) {
  const out = new Map();
  for (const m of text.matchAll(/^node_filesystem_(device_error|size_bytes)\{([^}]*)\} (\S+)$/gm)) {
    const mp = /mountpoint="([^"]*)"/.exec(m[2])?.[1];
    if (mp === undefined) continue;
    const e = out.get(mp) ?? { deviceError: undefined, size: false };
    if (m[1] === 'device_error') e.deviceError = Number(m[3]);
    else e.size = true;
    out.set(mp, e);
  }
  return out;
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

/** The namespace with the FUSE file system and the exporters (fuse-hang.mjs); talks over its stdin/stdout. */
async function startHungNamespace(config) {
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--pid',
      '--fork',
      '--mount-proc',
      '--propagation',
      'private',
      process.execPath,
      path.join(HERE, 'fuse-hang.mjs'),
      JSON.stringify(config),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...NODE_ENV_VARS } },
  );
  const lines = [];
  let rest = '';
  child.stdout.on('data', (d) => {
    rest += d.toString();
    let i;
    while ((i = rest.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(rest.slice(0, i)));
      rest = rest.slice(i + 1);
    }
  });
  const exited = new Promise((r) => child.once('exit', r));
  const next = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (lines.length === 0) {
      if (child.exitCode !== null) throw new Error(`fuse-hang.mjs exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('fuse-hang.mjs did not answer');
      await sleep(20);
    }
    const line = lines.shift();
    if (line.error !== undefined) throw new Error(`fuse-hang.mjs: ${line.error}`);
    return line;
  };
  const ready = await next(60_000);
  return {
    ready,
    async command(cmd) {
      child.stdin.write(`${cmd}\n`);
      return next();
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin.write('quit\n');
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * A hung NFS-like mount: one mount point (a FUSE file system in a private namespace) whose statfs never
 * answers while the exporter is scraped, then answers again.
 */
export async function hungMount(p) {
  const name = 'Fault: hung NFS-like mount';
  const unshare = spawnSync('sh', ['-c', 'command -v unshare && command -v mount']).status === 0;
  if (!existsSync('/dev/fuse') || !unshare)
    return verdict(name, 'could not run', [], ['needs /dev/fuse, unshare and mount (util-linux)']);
  const timeoutMs = 1000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-stress-fuse-'));
  const mountDir = path.join(dir, 'mnt');
  const logFile = path.join(dir, 'exporters.log');
  const port = await freePort();
  const peerPort = await freePort();
  const peer = spawnSync('sh', ['-c', 'command -v prometheus-node-exporter']).status === 0;
  const exporters = [
    {
      name: 'hostscope',
      argv: [
        process.execPath,
        ...NODE_FLAGS,
        CLI,
        'exporter',
        `--web.listen-address=127.0.0.1:${port}`,
        `--collector.filesystem.mount-timeout=${timeoutMs}ms`,
        '--no-collector.docker',
        '--log.level=info',
      ],
    },
  ];
  if (peer)
    exporters.push({
      name: 'node_exporter',
      argv: [
        'prometheus-node-exporter',
        `--web.listen-address=127.0.0.1:${peerPort}`,
        `--collector.filesystem.mount-timeout=${timeoutMs}ms`,
        `--collector.filesystem.mount-points-exclude=${NODE_EXPORTER_EXCLUDE}`,
      ],
    });
  const url = `http://127.0.0.1:${port}/metrics`;
  const peerUrl = `http://127.0.0.1:${peerPort}/metrics`;
  let ns;
  const failures = [];
  const notes = [];
  try {
    ns = await startHungNamespace({ mountDir, logFile, exporters });
    await waitForHttp(url, 30_000);
    if (peer) await waitForHttp(peerUrl, 30_000);
    const scrape = () => timedGet(url, 30_000);
    const fsOf = (r) => filesystems(r.text ?? '');

    // Before: the mount answers, and is reported like any other.
    let base;
    for (let i = 0; i < 3; i++) base = await scrape();
    const baseFs = fsOf(base);
    const others = [...baseFs.keys()].filter((k) => k !== mountDir);
    if (baseFs.get(mountDir)?.deviceError !== 0 || baseFs.get(mountDir)?.size !== true)
      failures.push('the FUSE mount was not reported while it answered');
    const s0 = await ns.command('stats');

    // Hung: sequential scrapes, and bursts of concurrent ones.
    await ns.command('hang');
    const hungAt = Date.now();
    const results = [];
    const rounds = p.faults.hungScrapes;
    for (let i = 0; i < rounds; i++) {
      if (i % 10 === 5) results.push(...(await Promise.all(Array.from({ length: 8 }, scrape))));
      else results.push(await scrape());
    }
    const sMid = await ns.command('stats');
    for (let i = 0; i < rounds; i++) results.push(await scrape());
    const s1 = await ns.command('stats');
    const hungFor = (Date.now() - hungAt) / 1000;

    // The peer, on the same hung mount: its first scrape waits for the statfs (no time limit of its own).
    let peerFirst;
    let peerNext;
    if (peer) {
      peerFirst = await timedGet(peerUrl, 5 * timeoutMs);
      await sleep(timeoutMs + 200);
      peerNext = await timedGet(peerUrl, 5 * timeoutMs);
    }
    // Calls waiting on the mount (the peer's included) when it answers again.

    // Released: the held statfs answers; the mount is reported again.
    const releasedAt = performance.now();
    const released = (await ns.command('release')).released;
    let recovered;
    for (let i = 0; i < 100; i++) {
      const r = await scrape();
      const e = fsOf(r).get(mountDir);
      if (e?.deviceError === 0 && e.size) {
        recovered = (performance.now() - releasedAt) / 1000;
        break;
      }
      await sleep(50);
    }
    for (let i = 0; i < 5; i++) await scrape();
    const s2 = await ns.command('stats');

    const failed = results.filter((r) => r.status !== 200);
    const ms = results.map((r) => r.ms);
    const max = Math.max(...ms);
    const notMarked = results.filter((r) => {
      const e = fsOf(r).get(mountDir);
      return r.status === 200 && (e?.deviceError !== 1 || e.size);
    }).length;
    const missingOthers = results.filter((r) => {
      const f = fsOf(r);
      return r.status === 200 && others.some((o) => f.get(o)?.deviceError !== 0 || !f.get(o)?.size);
    }).length;
    const collectorFailed = results.filter((r) =>
      /^node_scrape_collector_success\{collector="filesystem"\} 0$/m.test(r.text ?? ''),
    ).length;
    const h = (s) => s.exporters.hostscope;
    const log = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const errors = log.filter((l) => /"level":(50|60|"error"|"fatal")/.test(l));

    // A scrape may wait for the mount timeout once (the scrape that finds the mount hung); every one is
    // bounded by it, with a second of slack for a loaded machine.
    if (failed.length > 0) failures.push(`${failed.length} failed scrapes`);
    if (max > timeoutMs + 1000) failures.push(`a scrape took ${f1(max)} ms (mount timeout ${timeoutMs} ms)`);
    if (notMarked > 0)
      failures.push(`${notMarked} scrapes did not mark the hung mount (device_error 1, no size)`);
    if (missingOthers > 0) failures.push(`${missingOthers} scrapes lost another file system`);
    if (collectorFailed > 0) failures.push(`${collectorFailed} scrapes with the filesystem collector failed`);
    if (s1.held !== 1 || s1.statfs - s0.statfs !== 1)
      failures.push(
        `${s1.statfs - s0.statfs} statfs calls on the hung mount, ${s1.held} waiting (one call at most is in flight)`,
      );
    if (h(s1).threads > h(s0).threads) failures.push(`threads grew ${h(s0).threads} → ${h(s1).threads}`);
    if (h(s1).fds > h(sMid).fds + 2) failures.push(`open fds grew ${h(sMid).fds} → ${h(s1).fds} while hung`);
    if (recovered === undefined) failures.push('the mount was not reported again after it answered');
    if (errors.length > 0) failures.push(`${errors.length} error lines in the exporter's log`);
    const peerText = (r) =>
      r === undefined
        ? 'not run'
        : r.error !== undefined
          ? `no answer within ${f1(r.ms / 1000)} s (${r.error})`
          : `${r.status} in ${f1(r.ms)} ms, device_error ${fsOf(r).get(mountDir)?.deviceError ?? 'absent'}`;
    if (peer)
      notes.push(
        'node_exporter 1.5 calls statfs in the scrape itself (collector/filesystem_linux.go, v1.5.0): its stuck-mount ' +
          'watcher only marks the mount after --collector.filesystem.mount-timeout, for the next scrapes, so the ' +
          'scrape that meets the hung mount waits as long as the mount hangs (v1.9 still does, with its statfs ' +
          'workers). hostscope waits at most the mount timeout (less when the collector deadline is nearer) and ' +
          'reports that scrape as node_exporter reports the next ones: node_filesystem_device_error 1 and no other ' +
          'series of the mount.',
      );
    else notes.push('prometheus-node-exporter is not installed: no peer figures.');
    return verdict(
      name,
      'The exporter (`--collector.filesystem.mount-timeout=1s`, docker collector off) and node_exporter 1.5 (same ' +
        'timeout) run in a private mount and PID namespace (`unshare`) with a FUSE file system of our own ' +
        '(scripts/stress/fuse-hang.mjs, speaking the protocol on /dev/fuse) mounted there, so no other process on ' +
        `the machine sees it. Its statfs is then held unanswered while the exporter is scraped ${2 * rounds - rounds / 10} ` +
        `times in a row and ${(8 * rounds) / 10} times in bursts of 8 concurrent scrapes, and released. ` +
        'Pass: no failed scrape, each within the ' +
        'mount timeout (+1 s of slack), the hung mount reported with node_filesystem_device_error 1 and no other ' +
        'series of it in every scrape, every other file system still reported, one statfs call at most waiting on ' +
        'the mount, no thread or descriptor growth, no error logged, and the mount reported again once it answers.',
      [
        [
          'scrapes while hung: answered / failed',
          `${results.length - failed.length} / ${failed.length} (in ${f1(hungFor)} s)`,
        ],
        [
          'scrape latency while hung: p50 / p99 / max',
          `${f1(quantile(ms, 0.5))} / ${f1(quantile(ms, 0.99))} / ${f1(max)} ms`,
        ],
        [
          'scrapes marking the hung mount (device_error 1, no size)',
          `${results.length - notMarked} of ${results.length}`,
        ],
        [
          'other file systems reported in every scrape',
          `${others.length} (${missingOthers} scrapes missing one)`,
        ],
        [
          "statfs calls on the hung mount from hostscope's scrapes / waiting when it answered (the peer's included)",
          `${s1.statfs - s0.statfs} / ${released}`,
        ],
        [
          'exporter threads / open fds: before, mid-hang, end of hang, after recovery',
          `${h(s0).threads} / ${h(sMid).threads} / ${h(s1).threads} / ${h(s2).threads} threads, ${h(s0).fds} / ${h(sMid).fds} / ${h(s1).fds} / ${h(s2).fds} fds`,
        ],
        [
          'recovery: statfs answers → mount reported again',
          recovered === undefined ? 'never' : `${f1(recovered)} s`,
        ],
        [
          'node_exporter (peer): first scrape on the hung mount / the next',
          `${peerText(peerFirst)} / ${peerText(peerNext)}`,
        ],
      ],
      failures,
      notes,
    );
  } finally {
    await ns?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `hostscope exporter` on a free port, its stdout (pino JSON) kept: { child, url, lines, stop }. */
async function loggedExporter(extra) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, CLI, 'exporter', `--web.listen-address=127.0.0.1:${port}`, '--log.level=info', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NODE_ENV_VARS } },
  );
  const lines = [];
  let rest = '';
  const take = (d) => {
    rest += d.toString();
    let i;
    while ((i = rest.indexOf('\n')) >= 0) {
      lines.push(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitForHttp(url, 30_000);
  return { child, url, lines, stop: () => stopChild(child) };
}

/**
 * A shell loop of short-lived processes for `seconds`: each batch starts 16 that exit at once and 2
 * sleeping ones that are SIGKILLed, then waits for them; prints "<started> <killed>" at the end.
 * `exe`: the command that exits at once; `now`: a command printing the time in seconds.
 */
const storm = (exe, now, seconds) =>
  `n=0; k=0; end=$(( $(${now}) + ${seconds} )); ` +
  `while [ "$(${now})" -lt "$end" ]; do ` +
  `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do ${exe} & done; ` +
  'sleep 30 & a=$!; sleep 30 & b=$!; kill -9 $a $b; wait; n=$((n + 19)); k=$((k + 2)); done; echo "$n $k"';

/** Series of a text by family name prefix: { [family]: count }. */
function seriesCounts(text, names) {
  const out = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    if (name in out) out[name]++;
  }
  return out;
}

const value = (text, re) => {
  const m = re.exec(text);
  return m === null ? NaN : Number(m[1]);
};

/**
 * `/proc` files vanishing mid-read: thousands of short-lived processes, on the host and inside a container,
 * and short-lived containers, while the exporter (docker collector on a private dockerd, container task
 * states on) is scraped back to back.
 */
export async function procVanish(p) {
  const name = 'Fault: /proc files vanishing mid-read';
  if (!hasDockerd()) return verdict(name, 'could not run', [], ['no dockerd']);
  const seconds = p.faults.procChurnS;
  const d = await privateDockerd();
  let exporter;
  const children = [];
  try {
    // Inside the container the loop runs until the container is killed; busybox's applets do the work.
    const bb = '/bin/busybox';
    const stormId = (
      await d.dockerAsync([
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        'proc-storm',
        'local/busybox',
        'sh',
        '-c',
        storm('cat /dev/null', `${bb} date +%s`, 100_000),
      ])
    ).stdout.trim();
    if (stormId === '') throw new Error('could not start the container of the process storm');
    exporter = await loggedExporter([
      `--collector.docker.host=${d.host}`,
      '--collector.docker.gone-grace=1s',
    ]);
    const FAMILIES = [
      'node_procs_running',
      'node_procs_blocked',
      'node_forks_total',
      'node_context_switches_total',
      'node_load1',
      'node_load5',
      'node_load15',
      'process_open_fds',
      'process_resident_memory_bytes',
      'node_scrape_collector_success',
    ];
    const stormSeries = (text) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('container_') && l.includes(`id="/docker/${stormId}"`))
        .map((l) => l.slice(0, l.search(/[{ ]/)));
    const scrape = () => timedGet(exporter.url, 30_000);
    const before = await scrape();
    const fds0 = openFds(exporter.child.pid);

    // The churn: on the host, in the container (running already), and short-lived containers.
    const host = spawn('sh', ['-c', storm('/bin/true', 'date +%s', seconds)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(host);
    let hostOut = '';
    host.stdout.on('data', (c) => (hostOut += c));
    const hostDone = new Promise((r) => host.once('exit', r));
    let containersRun = 0;
    let containerErrors = 0;
    let churning = true;
    const shortLived = (async () => {
      while (churning) {
        const r = await d.dockerAsync([
          'run',
          '--rm',
          '--network',
          'none',
          'local/busybox',
          'cat',
          '/dev/null',
        ]);
        if (r.status === 0) containersRun++;
        else containerErrors++;
      }
    })();

    const results = [];
    const t0 = Date.now();
    let fdsPeak = fds0;
    while (Date.now() - t0 < seconds * 1000) {
      const r = await scrape();
      results.push(r);
      if (results.length % 10 === 0) fdsPeak = Math.max(fdsPeak, openFds(exporter.child.pid));
      await sleep(50);
    }
    churning = false;
    await shortLived;
    await hostDone;
    const [hostStarted, hostKilled] = hostOut.trim().split(' ').map(Number);
    const stormBefore = value(
      before.text ?? '',
      new RegExp(`^container_processes\\{[^}]*id="/docker/${stormId}"[^}]*\\} (\\S+)$`, 'm'),
    );
    // The loop killed, the churn over: scrapes until the descriptors of vanished tasks are let go.
    await d.dockerAsync(['rm', '-f', stormId]);
    await sleep(2000);
    for (let i = 0; i < 8; i++) await scrape();
    const fdsAfter = openFds(exporter.child.pid);
    await exporter.stop();

    const ok = results.filter((r) => r.status === 200);
    const failed = results.length - ok.length;
    const ms = results.map((r) => r.ms);
    // Collectors with nothing to report on this host (no hwmon chips, ...) fail before the churn already.
    const failedIn = (text) =>
      [...text.matchAll(/^node_scrape_collector_success\{collector="([^"]+)"\} 0$/gm)].map((m) => m[1]);
    const failingAnyway = new Set(failedIn(before.text ?? ''));
    const collectorFailures = ok.filter((r) => failedIn(r.text).some((c) => !failingAnyway.has(c)));
    const failedCollectors = new Set(
      collectorFailures.flatMap((r) => failedIn(r.text).filter((c) => !failingAnyway.has(c))),
    );
    const hostCounts = ok.map((r) => JSON.stringify(seriesCounts(r.text, FAMILIES)));
    const hostShapes = new Set(hostCounts);
    const stormCounts = ok.map((r) => stormSeries(r.text).length);
    const stormStates = ok.map(
      (r) => stormSeries(r.text).filter((n) => n === 'container_tasks_state').length,
    );
    const forks = ok.map((r) => value(r.text, /^node_forks_total (\S+)$/m));
    const forksBack = forks.filter((f, i) => i > 0 && f < forks[i - 1]).length;
    const stormProcesses = ok.map((r) =>
      value(r.text, new RegExp(`^container_processes\\{[^}]*id="/docker/${stormId}"[^}]*\\} (\\S+)$`, 'm')),
    );
    const errors = exporter.lines.filter((l) => /"level":(50|60|"error"|"fatal")/.test(l));
    const warnings = exporter.lines.filter((l) => /"level":(40|"warn")/.test(l));

    const failures = [];
    if (failed > 0) failures.push(`${failed} failed scrapes`);
    if (collectorFailures.length > 0)
      failures.push(
        `${collectorFailures.length} scrapes with a failed collector (${[...failedCollectors].join(', ')})`,
      );
    if (errors.length > 0)
      failures.push(`${errors.length} error lines in the exporter's log: ${errors[0].slice(0, 300)}`);
    if (hostShapes.size !== 1)
      failures.push(`${hostShapes.size} different series counts of the host process families`);
    if (Math.min(...stormCounts) !== Math.max(...stormCounts) || stormCounts[0] === 0)
      failures.push(
        `the storm container's series varied: ${Math.min(...stormCounts)}..${Math.max(...stormCounts)}`,
      );
    if (Math.min(...stormStates) !== 5)
      failures.push('container_tasks_state of the storm container incomplete');
    if (new Set(stormProcesses).size < 2)
      failures.push(
        `container_processes of the storm container was ${stormProcesses[0]} in every scrape (a stale process list)`,
      );
    if (forksBack > 0) failures.push(`node_forks_total went back ${forksBack} times`);
    if (fdsAfter > fds0 + 5) failures.push(`open fds ${fds0} before the churn, ${fdsAfter} after it`);
    const forked = forks.at(-1) - forks[0];
    if (!(forked >= hostStarted))
      failures.push(`node_forks_total grew ${forked}, fewer than the ${hostStarted} host processes`);
    return verdict(
      name,
      `For ${seconds} s, a shell on the host and one in a container each start processes in batches of 16 that ` +
        'exit at once, plus 2 that are SIGKILLed, as fast as they can, and containers that exit at once are run ' +
        'one after the other (`docker run --rm`), while `hostscope exporter` (all default collectors, docker on a ' +
        'private dockerd, container_tasks_state on: it reads /proc/<tid>/stat of every thread of every container) ' +
        'is scraped back to back (50 ms apart). The files of the processes and containers that exit vanish ' +
        'between the listing and the read. Pass: no failed scrape, no collector failing that did not fail before ' +
        'the churn, no error logged, the ' +
        "same number of series in every scrape for the host process families (stat, loadavg, the exporter's " +
        'own) and for the storm container, its container_processes following the churn, node_forks_total never ' +
        'going back and counting at least the host processes, and the descriptors of vanished tasks let go once ' +
        'the churn ends.',
      [
        ['processes started / SIGKILLed on the host', `${hostStarted} / ${hostKilled}`],
        ['node_forks_total growth (host and containers)', String(forked)],
        ['short-lived containers run (docker errors)', `${containersRun} (${containerErrors})`],
        [
          'storm container: container_processes min..max',
          `${Math.min(...stormProcesses)}..${Math.max(...stormProcesses)} (${stormBefore} before)`,
        ],
        [
          'scrapes answered / failed; collectors failed (besides those failing before the churn)',
          `${ok.length} / ${failed}; ${collectorFailures.length} (${[...failingAnyway].join(', ') || 'none'} failing anyway)`,
        ],
        [
          'scrape latency p50 / p99 / max',
          `${f1(quantile(ms, 0.5))} / ${f1(quantile(ms, 0.99))} / ${f1(Math.max(...ms))} ms`,
        ],
        [
          'series of the host process families / of the storm container per scrape',
          `${[...hostShapes].length === 1 ? 'constant' : 'varied'} / ${Math.min(...stormCounts)}..${Math.max(...stormCounts)}`,
        ],
        ['exporter open fds: before / peak / after the churn', `${fds0} / ${fdsPeak} / ${fdsAfter}`],
        ['exporter log lines: error / warn', `${errors.length} / ${warnings.length}`],
      ],
      failures,
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (exporter !== undefined) await exporter.stop();
    await d.destroy();
  }
}
