import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { errnoCode, readSysfsFile } from '../../../src/host/sysfs-read';

describe('readSysfsFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sysfs-read-'));

  it('returns the trimmed content', async () => {
    const file = path.join(dir, 'mtu');
    writeFileSync(file, '1500\n');
    await expect(readSysfsFile(file)).resolves.toBe('1500');
  });

  it('reads at most maxBytes, like procfs 128-byte attribute reads', async () => {
    const file = path.join(dir, 'ifalias');
    writeFileSync(file, `${'a'.repeat(200)}\n`);
    await expect(readSysfsFile(file, 128)).resolves.toBe('a'.repeat(128));
  });

  it('rejects with the errno code', async () => {
    const err: unknown = await readSysfsFile(path.join(dir, 'absent')).catch((e: unknown) => e);
    expect(errnoCode(err)).toBe('ENOENT');
    const dirErr: unknown = await readSysfsFile(dir).catch((e: unknown) => e);
    expect(errnoCode(dirErr)).toBe('EISDIR');
    expect(errnoCode(new Error('plain'))).toBeUndefined();
  });
});
