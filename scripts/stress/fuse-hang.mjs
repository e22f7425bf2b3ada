// A hung NFS-like mount for the hungMount fault (faults.mjs): a FUSE file system whose statfs answers, or
// hangs until told to answer, mounted in a private mount and PID namespace together with the exporters
// that must see it, so that no other process of the machine (other tests, other exporters) ever stats it.
//
//   unshare --mount --pid --fork --mount-proc --propagation private node fuse-hang.mjs '<config JSON>'
//
// config: { mountDir, logFile, exporters: [{ name, argv: [command, ...args] }] }. It speaks the FUSE
// protocol on /dev/fuse itself (a few operations, no library), mounts with mount(8) given the descriptor,
// starts the exporters (this process is PID 1 of the namespace, so they read its /proc/1/mounts), prints
// one JSON line when ready, then takes commands on stdin, one per line, each answered with a JSON line:
//   hang     statfs requests are held unanswered from now on
//   release  held requests are answered, and later ones at once
//   stats    { held, statfs, exporters: { name: { threads, fds } } }
//   quit     release, stop the exporters (SIGTERM), unmount, exit
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, read, readdirSync, writeSync } from 'node:fs';

const config = JSON.parse(process.argv[2] ?? '{}');
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Operations (include/uapi/linux/fuse.h).
const OP = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  STATFS: 17,
  INIT: 26,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
};
const ENOENT = -2;
const EINTR = -4;
const ENOSYS = -38;

const fd = openSync('/dev/fuse', 'r+');
mkdirSync(config.mountDir, { recursive: true });
const m = spawnSync(
  'mount',
  [
    '-i',
    '-t',
    'fuse.hostscope-hung',
    '-o',
    'fd=3,rootmode=40000,user_id=0,group_id=0',
    'hung',
    config.mountDir,
  ],
  { stdio: ['ignore', 'inherit', 'pipe', fd], encoding: 'utf8' },
);
if (m.status !== 0) {
  say({ error: `mount failed: ${(m.stderr ?? '').trim() || `status ${m.status}`}` });
  process.exit(1);
}

let hang = false;
let statfsRequests = 0;
/** Unanswered statfs requests, by unique id. */
const held = new Set();
let initialised = false;

function reply(unique, error, body = Buffer.alloc(0)) {
  const out = Buffer.alloc(16 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeInt32LE(error, 4);
  out.writeBigUInt64LE(unique, 8);
  body.copy(out, 16);
  try {
    writeSync(fd, out);
  } catch {
    // the request is gone (its caller was interrupted or killed)
  }
}

/** fuse_kstatfs: a 4 MB file system, half free. */
function statfsBody() {
  const b = Buffer.alloc(80);
  b.writeBigUInt64LE(1000n, 0); // blocks
  b.writeBigUInt64LE(500n, 8); // bfree
  b.writeBigUInt64LE(400n, 16); // bavail
  b.writeBigUInt64LE(100n, 24); // files
  b.writeBigUInt64LE(50n, 32); // ffree
  b.writeUInt32LE(4096, 40); // bsize
  b.writeUInt32LE(255, 44); // namelen
  b.writeUInt32LE(4096, 48); // frsize
  return b;
}

/** fuse_init_out of protocol 7.31. */
function initBody() {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(7, 0);
  b.writeUInt32LE(31, 4);
  b.writeUInt16LE(12, 16); // max_background
  b.writeUInt16LE(9, 18); // congestion_threshold
  b.writeUInt32LE(4096, 20); // max_write
  b.writeUInt32LE(1, 24); // time_gran
  return b;
}

/** fuse_attr_out of the root directory. */
function rootAttrBody() {
  const b = Buffer.alloc(104);
  b.writeBigUInt64LE(1n, 0); // attr_valid (s)
  b.writeBigUInt64LE(1n, 16); // ino
  b.writeUInt32LE(0o40755, 16 + 60); // mode
  b.writeUInt32LE(2, 16 + 64); // nlink
  return b;
}

const buf = Buffer.alloc((1 << 20) + 8192);
function serve() {
  read(fd, buf, 0, buf.length, null, (err, n) => {
    if (err || n < 40) return; // unmounted
    const opcode = buf.readUInt32LE(4);
    const unique = buf.readBigUInt64LE(8);
    switch (opcode) {
      case OP.INIT:
        reply(unique, 0, initBody());
        initialised = true;
        break;
      case OP.GETATTR:
        reply(unique, 0, rootAttrBody());
        break;
      case OP.STATFS:
        statfsRequests++;
        if (hang) held.add(unique);
        else reply(unique, 0, statfsBody());
        break;
      case OP.INTERRUPT: {
        const target = buf.readBigUInt64LE(40);
        if (held.delete(target)) reply(target, EINTR);
        break;
      }
      case OP.FORGET:
      case OP.BATCH_FORGET:
        break;
      case OP.DESTROY:
        reply(unique, 0);
        break;
      case OP.LOOKUP:
        reply(unique, ENOENT);
        break;
      default:
        reply(unique, ENOSYS);
    }
    serve();
  });
}
serve();

function release() {
  hang = false;
  const n = held.size;
  for (const u of held) reply(u, 0, statfsBody());
  held.clear();
  return n;
}

const log = openSync(config.logFile, 'a');
const children = new Map();
const waitInit = async () => {
  for (let i = 0; i < 200 && !initialised; i++) await new Promise((r) => setTimeout(r, 25));
};

function count(dir) {
  try {
    return readdirSync(dir).length;
  } catch {
    return NaN;
  }
}

async function quit() {
  release();
  await Promise.all(
    [...children.values()].map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  spawnSync('umount', ['-l', config.mountDir]);
  closeSync(log);
  say({ quit: true });
  process.exit(0);
}

async function main() {
  await waitInit();
  if (!initialised) {
    say({ error: 'the kernel sent no FUSE INIT' });
    process.exit(1);
  }
  for (const e of config.exporters) {
    const [cmd, ...args] = e.argv;
    const c = spawn(cmd, args, { stdio: ['ignore', log, log] });
    children.set(e.name, c);
  }
  say({ ready: true, pids: Object.fromEntries([...children].map(([k, c]) => [k, c.pid])) });
  process.stdin.setEncoding('utf8');
  let rest = '';
  process.stdin.on('data', (d) => {
    rest += d;
    let i;
    while ((i = rest.indexOf('\n')) >= 0) {
      const cmd = rest.slice(0, i).trim();
      rest = rest.slice(i + 1);
      if (cmd === 'hang') {
        hang = true;
        say({ hang: true });
      } else if (cmd === 'release') say({ released: release() });
      else if (cmd === 'stats')
        say({
          held: held.size,
          statfs: statfsRequests,
          exporters: Object.fromEntries(
            [...children].map(([k, c]) => [
              k,
              { threads: count(`/proc/${c.pid}/task`), fds: count(`/proc/${c.pid}/fd`), exited: c.exitCode },
            ]),
          ),
        });
      else if (cmd === 'quit') void quit();
      else say({ error: `unknown command ${cmd}` });
    }
  });
  process.stdin.on('end', () => void quit());
}

main().catch((err) => {
  say({ error: String(err?.stack ?? err) });
  process.exit(1);
});
