import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net';

export { freePort };

const run = promisify(execFile);

/** Directory of the newest installed PostgreSQL server binaries, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const v = versions[0];
  return v === undefined ? undefined : path.join(root, v, 'bin');
}

/** True when a private cluster can be created here: server binaries, runuser, and root. */
export function hasPostgres(): boolean {
  return (
    postgresBinDir() !== undefined &&
    existsSync('/usr/sbin/runuser') &&
    typeof process.getuid === 'function' &&
    process.getuid() === 0
  );
}

export interface PgServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth; test only), with the password if one was set. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server (if running) and deletes its directory. */
  destroy(): Promise<void>;
}

/**
 * A private, throwaway PostgreSQL cluster for one test file: initdb into a temp dir as the `postgres` OS
 * user, a free port on 127.0.0.1, fsync off, trust auth (or scram-sha-256 with `password`). Tests may stop and start it freely (outage tests)
 * without disturbing other test files.
 */
export async function startPostgres(options: { password?: string } = {}): Promise<PgServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  const base = mkdtempSync(path.join(os.tmpdir(), 'hostscope-pg-'));
  chownSync(base, uidOf('postgres'), gidOf('postgres'));
  const dataDir = path.join(base, 'data');
  const asPg = (cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> =>
    run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { timeout: 120_000 });
  // With a password: scram-sha-256 for every connection (the secrets test's wrong passwords must fail).
  const auth = ['-A', 'trust'];
  if (options.password !== undefined) {
    const pwfile = path.join(base, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    chownSync(pwfile, uidOf('postgres'), gidOf('postgres'));
    auth.splice(0, 2, '-A', 'scram-sha-256', `--pwfile=${pwfile}`);
  }
  await asPg('initdb', ['-D', dataDir, ...auth, '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  if (options.password !== undefined) rmSync(path.join(base, 'pwfile'));
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${base}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=50',
    '-c shared_buffers=128MB',
  ].join(' ');
  let running = false;
  const server: PgServer = {
    url:
      options.password === undefined
        ? `postgres://postgres@127.0.0.1:${port}/postgres`
        : `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async start() {
      await asPg('pg_ctl', ['-D', dataDir, '-o', opts, '-l', path.join(base, 'server.log'), '-w', 'start']);
      running = true;
    },
    async stop() {
      if (!running) return;
      await asPg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      try {
        await server.stop();
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
  await server.start();
  return server;
}

function uidOf(user: string): number {
  return idOf(user, '-u');
}

function gidOf(user: string): number {
  return idOf(user, '-g');
}

function idOf(user: string, flag: string): number {
  return Number(execFileSync('id', [flag, user]).toString().trim());
}
