import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { buildOptions } from '../../src/collectors/options';
import { textfileCollector } from '../../src/collectors/textfile';
import { ParseError, parseExposition } from '../../src/expfmt/parse';
import { encode } from '../../src/exposition/encode';
import { HostFs } from '../../src/host/host-fs';
import type { MetricFamily } from '../../src/metrics/types';
import { FIXTURE_PATHS } from '../helpers/collect';
import { corpus, fuzzParams, fuzzTimeout, mutatedBytes, mutatedText, nastyString } from '../helpers/fuzz';
import { hasBinary } from '../helpers/services';

/**
 * Property-based fuzzing of the textfile collector (src/collectors/textfile*.ts): directories of `.prom`
 * files with arbitrary content (valid, mutated, binary, invalid UTF-8) and arbitrary file names (quotes,
 * backslashes, newlines, invalid UTF-8 bytes). For every directory the collector returns its families
 * (never throws); `node_textfile_scrape_error` is 0 or 1, and 1 comes with an error log line; and the
 * exporter's output of the result is valid exposition, parsed back by our parser and, where promtool is
 * installed, accepted by `promtool check metrics` (Prometheus' own parser). Corpus:
 * test/fixtures/fuzz/textfile/ (one file each) and expfmt/.
 */

interface LogLine {
  level: number;
  msg: string;
}

async function collect(directory: string): Promise<{ families: MetricFamily[]; logs: LogLine[] }> {
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

const line = fc.oneof(
  fc.constantFrom(
    '# HELP m A metric.',
    '# TYPE m gauge',
    '# TYPE h histogram',
    '# TYPE s summary',
    'm 1',
    'm{a="1"} 2',
    'm{a="\\\\\\"\\n"} 3',
    'h_bucket{le="1"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 3',
    'h_count 2',
    's{quantile="0.5"} 1',
    's_sum 1',
    's_count 1',
    'm 1 1700000000000',
    'x{__name__="y"} 1',
    'x{__x="y"} 1',
  ),
  fc
    .tuple(
      fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/),
      fc.stringMatching(/^[a-z_][a-z0-9_]{0,4}$/),
      nastyString(3),
    )
    .map(([n, l, v]) => `${n}{${l}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"} 1`),
);
const text = fc.array(line, { maxLength: 12 }).map((ls) => ls.map((l) => `${l}\n`).join(''));

const content = fc.oneof(
  text.map((t) => Buffer.from(t)),
  mutatedText(text).map((t) => Buffer.from(t)),
  mutatedBytes(text.map((t) => Buffer.from(t))),
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
);

/** A file name as bytes: any but `/` and NUL, ending in `.prom`. */
const fileName = fc
  .oneof(
    fc.stringMatching(/^[a-z0-9_-]{1,12}$/).map((s) => Buffer.from(s)),
    nastyString(2)
      .map((s) => Buffer.from(s, 'utf8'))
      .filter((b) => b.length > 0),
    fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)),
  )
  .map((b) => Buffer.concat([Buffer.from(b.filter((x) => x !== 0x2f && x !== 0)), Buffer.from('.prom')]))
  .filter((b) => b.length < 200);

const directory = fc.uniqueArray(fc.tuple(fileName, content), {
  maxLength: 4,
  selector: ([name]) => name.toString('hex'),
});

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hostscope-textfile-fuzz-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeDir(files: readonly (readonly [Buffer, Buffer])[]): string {
  const dir = path.join(root, String(n++));
  mkdirSync(dir);
  for (const [name, data] of files) writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), data);
  return dir;
}

/** Checks one collection; returns the exposition the exporter would serve. */
async function collectChecked(dir: string): Promise<string> {
  const { families, logs } = await collect(dir);
  const scrapeError = families.find((f) => f.name === 'node_textfile_scrape_error')?.samples[0]?.value;
  expect([0, 1]).toContain(scrapeError);
  if (scrapeError === 1) expect(logs.some((l) => l.level >= 50)).toBe(true);
  const out = encode(families, 'text');
  try {
    parseExposition(Buffer.from(out, 'utf8'), 'text');
  } catch (err) {
    if (err instanceof ParseError)
      throw new Error(`the exporter's output does not parse: ${err.message}\n${out}`);
    throw err;
  }
  return out;
}

describe('textfile collector (fuzz)', () => {
  const CORPUS = [...corpus('textfile'), ...corpus('expfmt')];

  it(
    'any directory: families, scrape_error 0 or 1 with a log line, and valid exposition out',
    async () => {
      await fc.assert(
        fc.asyncProperty(directory, async (files) => {
          await collectChecked(writeDir(files));
        }),
        fuzzParams(200, {
          plugins: [fc.timeout(10_000)],
          examples: CORPUS.map((e): [[Buffer, Buffer][]] => [
            [[Buffer.from(e.name.replace(/\.\w+$/, '.prom')), e.bytes]],
          ]),
        }),
      );
    },
    fuzzTimeout(120_000),
  );

  (hasBinary('promtool') ? it : it.skip)(
    "promtool check metrics accepts the exporter's output for any directory",
    async () => {
      await fc.assert(
        fc.asyncProperty(directory, async (files) => {
          const out = await collectChecked(writeDir(files));
          const r = spawnSync('promtool', ['check', 'metrics'], { input: out, encoding: 'utf8' });
          // Exit 3: lint findings only (names, HELP); 1 with a parse error would be invalid exposition.
          if (/error while linting|parsing error/.test(r.stderr) || ![0, 3].includes(r.status ?? -1))
            throw new Error(`promtool refused the output (${r.status}): ${r.stderr}\n${out}`);
        }),
        fuzzParams(40, { plugins: [fc.timeout(10_000)] }),
      );
    },
    fuzzTimeout(120_000),
  );
});
