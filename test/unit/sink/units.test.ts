import { FlagValues, parseFlags } from '../../../src/config/flags';
import { BinaryCopyWriter, encodeBinaryCopy, splitTimestamp } from '../../../src/db/binary-copy';
import { daySuffix, monthSuffix, suffixRange } from '../../../src/db/partitions';
import type { ParsedFamily } from '../../../src/expfmt/types';
import * as path from 'node:path';
import {
  buildSinkConfig,
  DEFAULT_BUFFER_MAX_BYTES,
  sinkFlagSpecs,
  validateSinkFlags,
} from '../../../src/sink/config';
import { intervalToCron, segmentBytesFor } from '../../../src/sink/sink';
import { canonicalKey, fastKey, pgSafe, storedLabels, targetPrefix } from '../../../src/sink/series-key';
import { instanceOf, type Target } from '../../../src/sink/types';
import { isCounterSample } from '../../../src/sink/writer';

const target: Target = { url: 'http://h:9100/metrics', instance: 'h:9100', job: 'node' };

describe('binary COPY encoding', () => {
  it('writes the signature, header, rows and trailer byte for byte', () => {
    const buf = encodeBinaryCopy(
      ['int8', 'float8', 'text', 'bool'],
      [
        [1, 2.5, 'é', true],
        [null, null, null, null],
      ],
    );
    expect(buf.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expect(buf.readInt32BE(11)).toBe(0);
    expect(buf.readInt32BE(15)).toBe(0);
    let p = 19;
    expect(buf.readInt16BE(p)).toBe(4);
    expect(buf.readInt32BE(p + 2)).toBe(8);
    expect(buf.readBigInt64BE(p + 6)).toBe(1n);
    expect(buf.readInt32BE(p + 14)).toBe(8);
    expect(buf.readDoubleBE(p + 18)).toBe(2.5);
    expect(buf.readInt32BE(p + 26)).toBe(2); // 'é' is two UTF-8 bytes
    expect(buf.subarray(p + 30, p + 32).toString('utf8')).toBe('é');
    expect(buf.readInt32BE(p + 32)).toBe(1);
    expect(buf.readUInt8(p + 36)).toBe(1);
    p += 37;
    expect(buf.readInt16BE(p)).toBe(4);
    for (let i = 0; i < 4; i++) expect(buf.readInt32BE(p + 2 + 4 * i)).toBe(-1);
    expect(buf.readInt16BE(buf.length - 2)).toBe(-1);
    expect(buf.length).toBe(p + 18 + 2);
  });

  it('encodes timestamps as microseconds since 2000-01-01 and large ids exactly', () => {
    const w = new BinaryCopyWriter(8);
    const [hi, lo] = splitTimestamp(Date.UTC(2000, 0, 1, 0, 0, 1, 500));
    w.sampleRow(2 ** 40 + 3, hi, lo, -0.25);
    const [hi2, lo2] = splitTimestamp(Date.UTC(1999, 11, 31, 23, 59, 59));
    w.sampleRow(7, hi2, lo2, NaN);
    const buf = w.finish();
    expect(buf.readBigInt64BE(19 + 6)).toBe(2n ** 40n + 3n);
    expect(buf.readBigInt64BE(19 + 18)).toBe(1_500_000n);
    expect(buf.readDoubleBE(19 + 30)).toBe(-0.25);
    expect(buf.readBigInt64BE(19 + 38 + 18)).toBe(-1_000_000n);
    expect(Number.isNaN(buf.readDoubleBE(19 + 38 + 30))).toBe(true);
  });

  it('grows its buffer past the initial size', () => {
    const w = new BinaryCopyWriter(64);
    for (let i = 0; i < 1000; i++) w.row(1).text('x'.repeat(100));
    expect(w.finish().length).toBe(19 + 1000 * (2 + 4 + 100) + 2);
  });
});

describe('series identity', () => {
  it('keeps hostile values verbatim except NUL', () => {
    expect(pgSafe(`'); drop table x; --"\\`)).toBe(`'); drop table x; --"\\`);
    expect(pgSafe('a\u0000b')).toBe('a\uFFFDb');
  });

  it('target labels win; clashing exposed ones become exported_*', () => {
    expect(storedLabels({ job: 'x', instance: 'y', a: '1' }, target)).toEqual([
      ['a', '1'],
      ['exported_instance', 'y'],
      ['exported_job', 'x'],
      ['instance', 'h:9100'],
      ['job', 'node'],
    ]);
  });

  it('canonical key ignores label order; fast key is unambiguous', () => {
    const a = canonicalKey('m', storedLabels({ a: '1', b: '2' }, target));
    const b = canonicalKey('m', storedLabels({ b: '2', a: '1' }, target));
    expect(a).toBe(b);
    const p = targetPrefix(target);
    expect(fastKey(p, 'm', { a: 'x","b":"y' })).not.toBe(fastKey(p, 'm', { a: 'x', b: 'y' }));
    expect(fastKey(p, 'm{', {})).not.toBe(fastKey(p, 'm', { '': '' }));
  });

  it('derives instance from the URL as Prometheus does', () => {
    expect(instanceOf('http://127.0.0.1:9100/metrics')).toBe('127.0.0.1:9100');
    expect(instanceOf('https://example.org/metrics')).toBe('example.org:443');
    expect(instanceOf('http://[::1]:9100/metrics')).toBe('[::1]:9100');
  });
});

describe('schedules and partitions', () => {
  it('maps intervals to aligned node-cron expressions', () => {
    expect(intervalToCron(15_000)).toBe('*/15 * * * * *');
    expect(intervalToCron(1000)).toBe('*/1 * * * * *');
    expect(intervalToCron(300_000)).toBe('0 */5 * * * *');
    expect(intervalToCron(7_200_000)).toBe('0 0 */2 * * *');
    expect(intervalToCron(7000)).toBeUndefined();
    expect(intervalToCron(1500)).toBeUndefined();
  });

  it('names partitions by UTC day and month and reads ranges back', () => {
    const day = Date.UTC(2024, 1, 29);
    expect(daySuffix(day)).toBe('p20240229');
    expect(suffixRange('p20240229')).toEqual({ lower: day, upper: Date.UTC(2024, 2, 1) });
    expect(monthSuffix(Date.UTC(2024, 11, 1))).toBe('p202412');
    expect(suffixRange('p202412')).toEqual({ lower: Date.UTC(2024, 11, 1), upper: Date.UTC(2025, 0, 1) });
    expect(suffixRange('default')).toBeUndefined();
  });
});

describe('counter detection', () => {
  const fam = (type: ParsedFamily['type']): ParsedFamily => ({ name: 'x', type, help: '', samples: [] });
  it('treats counters and histogram/summary parts as cumulative, _created never', () => {
    expect(isCounterSample(fam('counter'), 'x_total')).toBe(true);
    expect(isCounterSample(fam('counter'), 'x_created')).toBe(false);
    expect(isCounterSample(fam('histogram'), 'x_bucket')).toBe(true);
    expect(isCounterSample(fam('summary'), 'x')).toBe(false);
    expect(isCounterSample(fam('summary'), 'x_count')).toBe(true);
    expect(isCounterSample(fam('gauge'), 'x')).toBe(false);
  });
});

describe('sink flags', () => {
  function configure(argv: string[], env: NodeJS.ProcessEnv = {}): { problems: string[]; flags: FlagValues } {
    const parsed = parseFlags(sinkFlagSpecs(), argv, env);
    const flags = new FlagValues(parsed.values);
    return { problems: [...parsed.problems, ...validateSinkFlags(flags)], flags };
  }

  it('has working defaults: local exporter, 15 s, embedded database in ./data', () => {
    const { problems, flags } = configure([]);
    expect(problems).toEqual([]);
    const config = buildSinkConfig(flags);
    expect(config.targets).toEqual([
      { url: 'http://127.0.0.1:9100/metrics', instance: '127.0.0.1:9100', job: 'hostscope' },
    ]);
    expect(config.intervalMs).toBe(15_000);
    expect(config.database.url).toBeUndefined();
    expect(config.database.dataDir).toMatch(/\/data$/);
    expect(config.retentionRawMs).toBe(90 * 86_400_000);
    expect(config.retentionUsageMs).toBe(14 * 86_400_000);
    expect(config.retentionHourlyMs).toBe(400 * 86_400_000);
    expect(config.bufferDir).toBe(path.join(config.database.dataDir, 'buffer'));
    expect(config.bufferMaxBytes).toBe(DEFAULT_BUFFER_MAX_BYTES);
  });

  it('puts the buffer where --buffer.dir says, resolved', () => {
    const { problems, flags } = configure(['--buffer.dir=spool', '--data.dir=/var/lib/x']);
    expect(problems).toEqual([]);
    expect(buildSinkConfig(flags).bufferDir).toBe(path.resolve('spool'));
  });

  it('segments a small buffer finely, a large one at 64 MiB', () => {
    expect(segmentBytesFor(16_384)).toBe(1024);
    expect(segmentBytesFor(16 * 1024 ** 2)).toBe(1024 ** 2);
    expect(segmentBytesFor(DEFAULT_BUFFER_MAX_BYTES)).toBe(64 * 1024 ** 2);
  });

  it('reads DATABASE_URL and comma-separated targets from the environment', () => {
    const { problems, flags } = configure([], {
      DATABASE_URL: 'postgres://u:p@db/x',
      HOSTSCOPE_SCRAPE_TARGET: 'http://a:9100/metrics, http://b:9100/metrics',
    });
    expect(problems).toEqual([]);
    const config = buildSinkConfig(flags);
    expect(config.database.url).toBe('postgres://u:p@db/x');
    expect(config.targets.map((t) => t.instance)).toEqual(['a:9100', 'b:9100']);
  });

  it('reports every problem at once', () => {
    const { problems } = configure([
      '--scrape.target=ftp://x',
      '--scrape.interval=7s',
      '--retention.raw=30m',
      '--maintain.schedule=not cron',
      '--buffer.max-bytes=5',
    ]);
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toContain('HOSTSCOPE_SCRAPE_INTERVAL');
  });
});
