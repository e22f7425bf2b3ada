import { execFileSync } from 'node:child_process';
import { promises as fsp, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildOptions } from '../../../src/collectors/options';
import { MAX_TEXTFILE_BYTES, textfileCollector } from '../../../src/collectors/textfile';
import { parseExposition } from '../../../src/expfmt/parse';
import { encode } from '../../../src/exposition/encode';
import { HostFs } from '../../../src/host/host-fs';
import type { MetricFamily } from '../../../src/metrics/types';
import { collectOnce, FIXTURE_PATHS, family, valueOf } from '../../helpers/collect';
import { hasNodeExporter, startNodeExporter } from '../../helpers/node-exporter';
import { describeWithService } from '../../helpers/services';

const DIR = path.join(__dirname, '../../fixtures/textfile');
const file = (name: string): string => path.join(DIR, name);
const mtime = (p: string): number => Number(statSync(p, { bigint: true }).mtimeNs / 1_000_000_000n);

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  path?: string;
  err?: string;
}

/** Runs the collector once with a logger that records what it logs. */
async function collectWithLogs(directory: string): Promise<{ families: MetricFamily[]; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const collector = textfileCollector.create({
    fs: new HostFs(FIXTURE_PATHS),
    logger: pino({ level: 'debug' }, stream),
    options: buildOptions(textfileCollector.options ?? [], { directory }),
  });
  const families = await collector.update({
    signal: new AbortController().signal,
    deadlineMs: Date.now() + 5000,
  });
  await new Promise((r) => setImmediate(r));
  return { families, logs };
}

const errors = (logs: readonly LogLine[]): string[] =>
  logs.filter((l) => l.level >= 50).map((l) => `${l.msg}: ${l.err ?? ''}`);

describe('textfile collector on test/fixtures/textfile', () => {
  it('exports exactly what node_exporter 1.5 exports for the fixture directory', async () => {
    const families = await collectOnce(textfileCollector, { directory: DIR });
    const help = (...files: string[]): string => `Metric read from ${files.map(file).join(', ')}`;
    expect(families).toEqual([
      {
        name: 'cron_last_success_timestamp_seconds',
        help: 'Unix time of the last successful run.',
        type: 'gauge',
        samples: [
          { labels: { job: 'backup', host: '' }, value: 1.7e9 },
          { labels: { job: 'rotate', host: 'db-1' }, value: 1700000123 },
          { labels: { job: 'vacuum', host: '' }, value: 1700000456 },
        ],
      },
      {
        name: 'cron_job_info',
        help: 'Job metadata. Path: C:\\jobs\nSecond line.',
        type: 'gauge',
        samples: [{ labels: { path: 'C:\\jobs\\nightly', note: 'say "hi"\nbye', owner: 'zoë ☃' }, value: 1 }],
      },
      {
        name: 'cron_runs_total',
        help: help('a_cron.prom'),
        type: 'counter',
        samples: [
          { labels: { job: '' }, value: 42 },
          { labels: { job: 'backup' }, value: 7 },
        ],
      },
      {
        name: 'plain_metric',
        help: help('a_cron.prom', 'c_merge.prom'),
        type: 'untyped',
        samples: [
          { labels: {}, value: 3 },
          { labels: { source: 'c' }, value: 4 },
        ],
      },
      {
        name: 'spaced_metric',
        help: help('a_cron.prom'),
        type: 'untyped',
        samples: [{ labels: { a: 'b' }, value: -Infinity }],
      },
      {
        name: 'special_values',
        help: help('a_cron.prom'),
        type: 'untyped',
        samples: [
          { labels: { v: 'nan' }, value: NaN },
          { labels: { v: 'inf' }, value: Infinity },
        ],
      },
      {
        name: 'job_duration_seconds',
        help: 'How long jobs took.',
        type: 'histogram',
        samples: [
          { suffix: '_bucket', labels: { job: 'backup', le: '2.5e-05' }, value: 0 },
          { suffix: '_bucket', labels: { job: 'backup', le: '0.5' }, value: 0 },
          { suffix: '_bucket', labels: { job: 'backup', le: '10' }, value: 1 },
          { suffix: '_bucket', labels: { job: 'backup', le: '1e+06' }, value: 3 },
          { suffix: '_bucket', labels: { job: 'backup', le: '+Inf' }, value: 3 },
          { suffix: '_sum', labels: { job: 'backup' }, value: 1234.5 },
          { suffix: '_count', labels: { job: 'backup' }, value: 3 },
          { suffix: '_bucket', labels: { job: 'rotate', le: '1' }, value: 2 },
          { suffix: '_bucket', labels: { job: 'rotate', le: '+Inf' }, value: 5 },
          { suffix: '_sum', labels: { job: 'rotate' }, value: 0 },
          { suffix: '_count', labels: { job: 'rotate' }, value: 4 },
        ],
      },
      {
        name: 'job_size_bytes',
        help: help('b_histogram.prom'),
        type: 'summary',
        samples: [
          { labels: { quantile: '0.5' }, value: 1024 },
          { labels: { quantile: '0.99' }, value: 2048 },
          { labels: { quantile: '1' }, value: 4096 },
          { suffix: '_sum', labels: {}, value: 0 },
          { suffix: '_count', labels: {}, value: 9 },
        ],
      },
      {
        name: 'conflicting_help',
        help: 'First help wins.',
        type: 'untyped',
        samples: [{ labels: {}, value: 1 }],
      },
      {
        name: 'conflicting_type',
        help: help('c_merge.prom', 'd_conflict.prom'),
        type: 'gauge',
        samples: [{ labels: {}, value: 1 }],
      },
      {
        name: 'node_textfile_mtime_seconds',
        help: 'Unixtime mtime of textfiles successfully read.',
        type: 'gauge',
        // dir.prom is a directory: node_exporter 1.5 reads it as an empty file and reports it.
        samples: [
          'a_cron.prom',
          'b_histogram.prom',
          'c_merge.prom',
          'd_conflict.prom',
          'dir.prom',
          'g_empty.prom',
        ].map((name) => ({ labels: { file: file(name) }, value: mtime(file(name)) })),
      },
      {
        name: 'node_textfile_scrape_error',
        help: '1 if there was an error opening or reading a file, 0 otherwise',
        type: 'gauge',
        samples: [{ labels: {}, value: 1 }],
      },
    ]);
  });

  it('logs the broken file, the file with timestamps and the dropped conflicting metrics', async () => {
    const { logs } = await collectWithLogs(DIR);
    expect(errors(logs)).toEqual([
      `failed to collect textfile data: failed to parse textfile data from "${file('e_broken.prom')}": text format parsing error in line 2: label value "b} 1" contains unescaped new-line`,
      `failed to collect textfile data: textfile "${file('f_timestamps.prom')}" contains unsupported client-side timestamps, skipping entire file`,
      'error gathering textfile metrics: collected metric cron_last_success_timestamp_seconds{host="",job="backup"} was collected before with the same name and label values',
      'error gathering textfile metrics: collected metric conflicting_help{file="d"} has help "Second help loses." but should have "First help wins."',
      'error gathering textfile metrics: collected metric conflicting_type{file="d"} should be of type gauge, not counter',
    ]);
  });

  it('is disabled without a directory: only node_textfile_scrape_error 0', async () => {
    const { families, logs } = await collectWithLogs('');
    expect(families.map((f) => f.name)).toEqual(['node_textfile_scrape_error']);
    expect(valueOf(families, 'node_textfile_scrape_error')).toBe(0);
    expect(errors(logs)).toEqual([]);
  });

  it('reports an unreadable directory as an error', async () => {
    const missing = path.join(DIR, 'no-such-dir');
    const { families, logs } = await collectWithLogs(missing);
    expect(families.map((f) => f.name)).toEqual(['node_textfile_scrape_error']);
    expect(valueOf(families, 'node_textfile_scrape_error')).toBe(1);
    expect(logs.find((l) => l.level >= 50)).toMatchObject({
      msg: 'failed to read textfile collector directory',
      path: missing,
    });
  });

  it('accepts a Go glob for the directory, as node_exporter 1.5 does', async () => {
    const viaGlob = await collectOnce(textfileCollector, {
      directory: path.join(path.dirname(DIR), 'textfil[e]'),
    });
    const direct = await collectOnce(textfileCollector, { directory: DIR });
    expect(encode(viaGlob)).toBe(encode(direct));
    // Several directories: the `sub` and `dir.prom` subdirectories, which are not read otherwise.
    const nested = await collectOnce(textfileCollector, { directory: path.join(DIR, '[sd][ui][br]*') });
    expect(nested.map((f) => f.name)).toEqual([
      'not_read_inside_dir_prom',
      'not_read_subdirectory',
      'node_textfile_mtime_seconds',
      'node_textfile_scrape_error',
    ]);
  });
});

describe('textfile collector edge cases', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'hostscope-textfile-'));
  });
  afterEach(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  const write = (name: string, content: string | Buffer): Promise<void> =>
    fsp.writeFile(path.join(tmp, name), content);

  it('refuses files node_exporter 1.5 would crash on (reserved label names, gauge_histogram samples)', async () => {
    await write('a.prom', 'ok 1\n');
    await write('b.prom', 'bad{__meta="x"} 1\n');
    await write('c.prom', '# TYPE gh gauge_histogram\ngh 1\n');
    const { families, logs } = await collectWithLogs(tmp);
    expect(families.map((f) => f.name)).toEqual([
      'ok',
      'node_textfile_mtime_seconds',
      'node_textfile_scrape_error',
    ]);
    expect(valueOf(families, 'node_textfile_scrape_error')).toBe(1);
    expect(errors(logs)).toEqual([
      expect.stringContaining('has a reserved label name "__meta"'),
      expect.stringContaining('gauge_histogram samples are not supported'),
    ]);
  });

  it('refuses files larger than 16 MiB without reading them whole', async () => {
    await write('ok.prom', 'ok 1\n');
    await fsp.truncate(path.join(tmp, 'ok.prom'), MAX_TEXTFILE_BYTES); // exactly the limit: fine (NUL padding aside)
    await write('big.prom', '');
    await fsp.truncate(path.join(tmp, 'big.prom'), MAX_TEXTFILE_BYTES + 1);
    const { families, logs } = await collectWithLogs(tmp);
    expect(valueOf(families, 'node_textfile_scrape_error')).toBe(1);
    expect(errors(logs)).toEqual([
      expect.stringContaining(`textfile "${path.join(tmp, 'big.prom')}" is larger than 16777216 bytes`),
      expect.stringContaining(`"${path.join(tmp, 'ok.prom')}": text format parsing error in line 2`),
    ]);
  });

  it('does not hang on a FIFO named *.prom', async () => {
    execFileSync('mkfifo', [path.join(tmp, 'pipe.prom')]);
    await write('ok.prom', 'ok 1\n');
    const { families } = await collectWithLogs(tmp);
    expect(valueOf(families, 'ok')).toBe(1);
  });

  it('reports a dangling symlink but skips a file that vanished after the directory was listed', async () => {
    await write('ok.prom', 'ok 1\n');
    await write('vanishing.prom', 'vanishing 1\n');
    await fsp.symlink(path.join(tmp, 'nowhere'), path.join(tmp, 'dangling.prom'));
    const realOpen = fsp.open;
    const spy = jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      if (String(args[0]).endsWith('vanishing.prom')) await fsp.unlink(String(args[0]));
      return realOpen(...args);
    });
    try {
      const { families, logs } = await collectWithLogs(tmp);
      expect(valueOf(families, 'ok')).toBe(1);
      expect(families.map((f) => f.name)).not.toContain('vanishing');
      expect(family(families, 'node_textfile_mtime_seconds').samples.map((s) => s.labels.file)).toEqual([
        path.join(tmp, 'ok.prom'),
      ]);
      expect(valueOf(families, 'node_textfile_scrape_error')).toBe(1);
      expect(errors(logs)).toEqual([
        expect.stringContaining(`failed to open textfile data file "${path.join(tmp, 'dangling.prom')}"`),
      ]);
      expect(logs.some((l) => l.msg === 'textfile disappeared before it could be read')).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects invalid UTF-8 in a label value like Go, but not in a comment', async () => {
    await write('a.prom', Buffer.concat([Buffer.from('# comment \xff\n', 'latin1'), Buffer.from('ok 1\n')]));
    await write(
      'b.prom',
      Buffer.concat([Buffer.from('bad{x="'), Buffer.from([0xff]), Buffer.from('"} 1\n')]),
    );
    const { families, logs } = await collectWithLogs(tmp);
    expect(valueOf(families, 'ok')).toBe(1);
    expect(families.map((f) => f.name)).not.toContain('bad');
    expect(errors(logs)).toEqual([expect.stringContaining('not valid UTF-8')]);
  });

  it('treats a byte order mark as the invalid metric name Go sees', async () => {
    await write('bom.prom', '\ufeffm 1\n');
    const { logs } = await collectWithLogs(tmp);
    expect(errors(logs)).toEqual([expect.stringContaining('line 1: invalid metric name')]);
  });
});

/** Families as comparable text lines: HELP/TYPE, and samples with sorted labels and parsed values. */
function comparable(exposition: string): Map<string, { type: string; help: string; samples: string[] }> {
  const out = new Map<string, { type: string; help: string; samples: string[] }>();
  for (const f of parseExposition(exposition, 'text')) {
    // Only the textfile collector's output: not node_scrape_*, not the promhttp handler's own counters.
    if (
      (!f.name.startsWith('node_textfile_') && f.name.startsWith('node_')) ||
      f.name.startsWith('promhttp_')
    )
      continue;
    const samples = f.samples
      .map((s) => {
        const labels = Object.keys(s.labels)
          .sort()
          .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
          .join(',');
        return `${s.name}{${labels}} ${String(s.value)}`;
      })
      .sort();
    out.set(f.name, { type: f.type, help: f.help, samples });
  }
  return out;
}

describeWithService(
  'node_exporter',
  hasNodeExporter,
  'textfile collector against the real node_exporter 1.5',
  () => {
    it('exports the same families, help, types, labels and values for the fixture directory', async () => {
      const ne = await startNodeExporter([
        '--collector.disable-defaults',
        '--collector.textfile',
        '--web.disable-exporter-metrics',
        `--collector.textfile.directory=${DIR}`,
      ]);
      let theirs: string;
      try {
        theirs = await (await fetch(`${ne.url}/metrics`)).text();
      } finally {
        await ne.stop();
      }
      const ours = encode(await collectOnce(textfileCollector, { directory: DIR }));
      expect(comparable(ours)).toEqual(comparable(theirs));
    });
  },
);
