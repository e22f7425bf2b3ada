import fc from 'fast-check';
import { encode, encodeChunks } from '../../src/exposition/encode';
import { ParseCache, ParseError, parseExposition, parseExpositionSliced } from '../../src/expfmt/parse';
import type { InputFormat, ParsedFamily } from '../../src/expfmt/types';
import type { MetricFamily, MetricType, Sample } from '../../src/metrics/types';
import {
  corpus,
  fuzzParams,
  fuzzTimeout,
  mutatedBytes,
  mutatedText,
  nastyString,
  SYNC_HANG_MS,
  withinMs,
} from '../helpers/fuzz';

/**
 * Property-based fuzzing of the exposition parser (src/expfmt/parse.ts): what the sink parses from every
 * scrape target, the textfile collector from users' files and `hostscope import` from backfill files.
 *   - any input, text or bytes, in either format: a result or a ParseError, never another exception,
 *     never the parser's "internal parser error" fallback, and no hang (SYNC_HANG_MS watchdog per input);
 *   - the sink's cached, sliced parse gives what the plain parse gives, for any pair of scrapes;
 *   - round trip: families with arbitrary label values and help (quotes, backslashes, newlines, control
 *     characters, any code point) encoded by our exposition layer parse back to the same samples.
 * The corpus, test/fixtures/fuzz/expfmt/, is replayed first in both formats.
 */

const FORMATS: readonly InputFormat[] = ['text', 'openmetrics'];

type Outcome = { ok: true; families: ParsedFamily[] } | { ok: false; error: ParseError };

/** Parses under the hang watchdog; only ParseError may come out, and never the internal-error fallback. */
function parseChecked(input: string | Buffer, format: InputFormat, cache?: ParseCache): Outcome {
  try {
    return { ok: true, families: withinMs(SYNC_HANG_MS, () => parseExposition(input, format, cache)) };
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    if (err.detail.startsWith('internal parser error'))
      throw new Error(`the parser failed internally: ${err.message}`);
    return { ok: false, error: err };
  }
}

function plain(families: readonly ParsedFamily[]): unknown {
  return families.map((f) => ({
    name: f.name,
    type: f.type,
    help: f.help,
    unit: f.unit,
    samples: f.samples.map((s) => ({
      name: s.name,
      labels: { ...s.labels },
      value: s.value,
      timestampMs: s.timestampMs,
    })),
  }));
}

// --- generators -------------------------------------------------------------------------------------

const NAME_SUFFIXES = /(_total|_count|_sum|_bucket|_created|_info|_gcount|_gsum)$/;

/** Metric names (no suffix OpenMetrics gives a meaning to). */
const metricName = fc
  .stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,30}$/)
  .filter((n) => !NAME_SUFFIXES.test(n) && !n.startsWith('__'));

const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,20}$/).filter((n) => !n.startsWith('__'));

const value = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 1),
  fc.integer(),
);

const labels = fc.dictionary(labelName, nastyString(6), { maxKeys: 5, noNullPrototype: false });

const timestamp = fc.option(fc.integer({ min: -1e12, max: 4e12 }), { nil: undefined });

/** A gauge, counter or untyped family with arbitrary labels, help and values. */
const simpleFamily: fc.Arbitrary<MetricFamily> = fc
  .record({
    base: metricName,
    type: fc.constantFrom<MetricType>('gauge', 'counter', 'untyped'),
    help: nastyString(6),
    samples: fc.array(fc.record({ labels, value, timestampMs: timestamp }), { minLength: 1, maxLength: 5 }),
  })
  .map(({ base, type, help, samples }) => ({
    name: type === 'counter' ? `${base}_total` : base,
    type,
    help,
    samples: samples.map((s): Sample => ({
      labels: s.labels,
      value: s.value,
      ...(s.timestampMs === undefined ? {} : { timestampMs: s.timestampMs }),
    })),
  }));

/** Families with distinct names. */
const families = fc.uniqueArray(simpleFamily, {
  maxLength: 4,
  selector: (f) => f.name.replace(/_total$/, ''),
});

/** Grammar-shaped soup: tokens of the formats mixed with nasty strings. */
const TOKENS = [
  '# HELP ',
  '# TYPE ',
  '# UNIT ',
  '# EOF\n',
  ' counter',
  ' gauge',
  ' histogram',
  ' gaugehistogram',
  ' summary',
  ' untyped',
  ' unknown',
  ' info',
  ' stateset',
  '{',
  '}',
  '="',
  '",',
  '"}',
  ' # {',
  '{le="+Inf"}',
  '{quantile="0.5"}',
  '_bucket',
  '_sum',
  '_count',
  '_total',
  '_created',
  ' 1',
  ' 1.5e3',
  ' NaN',
  ' -Inf',
  ' 1700000000000',
  ' 1700000000.123',
  '\n',
];
const soup = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), metricName, nastyString(2)), { maxLength: 60 })
  .map((parts) => parts.join(''));

// --- properties -------------------------------------------------------------------------------------

const CORPUS = corpus('expfmt');

describe('exposition parser (fuzz)', () => {
  it('replays the corpus: a result or a ParseError, in both formats', () => {
    expect(CORPUS.length).toBeGreaterThan(0);
    for (const { bytes } of CORPUS)
      for (const format of FORMATS) {
        parseChecked(bytes.toString('utf8'), format);
        parseChecked(bytes, format, new ParseCache());
      }
  });

  it(
    'never throws anything but ParseError on grammar-shaped soup',
    () => {
      fc.assert(
        fc.property(soup, fc.constantFrom(...FORMATS), (text, format) => {
          parseChecked(text, format);
        }),
        fuzzParams(2000, {
          examples: CORPUS.map((e): [string, InputFormat] => [e.bytes.toString('utf8'), 'text']),
        }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'never throws anything but ParseError on mutated valid expositions',
    () => {
      const mutated = fc
        .tuple(families, fc.constantFrom(...FORMATS))
        .chain(([fs, format]) =>
          fc.tuple(mutatedText(fc.constant(encode(fs, format))), fc.constant(format), fc.boolean()),
        );
      fc.assert(
        fc.property(mutated, ([text, format, swap]) => {
          parseChecked(text, swap ? (format === 'text' ? 'openmetrics' : 'text') : format);
        }),
        fuzzParams(2000),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'never throws anything but ParseError on arbitrary and mutated bytes (invalid UTF-8 included)',
    () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 2048 }),
        mutatedBytes(families.map((fs) => Buffer.from(encode(fs, 'text')))),
        mutatedBytes(families.map((fs) => Buffer.from(encode(fs, 'openmetrics')))),
      );
      fc.assert(
        fc.property(bytes, fc.constantFrom(...FORMATS), (input, format) => {
          parseChecked(Buffer.from(input), format);
          parseChecked(Buffer.from(input), format, new ParseCache());
        }),
        fuzzParams(1500, { examples: CORPUS.map((e): [Uint8Array, InputFormat] => [e.bytes, 'text']) }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    "the sink's cached, sliced parse agrees with the plain parse for any two scrapes in a row",
    async () => {
      const scrape = fc.oneof(
        families.map((fs) => encode(fs, 'text')),
        mutatedText(families.map((fs) => encode(fs, 'text'))),
        soup,
      );
      await fc.assert(
        fc.asyncProperty(scrape, scrape, async (first, second) => {
          const cache = new ParseCache();
          // Scrapes arrive as bytes: both parses get the same bytes.
          for (const body of [first, second, first].map((t) => Buffer.from(t, 'utf8'))) {
            const expected = parseChecked(body, 'text');
            let got: Outcome;
            try {
              got = { ok: true, families: await parseExpositionSliced(body, 'text', cache, 3) };
            } catch (err) {
              if (!(err instanceof ParseError)) throw err;
              got = { ok: false, error: err };
            }
            expect(got.ok).toBe(expected.ok);
            if (got.ok && expected.ok) expect(plain(got.families)).toEqual(plain(expected.families));
            if (!got.ok && !expected.ok) expect(got.error.message).toBe(expected.error.message);
          }
        }),
        fuzzParams(500),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'round-trips arbitrary label values and help through our encoder and parser (both formats)',
    () => {
      fc.assert(
        fc.property(families, fc.constantFrom(...FORMATS), (fs, format) => {
          const text = encode(fs, format);
          // The chunked encoder the exporter serves writes the same bytes.
          expect(Buffer.concat(encodeChunks(fs, format)).equals(Buffer.from(text, 'utf8'))).toBe(true);
          const parsed = parseChecked(Buffer.from(text, 'utf8'), format);
          if (!parsed.ok) throw new Error(`our own output does not parse: ${parsed.error.message}\n${text}`);
          expect(canonical(parsed.families.flatMap((f) => f.samples))).toEqual(
            canonical(fs.flatMap((f) => expectedSamples(f, format))),
          );
          for (const f of fs) {
            const got = parsed.families.find((p) => p.name === f.name);
            // Lone surrogates cannot travel in UTF-8: they arrive as U+FFFD. The text format (as Go's
            // parser reads it) cannot carry blanks at the start of a HELP text.
            const help = viaUtf8(f.help);
            expect(got?.help).toBe(format === 'text' ? help.replace(/^[ \t]+/, '') : help);
            expect(got?.type).toBe(f.type);
          }
        }),
        fuzzParams(1500),
      );
    },
    fuzzTimeout(60_000),
  );
});

/** A string after a trip through UTF-8 (lone surrogates become U+FFFD). */
function viaUtf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

interface Flat {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

function expectedSamples(f: MetricFamily, format: InputFormat): Flat[] {
  return f.samples.map((s) => {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.labels)) labels[k] = viaUtf8(v);
    const ts = s.timestampMs;
    return {
      name: f.name,
      labels,
      value: s.value,
      // OpenMetrics carries seconds: whole milliseconds survive the trip.
      ...(ts === undefined ? {} : { timestampMs: format === 'text' ? ts : Math.round((ts / 1000) * 1000) }),
    };
  });
}

function canonical(samples: readonly Flat[]): string[] {
  return samples
    .map((s) =>
      JSON.stringify([
        s.name,
        Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        Number.isNaN(s.value) ? 'NaN' : String(s.value),
        s.timestampMs ?? null,
      ]),
    )
    .sort();
}
