import * as path from 'node:path';
import { HostscopeError } from '../../errors';
import { acquireLockFile } from '../../lock-file';

export class BufferDirLockedError extends HostscopeError {
  constructor(dir: string, pid: number) {
    super(
      'E_BUFFER_DIR_LOCKED',
      `the buffer directory ${dir} is in use by process ${pid}; give each sink its own --buffer.dir`,
    );
  }
}

/**
 * An exclusive lock file (the owner's pid): two sinks appending to and deleting each other's segments
 * would lose data. Returns the release function.
 */
export function lockBufferDir(dir: string): () => void {
  return acquireLockFile(path.join(dir, 'lock'), (pid) => new BufferDirLockedError(dir, pid));
}
