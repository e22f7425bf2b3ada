import { encode } from '../../../src/exposition/encode';
import { parseExposition, ParseError } from '../../../src/expfmt/parse';
import type { InputFormat } from '../../../src/expfmt/types';
import type { MetricFamily, MetricType, Sample } from '../../../src/metrics/types';
import { rng } from '../../../src/sink/seed';

/**
 * Fuzz test of the exposition parser the sink relies on: thousands of generated inputs (valid by
 * construction, round-tripped through our encoder) and mutations of them (byte flips, insertions, deletions,
 * truncations, spliced fragments). Every input must either parse or throw ParseError: no other exception,
 * no hang (inputs are bounded to 8 kB; jest's timeout catches a hang).
 */

const MAX_INPUT = 8192;
const NASTY = [
  '"',
  '\\',
  '\n',
  '\\n',
  '\\"',
  '{',
  '}',
  '=',
  ',',
  ' ',
  '\t',
  '#',
  'NaN',
  '+Inf',
  '-Inf',
  'é',
  '😀',
  '\u0000',
  "'); drop table x; --",
  '1e309',
  '-0',
  '0x1F',
  '1_000',
  '\r',
];
const TOKENS = [
  '# HELP ',
  '# TYPE ',
  ' counter',
  ' gauge',
  ' histogram',
  ' summary',
  ' untyped',
  '# EOF\n',
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
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function randomName(r: () => number): string {
  const first = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:';
  const rest = `${first}0123456789`;
  let s = pick(r, [...first]);
  const len = 1 + Math.floor(r() * 20);
  for (let i = 0; i < len; i++) s += pick(r, [...rest]);
  return s;
}

function randomLabelValue(r: () => number): string {
  let s = '';
  const len = Math.floor(r() * 12);
  for (let i = 0; i < len; i++) {
    const k = r();
    if (k < 0.3) s += pick(r, NASTY);
    else if (k < 0.4) s += String.fromCodePoint(Math.floor(r() * 0x2ffff));
    else s += String.fromCharCode(97 + Math.floor(r() * 26));
  }
  return s.replace(/[\uD800-\uDFFF]/g, 'x');
}

function randomValue(r: () => number): number {
  const k = r();
  if (k < 0.05) return NaN;
  if (k < 0.1) return Infinity;
  if (k < 0.15) return -Infinity;
  if (k < 0.3) return Math.floor(r() * 1000);
  if (k < 0.4) return -r() * 1e-300;
  return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
}

function randomFamily(r: () => number): MetricFamily {
  const type = pick<MetricType>(r, ['counter', 'gauge', 'untyped', 'histogram', 'summary']);
  const name = randomName(r) + (type === 'counter' ? '_total' : '');
  const samples: Sample[] = [];
  const series = 1 + Math.floor(r() * 3);
  for (let s = 0; s < series; s++) {
    const labels: Record<string, string> = {};
    const nl = Math.floor(r() * 3);
    for (let i = 0; i < nl; i++) labels[`l${i}_${randomName(r).replace(/:/g, '_')}`] = randomLabelValue(r);
    if (type === 'histogram') {
      let acc = 0;
      for (const le of ['0.1', '1', '10', '+Inf']) {
        acc += Math.floor(r() * 5);
        samples.push({ suffix: '_bucket', labels: { ...labels, le }, value: acc });
      }
      samples.push({ suffix: '_sum', labels, value: r() * 100 }, { suffix: '_count', labels, value: acc });
    } else if (type === 'summary') {
      for (const q of ['0.5', '0.99']) samples.push({ labels: { ...labels, quantile: q }, value: r() });
      samples.push({ suffix: '_sum', labels, value: r() * 100 }, { suffix: '_count', labels, value: 3 });
    } else {
      samples.push({
        labels,
        value: randomValue(r),
        ...(r() < 0.1 ? { timestampMs: 1_700_000_000_000 + Math.floor(r() * 1e6) } : {}),
      });
    }
  }
  return { name, help: randomLabelValue(r), type, samples };
}

function mutate(r: () => number, text: string): string {
  let s = text;
  const ops = 1 + Math.floor(r() * 4);
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const k = r();
    if (k < 0.2) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 5));
    else if (k < 0.4) s = s.slice(0, at) + pick(r, NASTY) + s.slice(at);
    else if (k < 0.55) s = s.slice(0, at) + pick(r, TOKENS) + s.slice(at);
    else if (k < 0.7) s = s.slice(0, at);
    else if (k < 0.8) {
      const from = Math.floor(r() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(r() * 40)) + s.slice(at);
    } else if (k < 0.9) s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at + 1);
    else s = s.replace(/\n/g, pick(r, ['\r\n', '\n\n', ' \n', '\n']));
  }
  return s.slice(0, MAX_INPUT);
}

function parseOrParseError(text: string, format: InputFormat): 'ok' | 'error' {
  try {
    parseExposition(text, format);
    return 'ok';
  } catch (err) {
    if (err instanceof ParseError) return 'error';
    throw new Error(`non-ParseError for input ${JSON.stringify(text.slice(0, 300))}: ${String(err)}`);
  }
}

describe('exposition parser fuzz', () => {
  it('round-trips generated families through encode and parse (text and OpenMetrics)', () => {
    const r = rng(42);
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const families = Array.from({ length: 1 + Math.floor(r() * 4) }, () => randomFamily(r));
      // Families must have distinct names to round-trip.
      const unique = [...new Map(families.map((f) => [f.name, f])).values()];
      for (const format of ['text', 'openmetrics'] as const) {
        const text = encode(unique, format);
        if (text.length > MAX_INPUT) continue;
        const parsed = parseExposition(text, format);
        const count = (fs: readonly { samples: readonly unknown[] }[]): number =>
          fs.reduce((a, f) => a + f.samples.length, 0);
        expect(count(parsed)).toBe(count(unique));
        const values = parsed.flatMap((f) => f.samples.map((s) => s.value));
        const expected = unique.flatMap((f) => f.samples.map((s) => s.value));
        expect(values.filter(Number.isNaN).length).toBe(expected.filter(Number.isNaN).length);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2500);
  });

  it('never throws anything but ParseError on thousands of mutated inputs', () => {
    const r = rng(7);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 6000; i++) {
      const format: InputFormat = r() < 0.5 ? 'text' : 'openmetrics';
      const families = Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomFamily(r));
      const base = encode([...new Map(families.map((f) => [f.name, f])).values()], format);
      const input = mutate(r, base);
      outcomes[parseOrParseError(input, format)]++;
      // Feed the same bytes to the other format too.
      outcomes[parseOrParseError(input, format === 'text' ? 'openmetrics' : 'text')]++;
    }
    // Both branches are exercised: some mutations stay valid, most do not.
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(outcomes.error).toBeGreaterThan(1000);
  });

  it('survives random byte soup and pathological shapes', () => {
    const r = rng(99);
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(r() * 512);
      let s = '';
      for (let j = 0; j < len; j++)
        s +=
          r() < 0.7
            ? pick(r, [...'a_{}="\\\n #,.0123456789eE+-NaInf'])
            : String.fromCharCode(Math.floor(r() * 0x10000)).replace(/[\uD800-\uDFFF]/, '?');
      parseOrParseError(s, 'text');
      parseOrParseError(s, 'openmetrics');
    }
    const pathological = [
      '',
      '\n',
      '#',
      '# HELP',
      '# TYPE x',
      'x',
      'x ',
      'x{',
      'x{a="',
      'x{a="\\',
      `x{a="${'\\'.repeat(4000)}"} 1\n`,
      `x{${'a="b",'.repeat(1000)}} 1\n`,
      `${'x'.repeat(8000)} 1\n`,
      `x ${'9'.repeat(5000)}\n`,
      `x 1 ${'9'.repeat(5000)}\n`,
      '{}'.repeat(4000),
      '# EOF\n# EOF\n',
      'x{le="+Inf"} 1\n'.repeat(400),
    ];
    for (const p of pathological) {
      parseOrParseError(p, 'text');
      parseOrParseError(p, 'openmetrics');
    }
  });
});
