import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseExposition, ParseError } from '../../../src/expfmt/parse';
import type { InputFormat, ParsedSample } from '../../../src/expfmt/types';
import { classifyLine, ExpositionSplitter, fileLine, type Piece } from '../../../src/import/split';

const FIXTURES = path.join(__dirname, '../../fixtures/expfmt');

function split(input: string, format: InputFormat, maxChars?: number): Piece[] {
  const s = new ExpositionSplitter(format, maxChars);
  const lines = input.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: Piece[] = [];
  lines.forEach((l, i) => out.push(...s.push(l, i + 1)));
  out.push(...s.end());
  return out;
}

/** Every sample of every piece with the file line the splitter gives it. */
function samplesWithLines(pieces: readonly Piece[], format: InputFormat): [ParsedSample, number][] {
  const out: [ParsedSample, number][] = [];
  for (const p of pieces) {
    const samples = parseExposition(p.text, format).flatMap((f) => f.samples);
    expect(samples).toHaveLength(p.sampleLines.length);
    samples.forEach((s, i) => out.push([s, p.sampleLines[i] as number]));
  }
  return out;
}

/** The fixture with a timestamp on every sample, so that it is a valid backfill file. */
function stamped(text: string, format: InputFormat): string {
  const ts = format === 'openmetrics' ? ' 1700000000.5' : ' 1700000000500';
  return text.replace(/^([^#\n].*)$/gm, `$1${ts}`);
}

describe('ExpositionSplitter', () => {
  it.each<[InputFormat, string]>([
    ['text', 'node_exporter.prom'],
    ['openmetrics', 'node_exporter.om.txt'],
  ])(
    '%s: pieces of any size parse to the samples of the whole file, each with its own line',
    (format, file) => {
      const input = stamped(readFileSync(path.join(FIXTURES, file), 'utf8'), format);
      const whole = parseExposition(input, format).flatMap((f) => f.samples);
      const lines = input.split('\n');
      for (const maxChars of [1, 200, 5000, 1e9]) {
        const pieces = split(input, format, maxChars);
        // (client_golang's two families named go_memstats_alloc_bytes also start a piece: harmless.)
        if (maxChars < 5000) expect(pieces.length).toBeGreaterThan(10);
        const got = samplesWithLines(pieces, format);
        // Same samples (types kept across cuts: the header is repeated); the fixture's families are not
        // interleaved, so the whole file's order is the file order.
        expect(got.map(([s]) => s)).toEqual(whole);
        for (const [s, line] of got) expect(lines[line - 1]?.startsWith(s.name)).toBe(true);
      }
    },
  );

  it('repeats the family metadata at the head of a piece cut inside the family', () => {
    const input = [
      '# HELP h A histogram.',
      '# TYPE h histogram',
      'h_bucket{le="1"} 1 1000',
      'h_bucket{le="+Inf"} 2 1000',
      'h_sum 3 1000',
      'h_count 2 1000',
      '',
    ].join('\n');
    const pieces = split(input, 'text', 1);
    expect(pieces.map((p) => p.text.split('\n').slice(0, 2))).toEqual(
      Array(4).fill(['# HELP h A histogram.', '# TYPE h histogram']),
    );
    expect(pieces.map((p) => p.headerLines)).toEqual([[], [1, 2], [1, 2], [1, 2]]);
    for (const p of pieces)
      expect(parseExposition(p.text, 'text')).toMatchObject([{ name: 'h', type: 'histogram' }]);
  });

  it('starts a piece at every new scrape of a multi-scrape file (a family appearing again)', () => {
    const scrape = (t: number): string[] => [
      '# HELP a A.',
      '# TYPE a gauge',
      `a 1 ${t}`,
      '# TYPE s summary',
      `s{quantile="0.5"} 1 ${t}`,
      `s_sum 1 ${t}`,
      `s_count 1 ${t}`,
    ];
    const input = [...scrape(1000), ...scrape(2000), ...scrape(3000)].join('\n') + '\n';
    // One big piece would be rejected by the parser (second HELP line for a).
    expect(() => parseExposition(input, 'text')).toThrow(ParseError);
    const pieces = split(input, 'text');
    expect(pieces.map((p) => [p.firstLine, p.bodyLines])).toEqual([
      [1, 7],
      [8, 7],
      [15, 7],
    ]);
    const samples = samplesWithLines(pieces, 'text');
    expect(samples.map(([s, l]) => [s.name, s.timestampMs, l])).toEqual([
      ['a', 1000, 3],
      ['s', 1000, 5],
      ['s_sum', 1000, 6],
      ['s_count', 1000, 7],
      ['a', 2000, 10],
      ['s', 2000, 12],
      ['s_sum', 2000, 13],
      ['s_count', 2000, 14],
      ['a', 3000, 17],
      ['s', 3000, 19],
      ['s_sum', 3000, 20],
      ['s_count', 3000, 21],
    ]);
  });

  it('keeps text samples in file order when a family comes back without metadata', () => {
    const input = 'a{x="1"} 1 1000\nb 1 1000\na{x="2"} 1 1000\n';
    const samples = samplesWithLines(split(input, 'text'), 'text');
    expect(samples.map(([s, l]) => [s.name, s.labels, l])).toEqual([
      ['a', { x: '1' }, 1],
      ['b', {}, 2],
      ['a', { x: '2' }, 3],
    ]);
  });

  it('OpenMetrics: cuts after each # EOF of concatenated expositions and appends # EOF elsewhere', () => {
    const input = [
      '# TYPE c counter',
      'c_total 1 1',
      '# EOF',
      '# TYPE c counter',
      'c_total 2 2',
      '# TYPE g gauge',
      'g 1 2',
      '# EOF',
      '',
    ].join('\n');
    const pieces = split(input, 'openmetrics');
    expect(pieces.map((p) => [p.firstLine, p.bodyLines, p.endsWithEof])).toEqual([
      [1, 3, true],
      [4, 5, true],
    ]);
    const small = split(input, 'openmetrics', 1);
    expect(small.map((p) => p.endsWithEof)).toEqual([true, false, true]);
    expect(small[1]?.text).toBe('# TYPE c counter\nc_total 2 2\n# EOF\n');
    expect(samplesWithLines(small, 'openmetrics').map(([s, l]) => [s.name, l])).toEqual([
      ['c_total', 2],
      ['c_total', 5],
      ['g', 7],
    ]);
  });

  it('OpenMetrics: a family reopened after others is taken as a new scrape, as promtool accepts it', () => {
    const input = '# TYPE a gauge\na 1 1\n# TYPE b gauge\nb 1 1\n# TYPE a gauge\na 2 2\n# EOF\n';
    expect(() => parseExposition(input, 'openmetrics')).toThrow(ParseError);
    const pieces = split(input, 'openmetrics');
    expect(pieces).toHaveLength(2);
    expect(samplesWithLines(pieces, 'openmetrics').map(([s, l]) => [s.name, l])).toEqual([
      ['a', 2],
      ['b', 4],
      ['a', 6],
    ]);
  });

  it('maps parse errors of any piece to the line of the file', () => {
    const input = ['# TYPE a gauge', 'a 1 1000', 'a 2 2000', 'a{ 3 3000', 'a 4 4000', ''].join('\n');
    for (const maxChars of [1, 1e9]) {
      const lines: number[] = [];
      for (const p of split(input, 'text', maxChars)) {
        try {
          parseExposition(p.text, 'text');
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
          lines.push(fileLine(p, err.line));
        }
      }
      expect(lines).toEqual([4]);
    }
  });

  it('classifies lines as each format reads them', () => {
    expect(classifyLine('  \t', 'text')).toEqual({ kind: 'blank' });
    expect(classifyLine(' # TYPE\tx  Counter ', 'text')).toEqual({
      kind: 'meta',
      name: 'x',
      type: 'counter',
    });
    expect(classifyLine('# UNIT x_seconds seconds', 'text')).toEqual({ kind: 'comment' });
    expect(classifyLine('# UNIT x_seconds seconds', 'openmetrics')).toEqual({
      kind: 'meta',
      name: 'x_seconds',
    });
    expect(classifyLine('# EOF', 'openmetrics')).toEqual({ kind: 'eof' });
    expect(classifyLine('# EOF', 'text')).toEqual({ kind: 'comment' });
    expect(classifyLine('  x{a="b"} 1', 'text')).toEqual({ kind: 'sample', name: 'x' });
  });
});
