import { encode, encodeChunks } from '../../../src/exposition/encode';
import type { MetricFamily, Sample } from '../../../src/metrics/types';

function families(): MetricFamily[] {
  const samples: Sample[] = [];
  // Unsorted on purpose, with multi-byte label values, so that chunk boundaries fall inside UTF-8 text.
  for (let i = 3000; i > 0; i--)
    samples.push({ labels: { id: `c${i}`, name: `żółw-${'é'.repeat(i % 7)}` }, value: i / 3 });
  const huge = 'x'.repeat(100_000);
  return [
    { name: 'b_total', help: 'B.', type: 'counter', samples },
    {
      name: 'a_huge',
      help: 'A label value larger than one chunk.',
      type: 'gauge',
      samples: [{ labels: { v: huge }, value: 1 }],
    },
    {
      name: 'h',
      help: 'H.',
      type: 'histogram',
      samples: [
        { suffix: '_bucket', labels: { le: '1', x: 'b' }, value: 1 },
        { suffix: '_bucket', labels: { le: '+Inf', x: 'b' }, value: 2 },
        { suffix: '_bucket', labels: { le: '1', x: 'a' }, value: 3 },
        { suffix: '_bucket', labels: { le: '+Inf', x: 'a' }, value: 4 },
      ],
    },
  ];
}

describe('encodeChunks', () => {
  it.each(['text', 'openmetrics'] as const)('gives exactly the bytes of encode (%s)', (format) => {
    const input = families();
    const chunks = encodeChunks(input, format);
    expect(chunks.length).toBeGreaterThan(2);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(encode(input, format));
    for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThan(0);
  });

  it('keeps histogram buckets in their given order within each series', () => {
    const text = Buffer.concat(encodeChunks(families())).toString('utf8');
    expect(text).toContain(
      'h_bucket{le="1",x="a"} 3\nh_bucket{le="+Inf",x="a"} 4\nh_bucket{le="1",x="b"} 1\n',
    );
  });

  it('writes every kind of value as formatValue does, integers digit by digit', () => {
    const values = [
      0,
      -0,
      7,
      -7,
      10,
      99,
      100,
      1_234_567,
      -1_000_000,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      1e21,
      0.5,
      -1.25e-7,
      1 / 3,
      NaN,
      Infinity,
      -Infinity,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
    ];
    // Enough samples that values fall on chunk boundaries too.
    const samples: Sample[] = [];
    for (let i = 0; i < 6000; i++)
      samples.push({ labels: { i: String(i) }, value: values[i % values.length] as number });
    samples.push({ labels: { i: 'ts' }, value: 3, timestampMs: 1_700_000_000_123.6 });
    const input: MetricFamily[] = [{ name: 'v', help: 'V.', type: 'gauge', samples }];
    const lines = Buffer.concat(encodeChunks(input))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('v{'));
    const expected = samples.map((s) => {
      const v = Number.isNaN(s.value)
        ? 'NaN'
        : s.value === Infinity
          ? '+Inf'
          : s.value === -Infinity
            ? '-Inf'
            : String(s.value);
      return `v{i="${s.labels.i as string}"} ${v}${s.timestampMs === undefined ? '' : ' 1700000000124'}`;
    });
    expect(lines.sort()).toEqual(expected.sort());
    expect(lines).toContain('v{i="9"} 9007199254740991');
    expect(lines).toContain('v{i="12"} 1e+21');
    expect(lines).toContain('v{i="1"} 0');
  });

  it('encodes nothing for no families', () => {
    expect(encodeChunks([])).toEqual([]);
    expect(Buffer.concat(encodeChunks([], 'openmetrics')).toString()).toBe('# EOF\n');
  });
});
