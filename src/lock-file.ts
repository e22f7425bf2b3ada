import { readFileSync, rmSync, writeFileSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock file holding this process's pid. A lock left by a process that is gone (a crash,
 * or the same pid 1 in a restarted container) is taken over; one held by a live process throws
 * `held(pid)`. Returns the release function.
 */
export function acquireLockFile(file: string, held: (pid: number) => Error): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw held(pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${file}`);
}
