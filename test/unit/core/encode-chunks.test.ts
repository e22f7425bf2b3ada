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

  it('encodes nothing for no families', () => {
    expect(encodeChunks([])).toEqual([]);
    expect(Buffer.concat(encodeChunks([], 'openmetrics')).toString()).toBe('# EOF\n');
  });
});
