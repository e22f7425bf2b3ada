import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { countSamples, ParseCache, parseExposition, parseExpositionSliced } from '../../../src/expfmt/parse';
import type { ParsedFamily } from '../../../src/expfmt/types';
import { rng } from '../../../src/sink/seed';

/**
 * A parse with a ParseCache (the sink's: repeated lines reuse the last scrape's names and labels, samples
 * come out as columns) must give exactly what a parse without one gives, for every input and every
 * history of earlier inputs: the same families, samples, labels and values, and the same errors.
 */

const NODE = readFileSync(path.join(__dirname, '../../fixtures/expfmt/node_exporter.prom'), 'utf8');

type Outcome = { ok: true; families: unknown } | { ok: false; error: string };

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

function outcome(run: () => ParsedFamily[]): Outcome {
  try {
    return { ok: true, families: plain(run()) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

const lines = NODE.split('\n');

/** A mutation of the fixture as exporters change between scrapes, plus some that break the syntax. */
function mutate(random: () => number): string {
  const out = [...lines];
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const i = Math.floor(random() * (out.length - 1));
    const line = out[i] as string;
    switch (Math.floor(random() * 9)) {
      case 0: // a series goes away
        out.splice(i, 1);
        break;
      case 1: // a series appears
        out.splice(i, 0, `new_series{x="${Math.floor(random() * 5)}"} 1`);
        break;
      case 2: // a histogram or summary becomes untyped: `le`/`quantile` are no longer normalised
        out[i] = line.replace(/^# TYPE (\S+) (histogram|summary)$/, '# TYPE $1 untyped');
        break;
      case 3: // an extra blank before the value, or a timestamp
        out[i] =
          random() < 0.5
            ? line.replace(/ (\S+)$/, '  $1')
            : line.startsWith('#')
              ? line
              : `${line} 1700000000000`;
        break;
      case 4: // a broken value or a broken label set
        out[i] = random() < 0.5 ? line.replace(/ (\S+)$/, ' x$1') : line.replace('="', '=');
        break;
      case 5: // the same line twice
        out.splice(i, 0, line);
        break;
      case 6: // a trailing blank after the value
        out[i] = `${line} `;
        break;
      default: // only values change, as on every scrape
        out[i] = line.replace(/ ([0-9.e+-]+)$/, (_m, v: string) => ` ${Number(v) + 1}`);
    }
  }
  return out.join('\n');
}

describe('parseExposition with a ParseCache', () => {
  it('gives what a parse without a cache gives, over a history of changing scrapes', () => {
    const random = rng(7);
    const cache = new ParseCache();
    let reused = 0;
    for (let round = 0; round < 300; round++) {
      const text = round % 3 === 0 ? NODE : mutate(random);
      const expected = outcome(() => parseExposition(text, 'text'));
      const before = cache.size;
      const got = outcome(() => parseExposition(text, 'text', cache));
      expect(got).toEqual(expected);
      if (!expected.ok) expect(cache.size).toBe(before); // a failed parse leaves the cache as it was
      if (expected.ok && before > 0) reused++;
    }
    expect(reused).toBeGreaterThan(100);
  });

  it('hands out the same labels object for a repeated line, and columns instead of sample objects', () => {
    const cache = new ParseCache();
    const first = parseExposition(NODE, 'text', cache);
    const second = parseExposition(NODE.replace(/ 1$/m, ' 2'), 'text', cache);
    expect(countSamples(second)).toBe(countSamples(first));
    expect(cache.size).toBe(countSamples(first));
    const a = first.find((f) => f.name === 'node_cpu_seconds_total');
    const b = second.find((f) => f.name === 'node_cpu_seconds_total');
    expect(b?.columnar).toBeDefined();
    expect(b?.samples[3]?.labels).toBe(a?.samples[3]?.labels);
    expect(b?.samples[3]?.labels).toEqual({ ...a?.samples[3]?.labels });
  });

  it('keeps nothing of the body: the buffer of the last scrape may be overwritten (reused for the next)', () => {
    const cache = new ParseCache();
    const body = Buffer.from(NODE);
    const first = parseExposition(body, 'text', cache);
    body.fill(0x78); // the scraper reads the next body into this buffer
    const changed = NODE.replace(/ 1$/m, ' 2');
    const second = parseExposition(Buffer.from(changed), 'text', cache);
    expect(plain(second)).toEqual(plain(parseExposition(changed, 'text')));
    expect(second[0]?.samples[0]?.labels).toBe(first[0]?.samples[0]?.labels);
  });

  it('tells lines of the same length apart by their text, not their length', () => {
    const cache = new ParseCache();
    parseExposition('a{x="1"} 1\na{x="2"} 2\n', 'text', cache);
    const swapped = parseExposition('a{x="2"} 5\na{x="1"} 6\n', 'text', cache);
    expect(swapped[0]?.samples.map((x) => [x.labels.x, x.value])).toEqual([
      ['2', 5],
      ['1', 6],
    ]);
  });

  it('follows lines that were removed or inserted before them', () => {
    const cache = new ParseCache();
    const first = parseExposition('a{x="1"} 1\na{x="2"} 2\na{x="3"} 3\n', 'text', cache);
    const removed = parseExposition('a{x="1"} 1\na{x="3"} 3\n', 'text', cache);
    expect(removed[0]?.samples[1]?.labels).toBe(first[0]?.samples[2]?.labels);
    const inserted = parseExposition('a{x="0"} 0\na{x="1"} 1\na{x="3"} 3\n', 'text', cache);
    expect(inserted[0]?.samples[1]?.labels).toBe(first[0]?.samples[0]?.labels);
    expect(inserted[0]?.samples[2]?.labels).toBe(first[0]?.samples[2]?.labels);
    expect(plain(inserted)).toEqual(plain(parseExposition('a{x="0"} 0\na{x="1"} 1\na{x="3"} 3\n', 'text')));
  });

  it('gives the same when parsed in slices that yield to the event loop, errors included', async () => {
    const sliced = new ParseCache();
    const whole = new ParseCache();
    const random = rng(11);
    for (let round = 0; round < 30; round++) {
      const text = round % 3 === 0 ? NODE : mutate(random);
      const expected = outcome(() => parseExposition(text, 'text', whole));
      let got: Outcome;
      try {
        got = {
          ok: true,
          families: plain(await parseExpositionSliced(Buffer.from(text), 'text', sliced, 7)),
        };
      } catch (err) {
        got = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      expect(got).toEqual(expected);
    }
  });

  it('does not reuse labels across a type change that normalises them differently', () => {
    const cache = new ParseCache();
    parseExposition('# TYPE h untyped\nh_bucket{le="1"} 1\n', 'text', cache);
    const typed = parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\n', 'text', cache);
    expect(typed[0]?.samples[0]?.labels).toEqual({ le: '1.0' });
  });
});
