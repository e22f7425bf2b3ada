import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { prepareDataDir } from '../../../src/db/pglite-template';
import { extractTarGz, writeTarGz } from '../../../src/db/tar';

function tree(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel))
    .sort()
    .flatMap((name) => {
      const r = rel === '' ? name : `${rel}/${name}`;
      const full = path.join(dir, r);
      return statSync(full).isDirectory()
        ? [`${r}/`, ...tree(dir, r)]
        : [`${r} ${readFileSync(full).toString('base64')}`];
    });
}

describe('tar of a data directory (the embedded database template)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-tar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function sample(): string {
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, 'base/1'), { recursive: true });
    mkdirSync(path.join(src, 'pg_tblspc'));
    writeFileSync(path.join(src, 'PG_VERSION'), '18\n');
    writeFileSync(path.join(src, 'empty'), '');
    writeFileSync(path.join(src, 'base/1/1259'), Buffer.alloc(8192 * 3 + 17, 7));
    writeFileSync(
      path.join(src, 'base/1/big'),
      Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251)),
    );
    return src;
  }

  it('round-trips files, empty files and empty directories, byte for byte, and is what tar reads', async () => {
    const src = sample();
    const file = path.join(dir, 't.tar.gz');
    await writeTarGz(src, file);
    const out = path.join(dir, 'out');
    await extractTarGz(file, out);
    expect(tree(out)).toEqual(tree(src));
    expect(statSync(path.join(out, 'base')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(out, 'PG_VERSION')).mode & 0o777).toBe(0o600);
    // The system tar lists the same entries (a plain ustar archive).
    const listed = execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(tree(src).map((e) => e.split(' ')[0]));
  });

  it('rejects a truncated archive, a corrupted header and names that leave the directory', async () => {
    const src = sample();
    const file = path.join(dir, 't.tar.gz');
    await writeTarGz(src, file);
    const tar = gunzipSync(readFileSync(file));

    const truncated = path.join(dir, 'truncated.tar.gz');
    writeFileSync(truncated, gzipSync(tar.subarray(0, 4096)));
    await expect(extractTarGz(truncated, path.join(dir, 'o1'))).rejects.toThrow(/truncated/);

    const corrupt = Buffer.from(tar);
    corrupt[10] = (corrupt[10] ?? 0) ^ 1;
    const corrupted = path.join(dir, 'corrupt.tar.gz');
    writeFileSync(corrupted, gzipSync(corrupt));
    await expect(extractTarGz(corrupted, path.join(dir, 'o2'))).rejects.toThrow(/checksum/);

    const evil = path.join(dir, 'evil');
    mkdirSync(path.join(evil, 'a'), { recursive: true });
    writeFileSync(path.join(evil, 'a/x'), 'x');
    const evilFile = path.join(dir, 'evil.tar.gz');
    await writeTarGz(evil, evilFile);
    const bytes = gunzipSync(readFileSync(evilFile));
    // Rename the entry 'a/x' to '../x' and fix its checksum.
    const at = bytes.indexOf('a/x\0');
    bytes.write('../x', at);
    bytes.write('        ', at + 148);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += bytes[at + i] ?? 0;
    bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148);
    writeFileSync(evilFile, gzipSync(bytes));
    await expect(extractTarGz(evilFile, path.join(dir, 'o3', 'inner'))).rejects.toThrow(/unsafe/);
    expect(existsSync(path.join(dir, 'o3', 'x'))).toBe(false);
  });

  it('prepareDataDir: fills a missing or empty directory from the template, leaves others alone', async () => {
    const template = path.join(dir, 'template.tar.gz');
    await writeTarGz(sample(), template);

    const fresh = path.join(dir, 'fresh');
    // A staging directory left by a crash midway is replaced.
    mkdirSync(`${fresh}.template-tmp`);
    writeFileSync(`${fresh}.template-tmp/PG_VERSION`, 'half');
    expect(await prepareDataDir(fresh, template)).toBe('template');
    expect(readFileSync(path.join(fresh, 'PG_VERSION'), 'utf8')).toBe('18\n');
    expect(existsSync(`${fresh}.template-tmp`)).toBe(false);
    expect(await prepareDataDir(fresh, template)).toBe('existing');

    const empty = path.join(dir, 'empty-dir');
    mkdirSync(empty);
    expect(await prepareDataDir(empty, template)).toBe('template');

    const other = path.join(dir, 'not-a-cluster');
    mkdirSync(other);
    writeFileSync(path.join(other, 'mine'), 'keep');
    expect(await prepareDataDir(other, template)).toBe('initdb');
    expect(readdirSync(other)).toEqual(['mine']);

    const noTemplate = path.join(dir, 'no-template');
    expect(await prepareDataDir(noTemplate, path.join(dir, 'missing.tar.gz'))).toBe('initdb');
    expect(existsSync(noTemplate)).toBe(false);
  });
});
