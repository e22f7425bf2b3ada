import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HostscopeError } from '../../errors';

export class BufferDirLockedError extends HostscopeError {
  constructor(dir: string, pid: number) {
    super(
      'E_BUFFER_DIR_LOCKED',
      `the buffer directory ${dir} is in use by process ${pid}; give each sink its own --buffer.dir`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file (the owner's pid): two sinks appending to and deleting each other's segments
 * would lose data. A lock left by a process that is gone (a crash, or the same pid 1 in a restarted
 * container) is taken over. Returns the release function.
 */
export function lockBufferDir(dir: string): () => void {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new BufferDirLockedError(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}`);
}
