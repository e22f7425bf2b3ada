import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { encode } from '../../src/exposition/encode';
import { validateFile, type ImportOptions } from '../../src/import/import-file';
import { openSource } from '../../src/import/source';
import type { MetricFamily } from '../../src/metrics/types';
import { corpus, fuzzParams, fuzzTimeout, mutatedBytes, mutatedText, nastyString } from '../helpers/fuzz';

/**
 * Property-based fuzzing of `hostscope import`'s first pass (src/import/: reading plain or gzip input,
 * splitting it into pieces, parsing, checking every sample), which decides whether a file is written:
 * for any bytes, plain or gzip (corrupt gzip included), in either format or auto-detected, the pass ends
 * with a report (never an exception), its errors name lines of the file, and at most `maxErrors` are
 * listed. Small pieces make the splitter cut often. Corpus: test/fixtures/fuzz/import/ and expfmt/.
 */

const NOW = Date.UTC(2024, 4, 1);

const options = (format: ImportOptions['format'], pieceChars: number): ImportOptions => ({
  format,
  nowMs: NOW,
  retentionRawMs: 90 * 86_400_000,
  futureMs: 600_000,
  instance: 'import',
  job: 'import',
  batchSamples: 1000,
  maxErrors: 5,
  pieceChars,
});

const family: fc.Arbitrary<MetricFamily> = fc
  .record({
    name: fc.stringMatching(/^[a-z_][a-z0-9_]{0,12}$/),
    type: fc.constantFrom('gauge' as const, 'counter' as const, 'untyped' as const),
    help: nastyString(2),
    samples: fc.array(
      fc.record({
        labels: fc.dictionary(fc.constantFrom('instance', 'job', 'a', 'b'), nastyString(3), { maxKeys: 3 }),
        value: fc.double(),
        timestampMs: fc.integer({ min: NOW - 100 * 86_400_000, max: NOW + 86_400_000 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  })
  .map((f) => ({ ...f, name: f.type === 'counter' ? `${f.name}_total` : f.name }));

const exposition = fc
  .tuple(
    fc.uniqueArray(family, { maxLength: 4, selector: (f) => f.name.replace(/_total$/, '') }),
    fc.boolean(),
  )
  .map(([fs, om]) => encode(fs, om ? 'openmetrics' : 'text'));

const input = fc.oneof(
  exposition.map((t) => Buffer.from(t)),
  mutatedText(exposition).map((t) => Buffer.from(t)),
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  exposition.map((t) => gzipSync(t)),
  mutatedBytes(exposition.map((t) => gzipSync(t))),
);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hostscope-import-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function check(bytes: Uint8Array, format: ImportOptions['format'], pieceChars: number): Promise<void> {
  const file = path.join(dir, 'input');
  writeFileSync(file, bytes);
  const source = await openSource(file);
  const o = options(format, pieceChars);
  const report = await validateFile(source, o);
  expect(report.errors.length).toBeLessThanOrEqual(o.maxErrors);
  expect(report.errorCount).toBeGreaterThanOrEqual(report.errors.length);
  const lines = Math.max(1, Buffer.from(bytes).toString('latin1').split('\n').length);
  for (const e of report.errors) {
    const m = /^line (\d+): /.exec(e);
    if (m === null) {
      // Only an unreadable gzip stream is reported without a line.
      expect(e).toMatch(/gzip/);
      continue;
    }
    // Gzip input has its own line count; plain input's errors name one of its lines.
    if (!source.gzip) expect(Number(m[1])).toBeLessThanOrEqual(lines);
  }
  if (report.errorCount === 0)
    expect(report.kept + report.duplicates + report.outOfRetention).toBe(report.samples);
}

describe('hostscope import, first pass (fuzz)', () => {
  const CORPUS = [...corpus('import'), ...corpus('expfmt')];

  it(
    'any input gives a report, never an exception; its errors name lines',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          input,
          fc.constantFrom('auto' as const, 'text' as const, 'openmetrics' as const),
          fc.integer({ min: 16, max: 4096 }),
          async (bytes, format, pieceChars) => check(bytes, format, pieceChars),
        ),
        fuzzParams(300, {
          plugins: [fc.timeout(10_000)],
          examples: CORPUS.map((e): [Uint8Array, 'auto', number] => [e.bytes, 'auto', 64]),
        }),
      );
    },
    fuzzTimeout(120_000),
  );
});
