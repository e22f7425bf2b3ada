import { encode, negotiateFormat } from '../../../src/exposition/encode';
import type { MetricFamily } from '../../../src/metrics/types';

const FAMILIES: MetricFamily[] = [
  {
    name: 'z_requests_total',
    help: 'Requests.\nSecond line with \\ backslash.',
    type: 'counter',
    samples: [
      { labels: { path: '/b', code: '200' }, value: 2 },
      { labels: { code: '200', path: '/a' }, value: 1 },
    ],
  },
  {
    name: 'a_info',
    help: 'Info.',
    type: 'gauge',
    samples: [{ labels: { v: 'quote " backslash \\ newline \n unicode ✓' }, value: 1 }],
  },
  {
    name: 'h_seconds',
    help: 'A histogram.',
    type: 'histogram',
    samples: [
      { suffix: '_bucket', labels: { le: '0.1' }, value: 1 },
      { suffix: '_bucket', labels: { le: '+Inf' }, value: 3 },
      { suffix: '_sum', labels: {}, value: 0.5 },
      { suffix: '_count', labels: {}, value: 3 },
    ],
  },
  { name: 'u_value', help: 'Untyped.', type: 'untyped', samples: [{ labels: {}, value: NaN }] },
  { name: 'empty_family', help: 'No samples.', type: 'gauge', samples: [] },
];

describe('encode', () => {
  it('writes text 0.0.4 sorted by family and series, with escaping', () => {
    expect(encode(FAMILIES, 'text')).toBe(
      [
        '# HELP a_info Info.',
        '# TYPE a_info gauge',
        'a_info{v="quote \\" backslash \\\\ newline \\n unicode ✓"} 1',
        '# HELP h_seconds A histogram.',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{le="0.1"} 1',
        'h_seconds_bucket{le="+Inf"} 3',
        'h_seconds_sum 0.5',
        'h_seconds_count 3',
        '# HELP u_value Untyped.',
        '# TYPE u_value untyped',
        'u_value NaN',
        '# HELP z_requests_total Requests.\\nSecond line with \\\\ backslash.',
        '# TYPE z_requests_total counter',
        'z_requests_total{code="200",path="/a"} 1',
        'z_requests_total{code="200",path="/b"} 2',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics with counter family names without _total and a final # EOF', () => {
    const out = encode(FAMILIES, 'openmetrics');
    expect(out).toContain('# TYPE z_requests counter\n');
    expect(out).toContain('z_requests_total{code="200",path="/a"} 1\n');
    expect(out).toContain('# TYPE u_value unknown\n');
    expect(out.endsWith('# EOF\n')).toBe(true);
    expect(out).not.toContain('empty_family');
  });

  it('is byte-stable whatever the input order', () => {
    expect(encode([...FAMILIES].reverse())).toBe(encode(FAMILIES));
  });
});

describe('negotiateFormat', () => {
  it('picks OpenMetrics only when asked', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;q=0.5')).toBe(
      'openmetrics',
    );
  });
});
