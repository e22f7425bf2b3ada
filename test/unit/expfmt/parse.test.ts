import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseExposition, ParseError } from '../../../src/expfmt/parse';
import type { InputFormat, ParsedFamily } from '../../../src/expfmt/types';
import { encode } from '../../../src/exposition/encode';
import { HostscopeError } from '../../../src/errors';
import type { MetricFamily } from '../../../src/metrics/types';

const FIXTURES = path.join(__dirname, '../../fixtures/expfmt');
const NODE_EXPORTER_TEXT = readFileSync(path.join(FIXTURES, 'node_exporter.prom'), 'utf8');
const NODE_EXPORTER_OM = readFileSync(path.join(FIXTURES, 'node_exporter.om.txt'), 'utf8');

const text = (input: string): ParsedFamily[] => parseExposition(input, 'text');
const om = (input: string): ParsedFamily[] => parseExposition(input, 'openmetrics');

/** The ParseError thrown for `input`, failing the test when there is none. */
function parseErrorOf(input: string, format: InputFormat): ParseError {
  try {
    parseExposition(input, format);
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw new Error(`expected a ParseError, got ${String(err)}`);
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

function expectError(input: string, format: InputFormat, line: number, message: RegExp): void {
  const err = parseErrorOf(input, format);
  expect(err.line).toBe(line);
  expect(err.message).toContain(`line ${line}:`);
  expect(err.message).toMatch(message);
}

/** ParsedFamily -> MetricFamily as a consumer does it: suffix = sample name minus family name. */
function toMetricFamilies(families: readonly ParsedFamily[]): MetricFamily[] {
  return families.map((f) => ({
    name: f.name,
    help: f.help,
    type: f.type,
    samples: f.samples.map((s) => ({
      ...(s.name === f.name ? {} : { suffix: s.name.slice(f.name.length) }),
      labels: s.labels,
      value: s.value,
      ...(s.timestampMs === undefined ? {} : { timestampMs: s.timestampMs }),
    })),
  }));
}

/** Families and samples in a canonical order, for comparing expositions whose order differs. */
function canonical(families: readonly ParsedFamily[]): unknown[] {
  const key = (labels: Readonly<Record<string, string>>): string =>
    JSON.stringify(
      Object.keys(labels)
        .sort()
        .map((k) => [k, labels[k]]),
    );
  return [...families]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => ({
      name: f.name,
      type: f.type,
      help: f.help,
      samples: f.samples
        .map((s) => ({ name: s.name, labels: key(s.labels), value: s.value, timestampMs: s.timestampMs }))
        .sort((a, b) =>
          a.name + a.labels < b.name + b.labels ? -1 : a.name + a.labels > b.name + b.labels ? 1 : 0,
        ),
    }));
}

describe('parseExposition: Prometheus text format 0.0.4', () => {
  it('reads HELP, TYPE and samples into families', () => {
    const families = text(
      '# HELP http_requests_total The total number of HTTP requests.\n' +
        '# TYPE http_requests_total counter\n' +
        'http_requests_total{method="post",code="200"} 1027 1395066363000\n' +
        'http_requests_total{method="post",code="400"}    3 1395066363000\n',
    );
    expect(families).toEqual([
      {
        name: 'http_requests_total',
        type: 'counter',
        help: 'The total number of HTTP requests.',
        samples: [
          {
            name: 'http_requests_total',
            labels: { method: 'post', code: '200' },
            value: 1027,
            timestampMs: 1395066363000,
          },
          {
            name: 'http_requests_total',
            labels: { method: 'post', code: '400' },
            value: 3,
            timestampMs: 1395066363000,
          },
        ],
      },
    ]);
    expect(families[0]).not.toHaveProperty('unit');
  });

  it('unescapes \\\\ and \\n in HELP and keeps everything else verbatim', () => {
    const [f] = text('# HELP m Path C:\\\\dir\\nline two, "quoted", unicode zoë ☃ \ts\nm 1\n');
    expect(f?.help).toBe('Path C:\\dir\nline two, "quoted", unicode zoë ☃ \ts');
  });

  it('rejects an escaped quote or any other escape in HELP, as Go does', () => {
    expectError('# HELP m a \\"b\\"\nm 1\n', 'text', 1, /invalid escape sequence '\\"'/);
    expectError('m 1\n# HELP m tab\\there\n', 'text', 2, /invalid escape sequence '\\t'/);
    expectError('# HELP m ends with \\\n', 'text', 1, /backslash/);
  });

  it('ignores comments, # UNIT lines, blank lines and leading blanks', () => {
    const families = text(
      '\n# a comment\n#\n   \n# UNIT m seconds\n\t  # HELP m x\n  m 1\n\n#HELP n y\nn 2\n',
    );
    expect(families.map((f) => [f.name, f.help, f.samples.length])).toEqual([
      ['m', 'x', 1],
      ['n', 'y', 1],
    ]);
    expect(families[0]).not.toHaveProperty('unit');
  });

  it('treats incomplete HELP/TYPE lines as comments, like Go', () => {
    const families = text(
      '# HELP\n# HELP m\n# TYPE m\n# TYPE m \n# HELP m \n# HELP m real\n# TYPE m gauge\nm 1\n',
    );
    expect(families).toEqual([
      {
        name: 'm',
        type: 'gauge',
        help: 'real',
        samples: [{ name: 'm', labels: {}, value: 1, timestampMs: undefined }],
      },
    ]);
  });

  it('unescapes label values, keeps unicode, accepts {} and a trailing comma, blanks between tokens', () => {
    const families = text(
      'a{path="C:\\\\x\\\\y",msg="say \\"hi\\"\\nbye",who="zoë ☃ 🚀"} 1\n' +
        'b{} 2\n' +
        'c{x="1",} 3\n' +
        'd  {  x = "1" ,  y="2"  ,  }  4\n' +
        'e\t{x="1"}\t5\t6\n' +
        'f{x="1"}7\n',
    );
    expect(families.map((f) => f.samples[0])).toEqual([
      {
        name: 'a',
        labels: { path: 'C:\\x\\y', msg: 'say "hi"\nbye', who: 'zoë ☃ 🚀' },
        value: 1,
        timestampMs: undefined,
      },
      { name: 'b', labels: {}, value: 2, timestampMs: undefined },
      { name: 'c', labels: { x: '1' }, value: 3, timestampMs: undefined },
      { name: 'd', labels: { x: '1', y: '2' }, value: 4, timestampMs: undefined },
      { name: 'e', labels: { x: '1' }, value: 5, timestampMs: 6 },
      { name: 'f', labels: { x: '1' }, value: 7, timestampMs: undefined },
    ]);
  });

  it('accepts every value form Go accepts', () => {
    const values = text(
      [
        'NaN',
        'nan',
        '+Inf',
        '-Inf',
        'Inf',
        'inf',
        'Infinity',
        '-infinity',
        '1e3',
        '-1.5E-3',
        '.5',
        '1.',
        '+7',
        '-0',
        '1e-400',
      ]
        .map((v, i) => `v${i} ${v}\n`)
        .join(''),
    ).map((f) => f.samples[0]?.value);
    expect(values).toEqual([
      NaN,
      NaN,
      Infinity,
      -Infinity,
      Infinity,
      Infinity,
      Infinity,
      -Infinity,
      1000,
      -0.0015,
      0.5,
      1,
      7,
      -0,
      0,
    ]);
    expect(Object.is(values[13], -0)).toBe(true);
  });

  it.each(['0x10', '1_000', '1e400', '+nan', 'one', '1,5'])('rejects the value %s', (value) => {
    expectError(`ok 1\nbad ${value}\n`, 'text', 2, /expected float as value/);
  });

  it('reads integer millisecond timestamps, negative ones too', () => {
    const samples = text('a 1 -5\nb 1 +9\nc 1 9223372036854775807\n').map((f) => f.samples[0]?.timestampMs);
    expect(samples).toEqual([-5, 9, 2 ** 63]); // int64 max, as close as a double gets
  });

  it.each([
    ['a 1 1.5\n', /expected integer as timestamp, got "1.5"/],
    ['a 1 9223372036854775808\n', /expected integer as timestamp/],
    ['a 1 \n', /expected integer as timestamp, got ""/],
    ['a 1 2 \n', /spurious string after timestamp: " "/],
    ['a 1 2 3\n', /spurious string after timestamp/],
  ])('rejects the timestamp in %j', (input, message) => {
    expectError(input, 'text', 1, message);
  });

  it('makes untyped families of samples without metadata, named after the sample', () => {
    expect(text('foo_sum 1\nfoo_count 2\nbar_created 3\n').map((f) => [f.name, f.type, f.help])).toEqual([
      ['foo_sum', 'untyped', ''],
      ['foo_count', 'untyped', ''],
      ['bar_created', 'untyped', ''],
    ]);
  });

  it('groups _bucket/_sum/_count into a histogram and _sum/_count into a summary, normalising le and quantile', () => {
    const families = text(
      '# TYPE h histogram\n' +
        'h_bucket{le="1"} 1\nh_bucket{le="1.0"} 1\nh_bucket{le="0.5"} 0\nh_bucket{le="1000000"} 2\n' +
        'h_bucket{le="2.5e-5"} 0\nh_bucket{le="+inf"} 3\nh_sum 4.5\nh_count 3\nh_created 9\n' +
        '# TYPE s summary\ns{quantile="0"} 1\ns{quantile="1"} 2\ns{quantile="0.99"} 3\ns_sum 6\ns_count 3\n' +
        '# TYPE g gauge\ng{le="1",quantile="1"} 1\n',
    );
    expect(
      families.map((f) => [
        f.name,
        f.type,
        f.samples.map((s) => [s.name, s.labels.le ?? s.labels.quantile ?? '']),
      ]),
    ).toEqual([
      [
        'h',
        'histogram',
        [
          ['h_bucket', '1.0'],
          ['h_bucket', '1.0'],
          ['h_bucket', '0.5'],
          ['h_bucket', '1e+06'],
          ['h_bucket', '2.5e-05'],
          ['h_bucket', '+Inf'],
          ['h_sum', ''],
          ['h_count', ''],
        ],
      ],
      // _created is not special in the text format (Go's parser does not know it).
      ['h_created', 'untyped', [['h_created', '']]],
      [
        's',
        'summary',
        [
          ['s', '0.0'],
          ['s', '1.0'],
          ['s', '0.99'],
          ['s_sum', ''],
          ['s_count', ''],
        ],
      ],
      // le and quantile are ordinary labels outside histograms and summaries.
      ['g', 'gauge', [['g', '1']]],
    ]);
  });

  it('rejects le and quantile values that are not floats', () => {
    expectError(
      '# TYPE h histogram\nh_bucket{le="x"} 1\n',
      'text',
      2,
      /expected float as value for 'le' label, got "x"/,
    );
    expectError(
      '# TYPE s summary\ns_sum{quantile=""} 1\n',
      'text',
      2,
      /expected float as value for 'quantile' label/,
    );
  });

  it('collects the samples of a family even when other families come between them', () => {
    const families = text('# TYPE a gauge\na{x="1"} 1\nb 2\na{x="2"} 3\na{x="1"} 4\n');
    expect(families.map((f) => [f.name, f.samples.map((s) => s.value)])).toEqual([
      ['a', [1, 3, 4]],
      ['b', [2]],
    ]);
  });

  it('keeps duplicate series as they come', () => {
    expect(text('a{x="1"} 1\na{x="1"} 2\n')[0]?.samples.map((s) => s.value)).toEqual([1, 2]);
  });

  it('accepts HELP after samples (Go does) but not TYPE, and neither twice', () => {
    expect(text('a 1\n# HELP a late help\n')[0]?.help).toBe('late help');
    expectError(
      'a 1\n# TYPE a gauge\n',
      'text',
      2,
      /second TYPE line for metric name "a", or TYPE reported after samples/,
    );
    expectError('# TYPE a gauge\n# TYPE a counter\na 1\n', 'text', 2, /second TYPE line/);
    expectError('# HELP a one\n# HELP a two\na 1\n', 'text', 2, /second HELP line for metric name "a"/);
  });

  it('reads TYPE in any letter case and drops backslashes from it, as Go does', () => {
    expect(text('# TYPE a COUNTER\na 1\n# TYPE b Gauge\\\nb 1\n').map((f) => f.type)).toEqual([
      'counter',
      'gauge',
    ]);
    expectError('# TYPE a unknown\na 1\n', 'text', 1, /unknown metric type "unknown"/);
    expectError('# TYPE a counter \na 1\n', 'text', 1, /unknown metric type "counter "/);
  });

  it('accepts a gauge_histogram TYPE without samples but refuses its samples', () => {
    expect(text('# TYPE g gauge_histogram\n')).toEqual([]);
    expectError('# TYPE g gauge_histogram\ng 1\n', 'text', 2, /gauge_histogram/);
  });

  it('drops families that have no samples and keeps first-appearance order', () => {
    expect(text('# HELP z nothing\n# TYPE y gauge\nb 1\na 1\nb 2\n').map((f) => f.name)).toEqual(['b', 'a']);
  });

  it('stores a __proto__ label as an ordinary label', () => {
    const [f] = text('a{__proto__="x",constructor="y"} 1\n');
    const labels = f?.samples[0]?.labels ?? {};
    expect(Object.keys(labels)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it.each([
    ['ok 1\n1abc 2\n', 2, /invalid metric name/],
    ['ok 1\n{a="b"} 1\n', 2, /invalid metric name/],
    ['ok 1\nmetric-name 1\n', 2, /expected float as value, got "-name"/],
    ['ok 1\nm\n', 2, /expected float as value, got ""/],
    ['m{1a="b"} 1\n', 1, /invalid label name for metric "m"/],
    ['m{,} 1\n', 1, /invalid label name/],
    ['m{a} 1\n', 1, /expected '=' after label name, found '}'/],
    ['m{a=b} 1\n', 1, /expected '"' at start of label value, found 'b'/],
    ['m{a="b"c="d"} 1\n', 1, /unexpected end of label value "b"/],
    ['ok 1\nm{a="b} 1\nnext 2\n', 2, /label value "b} 1" contains unescaped new-line/],
    ['m{a="\\t"} 1\n', 1, /invalid escape sequence '\\t'/],
    ['m{a="1",a="2"} 1\n', 1, /duplicate label names for metric "m"/],
    ['m{__name__="x"} 1\n', 1, /label name "__name__" is reserved/],
    ['# HELP 1m x\n', 1, /invalid metric name in comment/],
    ['# HELP m{ x\n', 1, /invalid metric name in comment/],
    ['ok 1\nm 1\r\n', 2, /expected float as value, got "1\\r"/],
  ])('rejects %j at line %d', (input, line, message) => {
    expectError(input, 'text', line, message);
  });

  it.each(['m 1', 'm{a="b"', '# HELP m x', '# comment', 'ok 1\nm{a="b"} 1', 'm 1 123'])(
    'requires a final line feed after %j',
    (input) => {
      expectError(input, 'text', input.split('\n').length, /unexpected end of input stream/);
    },
  );

  it('accepts empty input and input of blanks only', () => {
    expect(text('')).toEqual([]);
    expect(text('\n\n  \t')).toEqual([]);
  });

  it('raises a HostscopeError with code E_PARSE', () => {
    const err = parseErrorOf('x y\n', 'text');
    expect(err).toBeInstanceOf(HostscopeError);
    expect(err.code).toBe('E_PARSE');
    expect(err.message).toBe('text format parsing error in line 1: expected float as value, got "y"');
  });
});

describe('parseExposition: OpenMetrics 1.0', () => {
  const full =
    '# TYPE acme_http_router_request_seconds summary\n' +
    '# UNIT acme_http_router_request_seconds seconds\n' +
    '# HELP acme_http_router_request_seconds Latency though all of ACME\'s "HTTP" request router.\\n\\\\ end\n' +
    'acme_http_router_request_seconds{path="/api/v1",method="GET",quantile="0.5"} 0.013\n' +
    'acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32\n' +
    'acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0\n' +
    'acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0\n' +
    '# TYPE go_goroutines gauge\n' +
    'go_goroutines 69 1700000000.5\n' +
    '# TYPE process_cpu_seconds counter\n' +
    '# UNIT process_cpu_seconds seconds\n' +
    '# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n' +
    'process_cpu_seconds_total 4.20072246e+06 # {trace_id="KOO5S4vxi0o"} 0.67\n' +
    'process_cpu_seconds_created 1.6e9\n' +
    '# TYPE request_size_bytes histogram\n' +
    'request_size_bytes_bucket{le="1"} 2 # {trace_id="x"} 0.5 1700000000.001\n' +
    'request_size_bytes_bucket{le="+Inf"} 3\n' +
    'request_size_bytes_sum 4.5\n' +
    'request_size_bytes_count 3\n' +
    'request_size_bytes_created 1600000000.123\n' +
    '# TYPE queue_depth gaugehistogram\n' +
    'queue_depth_bucket{le="10.0"} 4\n' +
    'queue_depth_bucket{le="+Inf"} 5\n' +
    'queue_depth_gcount 5\n' +
    'queue_depth_gsum 17\n' +
    '# TYPE build info\n' +
    'build_info{version="1.5.0"} 1\n' +
    '# TYPE feature stateset\n' +
    'feature{feature="a"} 1\n' +
    'feature{feature="b"} 0\n' +
    '# TYPE other unknown\n' +
    'other{} -Inf\n' +
    'bare NaN\n' +
    '# EOF\n';

  it('reads every metric type, mapping them onto hostscope types', () => {
    const families = om(full);
    expect(families.map((f) => [f.name, f.type, f.unit ?? '', f.samples.map((s) => s.name)])).toEqual([
      [
        'acme_http_router_request_seconds',
        'summary',
        'seconds',
        [
          'acme_http_router_request_seconds',
          'acme_http_router_request_seconds_sum',
          'acme_http_router_request_seconds_count',
          'acme_http_router_request_seconds_created',
        ],
      ],
      ['go_goroutines', 'gauge', '', ['go_goroutines']],
      [
        'process_cpu_seconds_total',
        'counter',
        'seconds',
        ['process_cpu_seconds_total', 'process_cpu_seconds_created'],
      ],
      [
        'request_size_bytes',
        'histogram',
        '',
        [
          'request_size_bytes_bucket',
          'request_size_bytes_bucket',
          'request_size_bytes_sum',
          'request_size_bytes_count',
          'request_size_bytes_created',
        ],
      ],
      [
        'queue_depth',
        'histogram',
        '',
        ['queue_depth_bucket', 'queue_depth_bucket', 'queue_depth_gcount', 'queue_depth_gsum'],
      ],
      ['build_info', 'gauge', '', ['build_info']],
      ['feature', 'gauge', '', ['feature', 'feature']],
      ['other', 'untyped', '', ['other']],
      ['bare', 'untyped', '', ['bare']],
    ]);
  });

  it('unescapes \\", \\\\ and \\n in HELP and reads values, labels and second timestamps', () => {
    const families = om(full);
    expect(families[0]?.help).toBe('Latency though all of ACME\'s "HTTP" request router.\n\\ end');
    expect(families[0]?.samples[0]).toEqual({
      name: 'acme_http_router_request_seconds',
      labels: { path: '/api/v1', method: 'GET', quantile: '0.5' },
      value: 0.013,
      timestampMs: undefined,
    });
    expect(families[1]?.samples[0]?.timestampMs).toBe(1700000000500);
    expect(families[2]?.samples[0]?.value).toBe(4.20072246e6);
    expect(families[3]?.samples.map((s) => s.labels.le)).toEqual([
      '1.0',
      '+Inf',
      undefined,
      undefined,
      undefined,
    ]);
    expect(families[3]?.samples[4]?.value).toBe(1600000000.123);
    expect(families[7]?.samples[0]).toEqual({
      name: 'other',
      labels: {},
      value: -Infinity,
      timestampMs: undefined,
    });
    expect(families[8]?.samples[0]?.value).toBeNaN();
  });

  it('turns float second timestamps into whole milliseconds', () => {
    const ts = (t: string): number | undefined => om(`a 1 ${t}\n# EOF\n`)[0]?.samples[0]?.timestampMs;
    expect(ts('1700000000')).toBe(1700000000000);
    expect(ts('1700000000.123')).toBe(1700000000123);
    expect(ts('1.5')).toBe(1500);
    expect(ts('-1.5')).toBe(-1500);
    expect(ts('1e3')).toBe(1000000);
  });

  it('accepts # EOF without a final line feed', () => {
    expect(om('a 1\n# EOF')).toHaveLength(1);
    expect(om('# EOF\n')).toEqual([]);
  });

  it('accepts client_golang writing a gauge x and a counter x_total as two families named x', () => {
    const families = om(
      '# HELP x Bytes in use.\n# TYPE x gauge\nx 1\n# HELP x Bytes allocated.\n# TYPE x counter\nx_total 2\n# EOF\n',
    );
    expect(families.map((f) => [f.name, f.type, f.help])).toEqual([
      ['x', 'gauge', 'Bytes in use.'],
      ['x_total', 'counter', 'Bytes allocated.'],
    ]);
  });

  it.each([
    ['a 1\n', 2, /missing "# EOF"/],
    ['', 1, /missing "# EOF"/],
    ['a 1\n# EOF\n\n', 3, /unexpected content after "# EOF"/],
    ['a 1\n# EOF\nb 1\n', 3, /unexpected content after "# EOF"/],
    ['a 1\n\nb 1\n# EOF\n', 2, /unexpected blank line/],
    ['# a comment\n# EOF\n', 1, /comments other than/],
    ['#TYPE a gauge\n# EOF\n', 1, /comments other than/],
    ['# HELP a\n# EOF\n', 1, /expected a space after the metric name/],
    ['# TYPE a untyped\n# EOF\n', 1, /unknown metric type "untyped"/],
    ['# TYPE a Gauge\n# EOF\n', 1, /unknown metric type "Gauge"/],
    ['# TYPE a gauge\n# TYPE a gauge\n# EOF\n', 2, /second TYPE line/],
    ['# HELP a x\n# HELP a y\n# EOF\n', 2, /second HELP line/],
    ['# UNIT a_seconds seconds\n# UNIT a_seconds seconds\n# EOF\n', 2, /second UNIT line/],
    ['# HELP a x \\t\n# EOF\n', 1, /invalid escape sequence '\\t'/],
    ['# TYPE a gauge\na 1\n# HELP a late\n# EOF\n', 3, /metadata for metric family "a" after its samples/],
    [
      '# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n# EOF\n',
      3,
      /metadata for metric family "a" after its samples/,
    ],
    ['# TYPE a counter\na 1\n# EOF\n', 2, /sample name "a" does not fit the counter metric family "a"/],
    ['a 1\nb 1\na 2\n# EOF\n', 3, /already appeared in an earlier metric family "a"/],
    [
      '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_bucket 1\n# EOF\n',
      3,
      /bucket sample "h_bucket" has no "le" label/,
    ],
    ['# TYPE h histogram\nh_bucket{le="x"} 1\n# EOF\n', 2, /expected float as value for 'le' label/],
    ['# TYPE s summary\ns 1\n# EOF\n', 2, /has no "quantile" label/],
    ['# TYPE f stateset\nf{g="a"} 1\n# EOF\n', 2, /has no "f" label/],
    ['# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n', 2, /unit "bytes" is not a suffix/],
    ['# TYPE a_x info\n# UNIT a_x x\n# EOF\n', 2, /info metric family cannot have a unit/],
    ['# UNIT a_x x\n# TYPE a_x stateset\n# EOF\n', 2, /stateset metric family cannot have a unit/],
    ['a{x="1",} 1\n# EOF\n', 1, /trailing comma/],
    ['a{x="1", y="2"} 1\n# EOF\n', 1, /invalid label name, found ' '/],
    ['a {x="1"} 1\n# EOF\n', 1, /invalid value/],
    ['a  1\n# EOF\n', 1, /invalid value ""/],
    ['a 1 \n# EOF\n', 1, /invalid timestamp ""/],
    ['a 1 NaN\n# EOF\n', 1, /invalid timestamp "NaN"/],
    ['a 1 1 2\n# EOF\n', 1, /unexpected content after the timestamp/],
    ['a{__x="1"} 1\n# EOF\n', 1, /label name "__x" is reserved/],
    ['a{x="1",x="2"} 1\n# EOF\n', 1, /duplicate label name "x"/],
    [
      'a 1 # {t="x"} 1\n# EOF\n',
      1,
      /exemplars are only allowed on counter _total and histogram _bucket samples/,
    ],
    [
      '# TYPE c counter\nc_total 1 # {t="x"}\n# EOF\n',
      2,
      /invalid exemplar: expected a space before its value/,
    ],
    ['# TYPE c counter\nc_total 1 #{t="x"} 1\n# EOF\n', 2, /invalid exemplar/],
    ['# TYPE c counter\nc_total 1 # {t="x"} 1 2 3\n# EOF\n', 2, /unexpected ' ' at the end of the sample/],
    [
      `# TYPE c counter\nc_total 1 # {t="${'x'.repeat(128)}"} 1\n# EOF\n`,
      2,
      /exemplar labels are longer than 128/,
    ],
    ['a 1\r\n# EOF\n', 1, /invalid value "1\\r"/],
    ['a 1', 1, /unexpected end of input/],
  ])('rejects %j at line %d', (input, line, message) => {
    expectError(input, 'openmetrics', line, message);
  });

  it('counts the 128 exemplar label characters in code points', () => {
    const sample = (v: string): string => `# TYPE c counter\nc_total 1 # {t="${v}"} 1\n# EOF\n`;
    expect(om(sample('☃'.repeat(127)))).toHaveLength(1);
    expect(om(sample('🚀'.repeat(127)))).toHaveLength(1);
    expectError(sample('🚀'.repeat(128)), 'openmetrics', 2, /longer than 128/);
  });

  it('reserves the sample names of a declared type even when unused', () => {
    expectError(
      '# TYPE a counter\na_total 1\na_created 1\n# TYPE b gauge\nb 1\na_total 2\n# EOF\n',
      'openmetrics',
      6,
      /earlier metric family "a"/,
    );
    expectError(
      '# TYPE x histogram\nx_sum 1\nx_bucket{le="+Inf"} 1\n# TYPE x_count gauge\n# EOF\n',
      'openmetrics',
      4,
      /earlier metric family "x"/,
    );
  });

  it('starts an unknown family for a sample name that does not fit the current family', () => {
    const families = om('# TYPE a gauge\na 1\na_extra 2\n# EOF\n');
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['a', 'gauge'],
      ['a_extra', 'untyped'],
    ]);
  });
});

describe('parseExposition: real node_exporter output', () => {
  it('parses node_exporter 1.5 text output completely', () => {
    const families = text(NODE_EXPORTER_TEXT);
    const lines = NODE_EXPORTER_TEXT.split('\n');
    expect(families).toHaveLength(lines.filter((l) => l.startsWith('# TYPE ')).length);
    expect(families.reduce((n, f) => n + f.samples.length, 0)).toBe(
      lines.filter((l) => l !== '' && !l.startsWith('#')).length,
    );
    const build = families.find((f) => f.name === 'node_exporter_build_info');
    expect(build?.type).toBe('gauge');
    expect(build?.samples[0]?.labels.version).toBe('1.5.0');
    const gc = families.find((f) => f.name === 'go_gc_duration_seconds');
    expect(gc?.type).toBe('summary');
    expect(gc?.samples.map((s) => s.labels.quantile ?? s.name)).toEqual([
      '0.0',
      '0.25',
      '0.5',
      '0.75',
      '1.0',
      'go_gc_duration_seconds_sum',
      'go_gc_duration_seconds_count',
    ]);
    const cpu = families.find((f) => f.name === 'node_cpu_seconds_total');
    expect(cpu?.type).toBe('counter');
    expect(cpu?.help).toBe('Seconds the CPUs spent in each mode.');
    expect(new Set(cpu?.samples.map((s) => s.labels.mode))).toEqual(
      new Set(['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user']),
    );
  });

  it('reads the same data from its OpenMetrics rendering (# EOF, _total counters, unknown, x/x_total)', () => {
    expect(om(NODE_EXPORTER_OM)).toEqual(text(NODE_EXPORTER_TEXT));
  });
});

describe('parseExposition: round trip with src/exposition/encode', () => {
  const families: MetricFamily[] = [
    {
      name: 'rt_requests_total',
      help: 'Requests with "quotes", a backslash \\ and a\nnewline.',
      type: 'counter',
      samples: [
        { labels: { code: '200', path: '/a "b" \\ c\nd' }, value: 1027 },
        { labels: { code: '500', path: 'zoë ☃ 🚀' }, value: 3, timestampMs: 1395066363000 },
      ],
    },
    {
      name: 'rt_temperature_celsius',
      help: '',
      type: 'gauge',
      samples: [
        { labels: {}, value: -12.5 },
        { labels: { sensor: 'a' }, value: NaN },
        { labels: { sensor: 'b' }, value: Infinity },
        { labels: { sensor: 'c' }, value: -Infinity },
        { labels: { sensor: 'd' }, value: 1.7976931348623157e308 },
        { labels: { sensor: 'e' }, value: 5e-324 },
      ],
    },
    { name: 'rt_untyped', help: 'Untyped.', type: 'untyped', samples: [{ labels: { x: '' }, value: 0 }] },
    {
      name: 'rt_latency_seconds',
      help: 'A histogram.',
      type: 'histogram',
      samples: [
        { suffix: '_bucket', labels: { le: '0.005' }, value: 1 },
        { suffix: '_bucket', labels: { le: '1.0' }, value: 2 },
        { suffix: '_bucket', labels: { le: '1e+06' }, value: 3 },
        { suffix: '_bucket', labels: { le: '+Inf' }, value: 4 },
        { suffix: '_sum', labels: {}, value: 12.5 },
        { suffix: '_count', labels: {}, value: 4 },
      ],
    },
    {
      name: 'rt_size_bytes',
      help: 'A summary.',
      type: 'summary',
      samples: [
        { labels: { quantile: '0.5', job: 'x' }, value: 10 },
        { labels: { quantile: '0.99', job: 'x' }, value: 99 },
        { suffix: '_sum', labels: { job: 'x' }, value: 1000 },
        { suffix: '_count', labels: { job: 'x' }, value: 20 },
      ],
    },
  ];

  it.each<InputFormat>(['text', 'openmetrics'])('encode(%s) -> parse gives the same families', (format) => {
    const parsed = parseExposition(encode(families, format), format);
    const expected = [...families].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(toMetricFamilies(parsed)).toEqual(expected);
  });

  it.each<InputFormat>(['text', 'openmetrics'])(
    're-encoding the parsed node_exporter output in %s gives the same data',
    (format) => {
      const first = text(NODE_EXPORTER_TEXT);
      const second = parseExposition(encode(toMetricFamilies(first), format), format);
      expect(canonical(second)).toEqual(canonical(first));
    },
  );
});

describe('parseExposition: robustness', () => {
  /** Deterministic pseudo-random numbers (a linear congruential generator), so failures reproduce. */
  function random(seed: number): (n: number) => number {
    let state = seed;
    return (n) => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
  }

  it('throws nothing but ParseError on mutated real input and on garbage, and always terminates', () => {
    const rnd = random(42);
    const pieces = [
      '{',
      '}',
      '"',
      '\\',
      '\n',
      ' ',
      '\t',
      '#',
      '# EOF\n',
      '# TYPE ',
      '# HELP ',
      'le="',
      '=',
      ',',
      '_bucket',
      'NaN',
      '1e9',
      '\r',
      '\u0000',
      '\ud800',
      '🚀',
      'é',
    ];
    const head = (s: string): string => s.slice(0, s.lastIndexOf('\n', 3000) + 1);
    const sources = [head(NODE_EXPORTER_TEXT), `${head(NODE_EXPORTER_OM)}# EOF\n`];
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      let input = sources[rnd(2)] ?? '';
      if (i % 10 === 0) input = Array.from({ length: rnd(200) }, () => pieces[rnd(pieces.length)]).join('');
      for (let k = 0, m = 1 + rnd(4); k < m; k++) {
        const at = rnd(input.length + 1);
        input = input.slice(0, at) + (pieces[rnd(pieces.length)] ?? '') + input.slice(at + rnd(3));
      }
      for (const format of ['text', 'openmetrics'] as const) {
        try {
          parseExposition(input, format);
          parsed++;
        } catch (err) {
          expect(err).toBeInstanceOf(ParseError);
        }
      }
    }
    // The mutations leave some inputs valid; the test must exercise both outcomes.
    expect(parsed).toBeGreaterThan(100);
  });

  it('handles pathological inputs quickly', () => {
    const started = Date.now();
    for (const input of [
      '{'.repeat(100000),
      'a{' + 'b="c",'.repeat(20000) + '} 1\n',
      '#'.repeat(100000),
      'a ' + '1'.repeat(100000) + '\n',
      '\\'.repeat(100000),
    ]) {
      for (const format of ['text', 'openmetrics'] as const) {
        try {
          parseExposition(input, format);
        } catch (err) {
          expect(err).toBeInstanceOf(ParseError);
        }
      }
    }
    expect(Date.now() - started).toBeLessThan(10000);
  });
});
