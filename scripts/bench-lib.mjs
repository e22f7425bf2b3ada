// Shared helpers for the benchmark scripts: process CPU/RSS from /proc, percentiles, a free port, a private
// PostgreSQL cluster.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CLK_TCK = 100;

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

/** CPU seconds used so far by a PostgreSQL server: its postmaster and children (NaN without one). */
export function serverCpuSeconds(postmaster) {
  if (postmaster === undefined) return NaN;
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) === postmaster || Number(f[1]) === postmaster)
        ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // the process went away
    }
  }
  return ticks / CLK_TCK;
}
