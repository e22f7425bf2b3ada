import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import fc from 'fast-check';

/**
 * Shared settings of the property-based fuzz tests (test/fuzz/, fast-check).
 *
 * In CI every property runs a fixed number of inputs from a fixed seed, so the suite is fast and a
 * failure reproduces. `FUZZ_RUNS=<n>` runs n inputs per property instead (and, unless `FUZZ_SEED` pins
 * it, from a fresh seed each time, printed by fast-check on failure with the path to replay it):
 *
 *   FUZZ_RUNS=20000 npx jest test/fuzz
 *   FUZZ_SEED=1234 FUZZ_RUNS=20000 npx jest test/fuzz/expfmt   # replay a reported seed
 *
 * Inputs worth keeping (a fixed failure, a tricky shape) go to test/fixtures/fuzz/<target>/, one file
 * each; every property replays its corpus before generating anything (fast-check's `examples`).
 */

/** The seed of CI runs. */
const CI_SEED = 20_240_501;

function positiveInt(text: string | undefined): number | undefined {
  const n = Number(text);
  return text !== undefined && text !== '' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Inputs per property: FUZZ_RUNS, or the CI default given. */
export function fuzzRuns(ciRuns: number): number {
  return positiveInt(process.env.FUZZ_RUNS) ?? ciRuns;
}

/** True when FUZZ_RUNS asks for a longer run than CI's. */
export const LONG_FUZZ = positiveInt(process.env.FUZZ_RUNS) !== undefined;

/** FUZZ_SEED, else CI's fixed seed, or a fresh one for a longer run. */
export const FUZZ_SEED =
  (process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined) ??
  (LONG_FUZZ ? Date.now() % 2 ** 31 : CI_SEED);

/**
 * Jest's time limit for a fuzz test: `ciMs` in CI; without a limit on a longer run (each input is still
 * bounded, by withinMs or fast-check's timeout plugin).
 */
export function fuzzTimeout(ciMs: number): number {
  return LONG_FUZZ ? 2 ** 31 - 1 : ciMs;
}

/** fast-check parameters: the seed, the number of runs, the corpus as examples, and any plugins. */
export function fuzzParams<T>(ciRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(ciRuns), endOnFailure: !LONG_FUZZ, ...extra };
}

export const FUZZ_CORPUS = path.join(__dirname, '../fixtures/fuzz');

export interface CorpusEntry {
  /** File name in the target's directory. */
  readonly name: string;
  readonly bytes: Buffer;
}

/** The corpus of one target, test/fixtures/fuzz/<target>/*, in name order (README.md excluded). */
export function corpus(target: string): CorpusEntry[] {
  const dir = path.join(FUZZ_CORPUS, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name !== 'README.md' && statSync(path.join(dir, name)).isFile())
    .sort()
    .map((name) => ({ name, bytes: readFileSync(path.join(dir, name)) }));
}

/** The corpus of one target as UTF-8 text. */
export function textCorpus(target: string): string[] {
  return corpus(target).map((e) => e.bytes.toString('utf8'));
}

const watchdog = vm.createContext({ run: undefined as (() => unknown) | undefined });

/**
 * Runs synchronous code under a watchdog: V8 terminates it after `ms` and this throws
 * ERR_SCRIPT_EXECUTION_TIMEOUT. So a parser that loops forever on some input fails the property with
 * that input instead of hanging the test run (fast-check's own timeout only interrupts async code).
 * A hang bound, not a speed check: the bound is many times what any input here needs.
 */
export function withinMs<T>(ms: number, run: () => T): T {
  watchdog.run = run;
  try {
    return vm.runInContext('run()', watchdog, { timeout: ms }) as T;
  } finally {
    watchdog.run = undefined;
  }
}

/** Per-input hang bound of the synchronous parsers (see withinMs). */
export const SYNC_HANG_MS = 5_000;

/** Text and tokens that break naive parsers, escapers and SQL or shell built from strings. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '"',
  "'",
  '\\',
  '\\\\',
  '\\"',
  '\\n',
  '\n',
  '\r\n',
  '\r',
  '\t',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udfff',
  '😀',
  'é',
  'e\u0301',
  '{',
  '}',
  '=',
  ',',
  '#',
  '# EOF',
  '# TYPE x counter',
  '"} 1\nevil_metric 1\n',
  '\\"} 1\n# HELP x\n',
  '__name__',
  '__proto__',
  'constructor',
  'NaN',
  '+Inf',
  '-Inf',
  '1e309',
  '-0',
  '0x1F',
  "'; DROP TABLE hostscope.samples; --",
  '$(id)',
  '`id`',
  '; rm -rf /',
  '../../../../etc/passwd',
  '%00',
  '%s%n%x',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
];

/** A string built from nasty pieces and arbitrary code points (lone surrogates included). */
export function nastyString(maxPieces = 8): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
        { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
        { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
      ),
      { maxLength: maxPieces },
    )
    .map((parts) => parts.join(''));
}

/** Byte-level mutations of a buffer: flips, insertions, deletions, truncation, duplication of a slice. */
export function mutatedBytes(base: fc.Arbitrary<Uint8Array>, maxOps = 4): fc.Arbitrary<Buffer> {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  );
  return fc.tuple(base, fc.array(op, { minLength: 1, maxLength: maxOps })).map(([input, ops]) => {
    let b = Buffer.from(input);
    for (const o of ops) {
      const at = b.length === 0 ? 0 : o.at % (b.length + 1);
      switch (o.kind) {
        case 'flip':
          if (at < b.length) b[at] = (b[at] as number) ^ (1 << o.bit);
          break;
        case 'set':
          if (at < b.length) b[at] = o.byte;
          break;
        case 'insert':
          b = Buffer.concat([b.subarray(0, at), o.bytes, b.subarray(at)]);
          break;
        case 'delete':
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.count)]);
          break;
        case 'truncate':
          b = b.subarray(0, at);
          break;
        case 'repeat': {
          const piece = b.subarray(at, at + 16);
          b = Buffer.concat([b.subarray(0, at), ...Array<Buffer>(o.count).fill(piece), b.subarray(at)]);
          break;
        }
      }
    }
    return b;
  });
}

/** Text-level mutations (the same operations on a string, by UTF-16 unit, with nasty insertions). */
export function mutatedText(base: fc.Arbitrary<string>, maxOps = 4): fc.Arbitrary<string> {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: nastyString(2) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), count: fc.nat(40) }),
    fc.record({ kind: fc.constant('newlines' as const), to: fc.constantFrom('\r\n', '\n\n', ' \n', '') }),
  );
  return fc.tuple(base, fc.array(op, { minLength: 1, maxLength: maxOps })).map(([input, ops]) => {
    let s = input;
    for (const o of ops) {
      const at = o.kind === 'newlines' ? 0 : o.at % (s.length + 1);
      switch (o.kind) {
        case 'insert':
          s = s.slice(0, at) + o.text + s.slice(at);
          break;
        case 'delete':
          s = s.slice(0, at) + s.slice(at + o.count);
          break;
        case 'truncate':
          s = s.slice(0, at);
          break;
        case 'splice': {
          const from = s.length === 0 ? 0 : o.from % s.length;
          s = s.slice(0, at) + s.slice(from, from + o.count) + s.slice(at);
          break;
        }
        case 'newlines':
          s = s.replace(/\n/g, o.to);
          break;
      }
    }
    return s;
  });
}
