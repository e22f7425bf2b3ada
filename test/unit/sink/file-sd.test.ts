import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileSd } from '../../../src/sink/targets/file-sd';
import { TargetSet } from '../../../src/sink/targets/target-set';
import { capturingLogger } from './buffer/helpers';

/** Writes a file the way config management does: a temporary file renamed over it. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function yaml(addresses: string[], labels: Record<string, string> = {}): string {
  return `- targets: ${JSON.stringify(addresses)}\n  labels: ${JSON.stringify(labels)}\n`;
}

/** Polls until `check` holds (a wait for the watcher, not a timing assertion). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('FileSd: reading and re-reading file_sd files', () => {
  let dir: string;
  const running: FileSd[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostscope-file-sd-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((f) => f.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  function start(
    values: string[],
    options: { refreshIntervalMs?: number; watch?: boolean } = {},
  ): { set: TargetSet; fileSd: FileSd; lines: () => Record<string, unknown>[]; urls: () => string[] } {
    const { logger, lines } = capturingLogger();
    const set = new TargetSet([], undefined, logger);
    const fileSd = new FileSd(
      values,
      { job: 'node', refreshIntervalMs: options.refreshIntervalMs ?? 300_000, watch: options.watch ?? true },
      set,
      logger,
    );
    expect(fileSd.loadInitial()).toEqual([]);
    fileSd.start();
    running.push(fileSd);
    return { set, fileSd, lines, urls: () => set.targets.map((t) => t.url).sort() };
  }

  it('follows edits of a watched file: added, removed, invalid (last good kept), missing, good again', async () => {
    const file = path.join(dir, 'targets.yml');
    writeFileSync(file, yaml(['a:1', 'b:1'], { team: 'x' }));
    const { set, fileSd, lines, urls } = start([file]);
    expect(urls()).toEqual(['http://a:1/metrics', 'http://b:1/metrics']);
    expect(set.targets[0]?.labels).toEqual({ team: 'x' });

    writeAtomically(file, yaml(['b:1', 'c:1'], { team: 'x' }));
    await until(() => urls().includes('http://c:1/metrics'), 'the edit');
    expect(urls()).toEqual(['http://b:1/metrics', 'http://c:1/metrics']);
    expect(lines()).toContainEqual(
      expect.objectContaining({ msg: 'file_sd targets changed', file, added: 1, removed: 1, scraped: 2 }),
    );

    writeAtomically(file, '- targets: [d:1\n');
    await until(() => fileSd.readErrors > 0, 'the invalid file to be read');
    expect(urls()).toEqual(['http://b:1/metrics', 'http://c:1/metrics']);
    const invalid = lines().filter((l) => l.msg === 'file_sd: invalid file; keeping its last good targets');
    expect(invalid).toEqual([
      expect.objectContaining({ level: 'error', file, problems: [expect.stringMatching(/^not valid YAML/)] }),
    ]);
    expect(fileSd.families().flatMap((f) => f.samples.map((s) => [f.name, s.labels, s.value]))).toEqual([
      ['hostscope_sink_file_sd_read_errors_total', {}, fileSd.readErrors],
      ['hostscope_sink_file_sd_file_valid', { file }, 0],
    ]);

    unlinkSync(file);
    await until(
      () => lines().some((l) => l.msg === 'file_sd: cannot read the file; keeping its last good targets'),
      'the missing file to be reported',
    );
    expect(urls()).toEqual(['http://b:1/metrics', 'http://c:1/metrics']);

    writeAtomically(file, yaml(['e:1']));
    await until(() => urls().includes('http://e:1/metrics'), 'the file to come back');
    expect(urls()).toEqual(['http://e:1/metrics']);
    expect(lines()).toContainEqual(expect.objectContaining({ msg: 'file_sd: the file is good again', file }));
    expect(fileSd.families()[1]?.samples[0]?.value).toBe(1);
  });

  it('reads every file a glob matches; a file removed from the directory takes its targets along', async () => {
    writeFileSync(path.join(dir, 'web.json'), JSON.stringify([{ targets: ['w:1'] }]));
    writeFileSync(path.join(dir, 'ignored.yml'), yaml(['nope:1']));
    const { lines, urls } = start([path.join(dir, '*.json')]);
    expect(urls()).toEqual(['http://w:1/metrics']);

    writeAtomically(path.join(dir, 'db.json'), JSON.stringify([{ targets: ['d:1'] }]));
    await until(() => urls().length === 2, 'the new file');
    expect(urls()).toEqual(['http://d:1/metrics', 'http://w:1/metrics']);

    unlinkSync(path.join(dir, 'web.json'));
    await until(() => urls().length === 1, 'the removed file');
    expect(urls()).toEqual(['http://d:1/metrics']);
    expect(lines()).toContainEqual(
      expect.objectContaining({ msg: 'file_sd file gone; its targets removed', removed: 1 }),
    );
  });

  it('sees a file change made by swapping a symlinked directory (a Kubernetes ConfigMap volume)', async () => {
    // The volume's layout: targets.yml -> ..data/targets.yml, ..data -> ..<version>; an update writes a
    // new version directory and renames a new ..data link over the old one. No event names targets.yml.
    const version = (n: number, addresses: string[]): void => {
      mkdirSync(path.join(dir, `..v${n}`));
      writeFileSync(path.join(dir, `..v${n}`, 'targets.yml'), yaml(addresses));
      symlinkSync(`..v${n}`, path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    };
    version(1, ['a:1']);
    symlinkSync('..data/targets.yml', path.join(dir, 'targets.yml'));
    const { urls } = start([path.join(dir, 'targets.yml')]);
    expect(urls()).toEqual(['http://a:1/metrics']);
    version(2, ['b:1']);
    await until(() => urls().includes('http://b:1/metrics'), 'the swapped version');
    expect(urls()).toEqual(['http://b:1/metrics']);
  });

  it('without change events, re-reads every refresh interval', async () => {
    const file = path.join(dir, 'targets.yaml');
    writeFileSync(file, yaml(['a:1']));
    const { urls } = start([file], { watch: false, refreshIntervalMs: 200 });
    writeFileSync(file, yaml(['z:1']));
    await until(() => urls().includes('http://z:1/metrics'), 'the periodic re-read');
    expect(urls()).toEqual(['http://z:1/metrics']);
  });

  it('reports every problem of the files at the start, and keeps the good ones', () => {
    const good = path.join(dir, 'good.yml');
    const bad = path.join(dir, 'bad.yml');
    writeFileSync(good, yaml(['a:1']));
    writeFileSync(bad, '- targets: ["x/y"]\n  labels: {"a-b": c}\n');
    const { logger } = capturingLogger();
    const set = new TargetSet([], undefined, logger);
    const fileSd = new FileSd(
      [good, bad, path.join(dir, 'none.json')],
      { job: 'j', refreshIntervalMs: 1000 },
      set,
      logger,
    );
    expect(fileSd.loadInitial()).toEqual([
      `${bad}: group 0: labels: "a-b" is not a valid label name`,
      expect.stringMatching(/none\.json: cannot read it: .*ENOENT/),
    ]);
    expect(set.targets.map((t) => t.url)).toEqual(['http://a:1/metrics']);
  });
});
