import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { ParsedSample } from '../../../src/expfmt/types';
import { SampleChecker, type CheckOptions } from '../../../src/import/check';
import { detectFormat, validateFile, type ImportOptions } from '../../../src/import/import-file';
import { openSource } from '../../../src/import/source';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;

const base: CheckOptions = {
  format: 'text',
  oldestMs: NOW - 24 * HOUR,
  newestMs: NOW + 600_000,
  instance: '',
  job: 'import',
};

const sample = (ts: number | undefined, labels: Record<string, string> = { instance: 'h' }): ParsedSample =>
  ts === undefined ? { name: 'm', labels, value: 1 } : { name: 'm', labels, value: 1, timestampMs: ts };

describe('SampleChecker', () => {
  it('requires a timestamp, naming the unit of the format', () => {
    expect(new SampleChecker(base).check(sample(undefined))).toEqual({
      kind: 'error',
      message: expect.stringContaining('has no timestamp') as string,
    });
    const om = new SampleChecker({ ...base, format: 'openmetrics' }).check(sample(undefined));
    expect(om).toMatchObject({ kind: 'error', message: expect.stringContaining('seconds') as string });
  });

  it('tells seconds given to the text format and milliseconds given to OpenMetrics', () => {
    const seconds = Math.floor(NOW / 1000);
    expect(new SampleChecker(base).check(sample(seconds))).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('looks like seconds') as string,
    });
    // OpenMetrics milliseconds read as seconds: the parser multiplied them by 1000.
    const om = new SampleChecker({ ...base, format: 'openmetrics' });
    expect(om.check(sample(NOW * 1000))).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('looks like milliseconds') as string,
    });
    expect(om.check(sample(NOW))).toMatchObject({ kind: 'ok', timeMs: NOW });
  });

  it('requires time order per series; the same timestamp again is a duplicate, the first kept', () => {
    const c = new SampleChecker(base);
    expect(c.check(sample(NOW - 2000))).toMatchObject({ kind: 'ok' });
    expect(c.check(sample(NOW - 1000))).toMatchObject({ kind: 'ok' });
    expect(c.check(sample(NOW - 1000))).toEqual({ kind: 'duplicate', timeMs: NOW - 1000 });
    expect(c.check(sample(NOW - 1500))).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('goes back in time') as string,
    });
    // Another series has its own order; label order and empty labels do not make another series.
    expect(c.check(sample(NOW - 5000, { instance: 'other' }))).toMatchObject({ kind: 'ok' });
    expect(c.check(sample(NOW - 4000, { a: '1', b: '2', instance: 'h' }))).toMatchObject({ kind: 'ok' });
    expect(c.check(sample(NOW - 4500, { b: '2', instance: 'h', a: '1', c: '' }))).toMatchObject({
      kind: 'error',
    });
    expect(c.series).toBe(3);
  });

  it("honours the sample's own instance and job, fills the missing ones from the flags", () => {
    const c = new SampleChecker({ ...base, instance: 'default:9100' });
    expect(c.check(sample(NOW, { instance: 'web:9100', job: 'node', x: '1' }))).toEqual({
      kind: 'ok',
      timeMs: NOW,
      instance: 'web:9100',
      job: 'node',
      labels: { x: '1' },
    });
    expect(c.check(sample(NOW, { instance: '', x: '1' }))).toEqual({
      kind: 'ok',
      timeMs: NOW,
      instance: 'default:9100',
      job: 'import',
      labels: { x: '1' },
    });
    // Filled in or given: the same stored series, so the same order.
    expect(c.check(sample(NOW, { instance: 'default:9100', job: 'import', x: '1' }))).toMatchObject({
      kind: 'duplicate',
    });
    expect(new SampleChecker(base).check(sample(NOW, {}))).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('--label.instance') as string,
    });
  });

  it('puts samples outside retention aside, after checking their order', () => {
    const c = new SampleChecker(base);
    expect(c.check(sample(NOW - 25 * HOUR))).toEqual({ kind: 'old', timeMs: NOW - 25 * HOUR });
    expect(c.check(sample(NOW - 26 * HOUR))).toMatchObject({ kind: 'error' });
    expect(c.check(sample(NOW + 11 * 60_000))).toEqual({ kind: 'future', timeMs: NOW + 11 * 60_000 });
  });
});

describe('validateFile (pass 1)', () => {
  let dir: string;
  const options: ImportOptions = {
    format: 'auto',
    nowMs: NOW,
    retentionRawMs: 24 * HOUR,
    futureMs: 600_000,
    instance: 'h:9100',
    job: 'import',
    batchSamples: 1000,
    maxErrors: 3,
    pieceChars: 64,
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-import-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: string | Buffer): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  async function validate(p: string, o: Partial<ImportOptions> = {}): ReturnType<typeof validateFile> {
    const src = await openSource(p);
    try {
      return await validateFile(src, { ...options, ...o });
    } finally {
      await src.close();
    }
  }

  const t = (h: number): number => NOW - h * HOUR;
  const om = [
    '# HELP c A counter.',
    '# TYPE c counter',
    `c_total{a="1"} 1 ${t(3) / 1000}`,
    `c_total{a="1"} 2 ${t(2) / 1000}`,
    `c_total{a="2"} 5 ${t(3) / 1000}`,
    '# TYPE g gauge',
    `g 1.5 ${t(30) / 1000}`,
    `g 2.5 ${t(1) / 1000}`,
    '# EOF',
    '',
  ].join('\n');

  it('detects OpenMetrics by its # EOF, gzip by its magic bytes, and counts what it would keep', async () => {
    for (const p of [file('a.om', om), file('a.om.gz', gzipSync(om)), file('no-ext', gzipSync(om))]) {
      const src = await openSource(p);
      expect(await detectFormat(src, 'auto')).toBe('openmetrics');
      await src.close();
      const r = await validate(p);
      expect(r).toMatchObject({
        format: 'openmetrics',
        samples: 5,
        series: 3,
        kept: 4,
        outOfRetention: 1,
        outOfRetentionRange: { from: t(30), to: t(30) },
        keptRange: { from: t(3), to: t(1) },
        errorCount: 0,
      });
    }
  });

  it('reads stdin (spooled, gzip too) and removes its spool file', async () => {
    for (const body of [Buffer.from(om), gzipSync(om)]) {
      const src = await openSource('-', Readable.from([body]));
      const r = await validateFile(src, options);
      expect(r).toMatchObject({ file: '-', format: 'openmetrics', kept: 4, errorCount: 0 });
      await src.close();
      await expect(import('node:fs/promises').then((fs) => fs.access(src.path))).rejects.toThrow();
    }
  });

  it('reports errors with their line numbers, the first few listed and all counted', async () => {
    const lines = [
      '# TYPE a gauge',
      `a 1 ${t(5)}`,
      'a 2', // 3: no timestamp
      `a{ 3 ${t(4)}`, // 4: syntax
      `a 4 ${t(6)}`, // 5: back in time
      `b 1 ${Math.floor(t(1) / 1000)}`, // 6: seconds in the text format
      `b 2 ${t(1)}`,
      `b 3`, // 8: no timestamp, not listed
    ];
    const r = await validate(file('bad.prom', lines.join('\n') + '\n'));
    expect(r.format).toBe('text');
    expect(r.errorCount).toBe(5);
    expect(r.errors).toEqual([
      expect.stringMatching(/^line 3: sample a has no timestamp/),
      expect.stringMatching(/^line 4: /),
      expect.stringMatching(/^line 5: sample of a goes back in time/),
    ]);
  });

  it('checks the whole file when pieces are large too, with the same line numbers', async () => {
    const lines = ['# TYPE a gauge', ...Array.from({ length: 500 }, (_, i) => `a ${i} ${t(5) + i * 1000}`)];
    lines[321] = 'a 1';
    const p = file('big.prom', lines.join('\n'));
    for (const pieceChars of [64, 1e9]) {
      const r = await validate(p, { pieceChars });
      expect(r.errors).toEqual([expect.stringMatching(/^line 322: sample a has no timestamp/)]);
      expect(r.samples).toBe(500);
    }
  });

  it('fails OpenMetrics that does not end with # EOF, and tells the last line', async () => {
    const r = await validate(file('cut.om', om.replace('# EOF\n', '')), { format: 'openmetrics' });
    expect(r.errors).toEqual(['line 8: the input does not end with "# EOF" (OpenMetrics requires it)']);
  });

  it('fails a corrupt gzip file instead of importing what came before the damage', async () => {
    const gz = gzipSync(om);
    const r = await validate(file('cut.gz', gz.subarray(0, gz.length - 12)));
    expect(r.errorCount).toBeGreaterThan(0);
    expect(r.errors.join('\n')).toMatch(/gzip|EOF/);
  });
});
