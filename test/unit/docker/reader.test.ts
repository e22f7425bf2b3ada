import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchFileReader, type ReadGroup } from '../../../src/collectors/docker/reader';

describe('BatchFileReader', () => {
  let dir: string;
  let reader: BatchFileReader;
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const openFds = (): number => readdirSync('/proc/self/fd').length;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-reader-'));
    reader = new BatchFileReader();
  });
  afterEach(async () => {
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns each item in order: text, line count, thread states; undefined for what cannot be read', async () => {
    const proc = path.join(dir, 'proc');
    for (const [tid, state] of [
      ['11', 'S'],
      ['12', 'R'],
    ] as const) {
      mkdirSync(path.join(proc, tid), { recursive: true });
      writeFileSync(path.join(proc, tid, 'stat'), `${tid} (a (b) c) ${state} 1 2 3\n`);
    }
    const group: ReadGroup = {
      key: 'c1',
      items: [
        { path: file('memory.stat', 'cache 1\nrss 2\n'), keepOpen: true },
        { path: file('cgroup.procs', '1\n2\n\n3\n'), keepOpen: true, kind: 'count' },
        { path: file('tasks', '11\n12\n13\n'), keepOpen: false, kind: 'states', procfs: proc },
        { path: path.join(dir, 'missing'), keepOpen: true },
      ],
    };
    expect(await reader.read([group])).toEqual(['cache 1\nrss 2\n', '3', 'SR-', undefined]);
  });

  it('reads files larger than its buffer whole', async () => {
    const big = 'x'.repeat(200_000) + '\nend\n';
    expect(await reader.read([{ key: 'big', items: [{ path: file('big', big), keepOpen: true }] }])).toEqual([
      big,
    ]);
  });

  it('re-reads kept descriptors from the start, and closes those unused for a few reads and on close', async () => {
    const before = openFds();
    const p = file('cpu.stat', 'usage 1\n');
    const group: ReadGroup = { key: 'c', items: [{ path: p, keepOpen: true }] };
    expect(await reader.read([group])).toEqual(['usage 1\n']);
    expect(openFds()).toBe(before + 1);
    writeFileSync(p, 'usage 22\n');
    expect(await reader.read([group])).toEqual(['usage 22\n']);
    expect(openFds()).toBe(before + 1);

    const other: ReadGroup = { key: 'o', items: [{ path: file('other', 'o\n'), keepOpen: false }] };
    for (let i = 0; i < 6; i++) await reader.read([other]);
    expect(openFds()).toBe(before);

    await reader.read([group]);
    await reader.close();
    expect(openFds()).toBe(before);
    await expect(reader.read([group])).rejects.toThrow(/closed/);
  });

  it('closes kept descriptors when reads find no group at all (the last container gone)', async () => {
    const before = openFds();
    const group: ReadGroup = { key: 'c', items: [{ path: file('cpu.stat', 'usage 1\n'), keepOpen: true }] };
    await reader.read([group]);
    expect(openFds()).toBe(before + 1);
    for (let i = 0; i < 6; i++) expect(await reader.read([])).toEqual([]);
    expect(openFds()).toBe(before);
  });

  it('reads hundreds of groups, returning to the event loop in between', async () => {
    const groups: ReadGroup[] = Array.from({ length: 200 }, (_, i) => ({
      key: `g${i}`,
      items: [{ path: file(`f${i}`, `${i}\n`), keepOpen: true }],
    }));
    const events: string[] = [];
    const reading = reader.read(groups).then((texts) => {
      events.push('read');
      return texts;
    });
    // Runs before the read ends only if the read gave the event loop a turn.
    setImmediate(() => events.push('other work'));
    expect(await reading).toEqual(groups.map((_, i) => `${i}\n`));
    expect(events).toEqual(['other work', 'read']);
  });
});
