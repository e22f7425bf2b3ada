import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FlagValues, parseFlags } from '../../../src/config/flags';
import { silentLogger } from '../../../src/log/logger';
import { decodeRecord, encodeRecord } from '../../../src/sink/buffer/record';
import { buildSinkConfig, sinkFlagSpecs, validateSinkFlags } from '../../../src/sink/config';
import { storedLabels, targetPrefix } from '../../../src/sink/series-key';
import { groupTargets, parseFileSd, parseTargetGroups } from '../../../src/sink/targets/file-sd.parse';
import { hashmod, parseShard } from '../../../src/sink/targets/hashmod';
import { flagTarget, TargetSet, type DiscoveredTarget } from '../../../src/sink/targets/target-set';
import { targetKey, type Target } from '../../../src/sink/types';
import { capturingLogger } from './buffer/helpers';

describe('hashmod (Prometheus relabel action)', () => {
  it("matches the vectors of Prometheus' own relabel tests", () => {
    // model/relabel/relabel_test.go: hashmod of "baz" and of "foo\nbar", modulus 1000.
    expect(hashmod('baz', 1000)).toBe(976);
    expect(hashmod('foo\nbar', 1000)).toBe(734);
  });

  it('matches what Prometheus 2.42 computed for these addresses (modulus 7)', () => {
    // `{source_labels: [__address__], modulus: 7, target_label: shard, action: hashmod}` in a real
    // Prometheus 2.42, read back from /api/v1/targets (test/integration/sink/file-sd-prometheus.test.ts
    // compares live). The address is hashed as written: "b.example", not "b.example:80".
    const vectors: Record<string, number> = {
      'a.example:9100': 4,
      'b.example': 1,
      '10.0.0.1:9100': 2,
      '[::1]:9100': 2,
      'c.example:80': 6,
      'd.example:9100': 6,
      'e.example:9100': 3,
    };
    for (const [address, shard] of Object.entries(vectors))
      expect([address, hashmod(address, 7)]).toEqual([address, shard]);
  });

  it('uses the last 64 bits of the MD5, unsigned, for any modulus', () => {
    // Go: binary.BigEndian.Uint64(md5.Sum(v)[8:]) % m, derived here from the hex digest.
    for (const value of ['', 'x', '127.0.0.1:9100', 'unicode ☃', 'host-42.example.org:9100']) {
      const low = BigInt(`0x${createHash('md5').update(value).digest('hex').slice(16)}`);
      for (const m of [1, 2, 3, 10, 1000, 2 ** 31 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER])
        expect(hashmod(value, m)).toBe(Number(low % BigInt(m)));
    }
    expect(() => hashmod('x', 0)).toThrow(RangeError);
  });

  it('parses I/N and refuses shards out of range', () => {
    expect(parseShard('0/2')).toEqual({ shard: { index: 0, count: 2 } });
    expect(parseShard('2/3')).toEqual({ shard: { index: 2, count: 3 } });
    expect(parseShard('0/1')).toEqual({ shard: { index: 0, count: 1 } });
    for (const bad of ['2/2', '3/2', '0/0', '-1/2', '1', 'a/b', '1/2/3', ''])
      expect(parseShard(bad)).toHaveProperty('problem');
  });
});

describe('file_sd parsing', () => {
  const opts = { job: 'node', file: '/etc/targets.yml' };

  it('reads YAML groups as Prometheus does: default port, instance, job, labels, __ labels', () => {
    const text = [
      "- targets: ['a.example:9100', 'b.example', '[::1]:9100']",
      '  labels:',
      '    team: a',
      '    port: 9100 # a YAML number keeps its text, as Go fills a string',
      '    __meta_x: dropped',
      '    empty: ""',
      "- targets: ['d.example:9100']",
      '  labels:',
      '    job: custom',
      '    instance: dee',
      '    __scheme__: https',
      '    __metrics_path__: /probe',
      '    __param_target: x y',
      '    __param_module: http_2xx',
      '- targets: []',
    ].join('\n');
    const r = parseFileSd(text, opts);
    expect(r).toEqual({
      ok: true,
      value: [
        {
          target: {
            url: 'http://a.example:9100/metrics',
            instance: 'a.example:9100',
            job: 'node',
            labels: { port: '9100', team: 'a' },
          },
          address: 'a.example:9100',
          source: 'file_sd',
          file: '/etc/targets.yml',
        },
        {
          target: {
            url: 'http://b.example:80/metrics',
            instance: 'b.example:80',
            job: 'node',
            labels: { port: '9100', team: 'a' },
          },
          address: 'b.example',
          source: 'file_sd',
          file: '/etc/targets.yml',
        },
        {
          target: {
            url: 'http://[::1]:9100/metrics',
            instance: '[::1]:9100',
            job: 'node',
            labels: { port: '9100', team: 'a' },
          },
          address: '[::1]:9100',
          source: 'file_sd',
          file: '/etc/targets.yml',
        },
        {
          target: {
            url: 'https://d.example:9100/probe?module=http_2xx&target=x+y',
            instance: 'dee',
            job: 'custom',
          },
          address: 'd.example:9100',
          source: 'file_sd',
          file: '/etc/targets.yml',
        },
      ],
    });
  });

  it('reads the same groups from JSON, and an empty or null file as no groups', () => {
    const json = JSON.stringify([{ targets: ['h:1'], labels: { env: 'prod' } }, { targets: ['h:2'] }]);
    const r = parseFileSd(json, { job: 'j', file: 'x.JSON' });
    expect(r.ok && r.value.map((d) => [d.target.url, d.target.labels])).toEqual([
      ['http://h:1/metrics', { env: 'prod' }],
      ['http://h:2/metrics', undefined],
    ]);
    expect(parseTargetGroups('', 'x.yml')).toEqual({ ok: true, value: [] });
    expect(parseTargetGroups('null', 'x.json')).toEqual({ ok: true, value: [] });
    expect(parseTargetGroups('[]', 'x.yaml')).toEqual({ ok: true, value: [] });
  });

  it('names every problem of an invalid file', () => {
    const problems = (text: string, file = 'f.yml'): string[] => {
      const r = parseFileSd(text, { job: 'j', file });
      return r.ok ? [] : r.problems;
    };
    expect(problems('{"targets": ["a:1"]}', 'f.json')).toEqual([
      'expected a list of target groups ({targets: [...], labels: {...}}), got {"targets":["a:1"]}',
    ]);
    expect(problems('[{"targets": ["a:1"]', 'f.json')[0]).toMatch(/^not valid JSON: /);
    expect(problems('- targets: [a:1\n')[0]).toMatch(/^not valid YAML: /);
    expect(problems('- targets: [a]\n  labels: {x: 1, x: 2}\n')[0]).toMatch(
      /^not valid YAML: Map keys must be unique/,
    );
    expect(problems('[{"targets": ["a:1", 2]}]', 'f.json')).toEqual([
      'group 0: targets[1]: expected a "host:port" string, got 2',
    ]);
    expect(problems('[{"targets": ["a:1"], "labels": {"n": 1}}]', 'f.json')).toEqual([
      'group 0: labels: n: expected a string, got 1',
    ]);
    expect(
      problems(
        [
          '- targets: [a:1]',
          '  target: [b:1]',
          '  labels: {"bad-name": x, "0x": y}',
          '- targets: ["", "http://c:9100/metrics", "a:b:c", "ok:1"]',
          '- targets: [e:1]',
          '  labels: {__scheme__: ftp}',
          '- just a string',
        ].join('\n'),
      ),
    ).toEqual([
      'group 0: unknown key "target" (a group has only targets and labels)',
      'group 0: labels: "bad-name" is not a valid label name',
      'group 0: labels: "0x" is not a valid label name',
      'group 3: expected {targets: [...], labels: {...}}, got "just a string"',
    ]);
    expect(
      problems(
        [
          '- targets: ["", "http://c:9100/metrics", "a:b:c", "ok:1"]',
          '- targets: [e:1]',
          '  labels: {__scheme__: ftp}',
        ].join('\n'),
      ),
    ).toEqual([
      'group 0: targets[0]: no address',
      'group 0: targets[1]: "http://c:9100/metrics" is not a valid host:port (a target is an address, not a URL: set __scheme__ and __metrics_path__ in labels)',
      'group 0: targets[2]: "a:b:c" is not a valid host:port',
      'group 1: labels: __scheme__: expected http or https, got "ftp"',
    ]);
    expect(problems('[]', 'targets.txt')).toEqual([
      'unsupported file extension ".txt" (file_sd files end in .json, .yml or .yaml)',
    ]);
  });

  it('adds a path without its slash, and drops empty params', () => {
    const r = groupTargets([{ targets: ['h:1'], labels: { __metrics_path__: 'm', __param_x: '' } }], opts);
    expect(r.ok && r.value[0]?.target.url).toBe('http://h:1/m');
  });
});

describe('target labels on stored series', () => {
  const t: Target = {
    url: 'http://h:9100/metrics',
    instance: 'h:9100',
    job: 'node',
    labels: { env: 'prod', team: 'a' },
  };

  it('adds the file labels to every series; an exposed label of the same name becomes exported_', () => {
    expect(storedLabels({ team: 'exposed', cpu: '0', instance: 'x' }, t)).toEqual([
      ['cpu', '0'],
      ['env', 'prod'],
      ['exported_instance', 'x'],
      ['exported_team', 'exposed'],
      ['instance', 'h:9100'],
      ['job', 'node'],
      ['team', 'a'],
    ]);
  });

  it('keeps cache keys of targets without labels as they were, and tells labelled targets apart', () => {
    const plain: Target = { url: t.url, instance: t.instance, job: t.job };
    expect(targetPrefix(plain)).toBe('["h:9100","node"]');
    expect(targetPrefix(t)).not.toBe(targetPrefix(plain));
    expect(targetKey(t)).not.toBe(targetKey(plain));
  });

  it('keeps the labels of a target through the disk buffer', async () => {
    const record = { target: t, timeMs: 1000, durationSeconds: 0.1, sampleCount: 3, containerUsage: [] };
    expect((await decodeRecord((await encodeRecord(record)).payload)).target).toEqual(t);
  });
});

describe('TargetSet: sources, deduplication, shards', () => {
  const fileTargets = (
    file: string,
    addresses: string[],
    labels: Record<string, string> = {},
  ): DiscoveredTarget[] => {
    const r = groupTargets([{ targets: addresses, labels }], { job: 'node', file });
    if (!r.ok) throw new Error(r.problems.join('\n'));
    return r.value;
  };

  it('takes a flag target address as written in its URL', () => {
    expect(flagTarget('http://h:9100/metrics', 'j').address).toBe('h:9100');
    expect(flagTarget('https://user:pw@h/x', 'j').address).toBe('h');
    expect(flagTarget('http://[::1]:80/metrics', 'j')).toEqual({
      target: { url: 'http://[::1]:80/metrics', instance: '[::1]:80', job: 'j' },
      address: '[::1]:80',
      source: 'flag',
    });
  });

  it('merges flag and file targets, scrapes a duplicate once, logs changes and tells listeners', () => {
    const { logger, lines } = capturingLogger();
    const set = new TargetSet([flagTarget('http://a:1/metrics', 'node')], undefined, logger);
    const heard: string[][] = [];
    set.subscribe((list) => heard.push(list.map((x) => x.url)));
    set.setFile('/f.yml', fileTargets('/f.yml', ['a:1', 'b:1']), { quiet: true });
    expect(set.targets.map((x) => x.url)).toEqual(['http://a:1/metrics', 'http://b:1/metrics']);
    expect(set.discovered.map((d) => d.source)).toEqual(['flag', 'file_sd']);
    expect(lines()).toEqual([]);
    expect(set.setFile('/f.yml', fileTargets('/f.yml', ['b:1', 'c:1']))).toEqual({ added: 1, removed: 1 });
    expect(heard).toEqual([
      ['http://a:1/metrics', 'http://b:1/metrics'],
      ['http://a:1/metrics', 'http://b:1/metrics', 'http://c:1/metrics'],
    ]);
    expect(lines()).toEqual([
      expect.objectContaining({
        msg: 'file_sd targets changed',
        file: '/f.yml',
        added: 1,
        removed: 1,
        discovered: 3,
        scraped: 3,
      }),
    ]);
    // The same content again changes nothing and says nothing.
    expect(set.setFile('/f.yml', fileTargets('/f.yml', ['b:1', 'c:1']))).toEqual({ added: 0, removed: 0 });
    expect(heard).toHaveLength(2);
    // A file gone takes its targets along.
    set.setFile('/f.yml', undefined);
    expect(set.targets.map((x) => x.url)).toEqual(['http://a:1/metrics']);
    expect(lines().at(-1)).toEqual(
      expect.objectContaining({ msg: 'file_sd file gone; its targets removed', removed: 2 }),
    );
  });

  it('splits the targets between shards by hashmod of the address, every target in exactly one', () => {
    const addresses = Array.from({ length: 60 }, (_, i) => `host-${i}.example:9100`);
    const shards = [0, 1, 2].map((index) => {
      const set = new TargetSet([], { index, count: 3 }, silentLogger());
      set.setFile('/f.json', fileTargets('/f.json', addresses));
      return set;
    });
    const owned = shards.map((s) => s.targets.map((t) => t.instance));
    expect(owned.flat().sort()).toEqual([...addresses].sort());
    for (const [i, list] of owned.entries()) {
      expect(list.length).toBeGreaterThan(5);
      for (const instance of list) expect(hashmod(instance, 3)).toBe(i);
    }
    const view = shards[0]?.apiView(() => undefined) as {
      activeTargets: { shard: number; health: string; source: string }[];
      droppedTargets: { shard: number }[];
      shard: unknown;
    };
    expect(view.shard).toEqual({ index: 0, count: 3 });
    expect(
      view.activeTargets.every((t) => t.shard === 0 && t.health === 'unknown' && t.source === 'file_sd'),
    ).toBe(true);
    expect(view.droppedTargets.every((t) => t.shard !== 0)).toBe(true);
    expect(view.activeTargets.length + view.droppedTargets.length).toBe(60);
  });

  it('exposes the target counts by source, and the shard', () => {
    const set = new TargetSet(
      [flagTarget('http://a:1/metrics', 'node')],
      { index: 1, count: 2 },
      silentLogger(),
    );
    set.setFile('/f.yml', fileTargets('/f.yml', ['b:1', 'c:1', 'd:1', 'e:1']), { quiet: true });
    const samples = set.families().flatMap((f) => f.samples.map((s) => [f.name, s.labels, s.value]));
    const mine = set.discovered.filter((d) => hashmod(d.address, 2) === 1);
    expect(samples).toEqual([
      ['hostscope_sink_targets', { source: 'flag' }, mine.filter((d) => d.source === 'flag').length],
      ['hostscope_sink_targets', { source: 'file_sd' }, mine.filter((d) => d.source === 'file_sd').length],
      ['hostscope_sink_targets_discovered', { source: 'flag' }, 1],
      ['hostscope_sink_targets_discovered', { source: 'file_sd' }, 4],
      ['hostscope_sink_shard_info', { shard: '1', shards: '2' }, 1],
    ]);
  });
});

describe('sink flags: --scrape.file-sd and --scrape.shard', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostscope-file-sd-'));
    writeFileSync(path.join(dir, 'good.yml'), '- targets: [a:1]\n  labels: {team: x}\n');
    writeFileSync(path.join(dir, 'bad.json'), '[{"targets": "a:1"}]');
    writeFileSync(path.join(dir, 'broken.yaml'), '- targets: [a:1\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function configure(argv: string[], env: NodeJS.ProcessEnv = {}): { problems: string[]; flags: FlagValues } {
    const parsed = parseFlags(sinkFlagSpecs(), argv, env);
    const flags = new FlagValues(parsed.values, parsed.explicit);
    return { problems: [...parsed.problems, ...validateSinkFlags(flags)], flags };
  }

  it('with file_sd alone, the default --scrape.target does not apply; with both, both count', () => {
    const good = path.join(dir, 'good.yml');
    const alone = configure([`--scrape.file-sd=${good}`]);
    expect(alone.problems).toEqual([]);
    const config = buildSinkConfig(alone.flags);
    expect(config.targets).toEqual([]);
    expect(config.fileSd).toEqual([good]);
    expect(config.fileSdRefreshMs).toBe(300_000);
    expect(config.shard).toBeUndefined();
    const both = configure([
      `--scrape.file-sd=${good}`,
      '--scrape.target=http://x:1/metrics',
      '--scrape.shard=1/3',
    ]);
    expect(both.problems).toEqual([]);
    expect(buildSinkConfig(both.flags).targets.map((t) => t.url)).toEqual(['http://x:1/metrics']);
    expect(buildSinkConfig(both.flags).shard).toEqual({ index: 1, count: 3 });
    const env = configure([], { HOSTSCOPE_SCRAPE_FILE_SD: good, HOSTSCOPE_SCRAPE_SHARD: '0/2' });
    expect(env.problems).toEqual([]);
    expect(buildSinkConfig(env.flags).targets).toEqual([]);
  });

  it('names every problem: each bad file with its own, a missing file, a bad name, a bad shard', () => {
    const { problems } = configure([
      `--scrape.file-sd=${path.join(dir, 'bad.json')}`,
      `--scrape.file-sd=${path.join(dir, 'broken.yaml')}`,
      `--scrape.file-sd=${path.join(dir, 'missing.yml')}`,
      `--scrape.file-sd=${path.join(dir, 'targets.txt')}`,
      `--scrape.file-sd=${path.join(dir, 'nodir', '*.yml')}`,
      '--scrape.shard=2/2',
      '--scrape.file-sd.refresh-interval=0s',
    ]);
    const flag = '--scrape.file-sd (env HOSTSCOPE_SCRAPE_FILE_SD): ';
    expect(problems).toEqual([
      `${flag}${path.join(dir, 'bad.json')}: group 0: targets: expected a list of "host:port" strings`,
      expect.stringMatching(new RegExp(`^${escape(flag + path.join(dir, 'broken.yaml'))}: not valid YAML: `)),
      expect.stringMatching(
        new RegExp(`^${escape(flag + path.join(dir, 'missing.yml'))}: cannot read it: .*ENOENT`),
      ),
      `${flag}"${path.join(dir, 'targets.txt')}": a file_sd path ends in .json, .yml or .yaml and may have one * in its file name`,
      expect.stringMatching(
        new RegExp(`^${escape(flag)}"${escape(path.join(dir, 'nodir', '*.yml'))}": cannot list`),
      ),
      '--scrape.file-sd.refresh-interval (env HOSTSCOPE_SCRAPE_FILE_SD_REFRESH_INTERVAL): must be greater than 0',
      '--scrape.shard (env HOSTSCOPE_SCRAPE_SHARD): the shard I must be between 0 and N-1 (1), got "2/2"',
    ]);
  });

  it('accepts a glob matching nothing yet', () => {
    expect(configure([`--scrape.file-sd=${path.join(dir, 'none-*.json')}`]).problems).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
