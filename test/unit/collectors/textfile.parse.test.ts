import {
  compileGlobSegment,
  convertTextfiles,
  GatherCheck,
  goUint64,
  hasGlobMeta,
} from '../../../src/collectors/textfile.parse';
import { parseExposition } from '../../../src/expfmt/parse';
import type { MetricFamily } from '../../../src/metrics/types';

function convert(files: Record<string, string>): { families: MetricFamily[]; problems: string[] } {
  const check = new GatherCheck();
  convertTextfiles(
    Object.entries(files).map(([path, content]) => ({ path, families: parseExposition(content, 'text') })),
    check,
  );
  return { families: check.families(), problems: check.problems };
}

describe('goUint64 (Go float64 -> uint64 on amd64, as node_exporter 1.5 exports counts)', () => {
  // Expected values observed from node_exporter 1.5 reading these counts from a .prom file.
  it.each([
    [3, 3],
    [2.7, 2],
    [-0.5, 0],
    [-1, 2 ** 64],
    [-2.5, 2 ** 64],
    [NaN, 2 ** 63],
    [Infinity, 2 ** 63],
    [1e20, 2 ** 63],
    [2e19, 2 ** 63],
    [1.5e19, 1.5e19],
  ])('%d -> %d', (input, expected) => {
    expect(goUint64(input)).toBe(expected);
  });

  it('never returns -0', () => {
    expect(Object.is(goUint64(-0.5), 0)).toBe(true);
  });
});

describe('convertTextfiles', () => {
  it('fills labels missing from some samples of a family with empty values', () => {
    const { families } = convert({ '/d/a.prom': 'm{job="a"} 1\nm{job="b",host="h"} 2\nm 3\n' });
    expect(families).toEqual([
      {
        name: 'm',
        help: 'Metric read from /d/a.prom',
        type: 'untyped',
        samples: [
          { labels: { job: 'a', host: '' }, value: 1 },
          { labels: { job: 'b', host: 'h' }, value: 2 },
          { labels: { job: '', host: '' }, value: 3 },
        ],
      },
    ]);
  });

  it('merges same-name families across files and lists every file in the default help', () => {
    const { families, problems } = convert({
      '/d/a.prom': '# TYPE m gauge\nm{f="a"} 1\nn 1\n',
      '/d/b.prom': '# TYPE m gauge\nm{f="b"} 2\n',
    });
    expect(families.map((f) => [f.name, f.help, f.samples.map((s) => s.value)])).toEqual([
      ['m', 'Metric read from /d/a.prom, /d/b.prom', [1, 2]],
      ['n', 'Metric read from /d/a.prom', [1]],
    ]);
    expect(problems).toEqual([]);
  });

  it('drops, like client_golang, metrics whose help or type differs from the first, and duplicate series', () => {
    const { families, problems } = convert({
      '/d/a.prom': '# HELP h First.\nh 1\n# TYPE t gauge\nt 1\nd{x="1"} 1\nd{x="1"} 2\n',
      '/d/b.prom': '# HELP h Second.\nh{f="b"} 2\n# TYPE t counter\nt{f="b"} 2\nd{x="1"} 3\nd{x="2"} 4\n',
    });
    expect(families.map((f) => [f.name, f.type, f.help, f.samples.map((s) => s.value)])).toEqual([
      ['h', 'untyped', 'First.', [1]],
      ['t', 'gauge', 'Metric read from /d/a.prom, /d/b.prom', [1]],
      ['d', 'untyped', 'Metric read from /d/a.prom, /d/b.prom', [1, 4]],
    ]);
    expect(problems).toEqual([
      'collected metric d{x="1"} was collected before with the same name and label values',
      'collected metric h{f="b"} has help "Second." but should have "First."',
      'collected metric t{f="b"} should be of type gauge, not counter',
      'collected metric d{x="1"} was collected before with the same name and label values',
    ]);
  });

  it('rebuilds histograms as client_golang does: sorted buckets in Go format, +Inf added, missing sum 0', () => {
    const { families } = convert({
      '/d/h.prom':
        '# TYPE h histogram\n' +
        'h_bucket{k="a",le="10"} 1\nh_bucket{k="a",le="0.5"} 0\nh_bucket{k="a",le="1000000"} 3\nh_bucket{k="a",le="NaN"} 9\n' +
        'h_bucket{k="a"} 9\nh_count{k="a"} 3.9\nh_sum{k="a",le="7"} 1.5\n' +
        'h_bucket{k="b",le="+Inf"} 5\nh_bucket{k="b",le="1"} 2\nh_bucket{k="b",le="1.0"} 3\nh_count{k="b"} 4\n',
    });
    expect(families).toEqual([
      {
        name: 'h',
        help: 'Metric read from /d/h.prom',
        type: 'histogram',
        samples: [
          { suffix: '_bucket', labels: { k: 'a', le: '0.5' }, value: 0 },
          { suffix: '_bucket', labels: { k: 'a', le: '10' }, value: 1 },
          { suffix: '_bucket', labels: { k: 'a', le: '1e+06' }, value: 3 },
          { suffix: '_bucket', labels: { k: 'a', le: '+Inf' }, value: 3 },
          { suffix: '_sum', labels: { k: 'a' }, value: 1.5 },
          { suffix: '_count', labels: { k: 'a' }, value: 3 },
          // A later bucket with the same bound wins; an explicit +Inf bucket keeps its own value.
          { suffix: '_bucket', labels: { k: 'b', le: '1' }, value: 3 },
          { suffix: '_bucket', labels: { k: 'b', le: '+Inf' }, value: 5 },
          { suffix: '_sum', labels: { k: 'b' }, value: 0 },
          { suffix: '_count', labels: { k: 'b' }, value: 4 },
        ],
      },
    ]);
  });

  it('rebuilds summaries: sorted quantiles, plain samples without quantile dropped, missing count 0', () => {
    const { families } = convert({
      '/d/s.prom':
        '# HELP s Sizes.\n# TYPE s summary\ns{quantile="0.99"} 9\ns{quantile="0.5"} 5\ns 17\ns_sum 30\n',
    });
    expect(families[0]?.samples).toEqual([
      { labels: { quantile: '0.5' }, value: 5 },
      { labels: { quantile: '0.99' }, value: 9 },
      { suffix: '_sum', labels: {}, value: 30 },
      { suffix: '_count', labels: {}, value: 0 },
    ]);
  });

  it('refuses a family whose name collides with a histogram or summary sample name (client_golang)', () => {
    const { families, problems } = convert({
      '/d/a.prom': '# TYPE h histogram\nh_bucket{le="1"} 1\n',
      '/d/b.prom': 'h_bucket{x="1"} 1\nh_sum 2\nother_count 1\n',
      '/d/c.prom': '# TYPE other summary\nother{quantile="0.5"} 1\n',
    });
    expect(families.map((f) => f.name)).toEqual(['h', 'other_count']);
    expect(problems).toEqual([
      'collected metric h_bucket{x="1"} collides with previously collected histogram named "h"',
      'collected metric h_sum collides with previously collected histogram named "h"',
      'collected metric other (a summary) collides with previously collected metric named "other_count"',
    ]);
  });
});

describe('Go glob patterns', () => {
  it('knows which paths are patterns', () => {
    expect(hasGlobMeta('/var/lib/node_exporter')).toBe(false);
    expect(hasGlobMeta('/var/lib/*/textfile')).toBe(true);
    expect(hasGlobMeta('/x/[ab]')).toBe(true);
    expect(hasGlobMeta('/x/a?')).toBe(true);
    expect(hasGlobMeta('/x/a\\b')).toBe(true);
  });

  it.each([
    ['*.prom', 'a.prom', true],
    ['*.prom', '.hidden.prom', true],
    ['*.prom', 'a.prom.tmp', false],
    ['a?c', 'abc', true],
    ['a?c', 'a☃c', true],
    ['a?c', 'ac', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[^a-c]x', 'dx', true],
    ['[^a-c]x', 'ax', false],
    ['[ab\\]]', ']', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['[z-a]', 'm', false],
    ['(x)+', '(x)+', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    const re = compileGlobSegment(pattern);
    expect(re).toBeDefined();
    expect(re?.test(name)).toBe(expected);
  });

  it.each(['[', '[]', '[]a]', '[-a]', '[a-]', 'a\\', '[a'])('rejects the malformed pattern %s', (pattern) => {
    expect(compileGlobSegment(pattern)).toBeUndefined();
  });
});
