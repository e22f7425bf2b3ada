import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  formatGoFloat,
  formatOpenMetricsFloat,
  parseFloatText,
  parseFloatToken,
} from '../../../src/expfmt/float';

const NODE_EXPORTER = path.join(__dirname, '../../fixtures/expfmt/node_exporter.prom');

describe('parseFloatText (Go strconv.ParseFloat without hex and underscores)', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['+7', 7],
    ['-3', -3],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1.', 1],
    ['1e3', 1000],
    ['1E3', 1000],
    ['-1.5e-3', -0.0015],
    ['2.5e+06', 2500000],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['0.1', 0.1],
    ['123456789012345678901234567890', 1.2345678901234568e29],
    ['0.000000000000000000000000000001', 1e-30],
    ['1e-400', 0],
    ['Inf', Infinity],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['inf', Infinity],
    ['INFINITY', Infinity],
    ['-infinity', -Infinity],
  ])('%s -> %d', (text, expected) => {
    expect(parseFloatText(text)).toBe(expected);
  });

  it('keeps the sign of -0 and reads NaN in any case', () => {
    expect(Object.is(parseFloatText('-0'), -0)).toBe(true);
    expect(parseFloatText('NaN')).toBeNaN();
    expect(parseFloatText('nan')).toBeNaN();
    expect(parseFloatText('nAn')).toBeNaN();
  });

  it('is exact where a naive digit loop would round differently', () => {
    for (const text of [
      '0.3',
      '2.675',
      '9007199254740993',
      '1.0000000000000002',
      '4.35',
      '5e-324',
      '123.456e-7',
    ]) {
      expect(parseFloatText(text)).toBe(Number(text));
    }
  });

  it.each([
    '',
    '+',
    '-',
    '.',
    'e3',
    '1e',
    '1e+',
    '1.2.3',
    '0x10',
    '0x1p3',
    '1_000',
    '1e400',
    '-1e400',
    '+nan',
    '-NaN',
    'infin',
    'Infinityy',
    ' 1',
    '1 ',
    '1\r',
    'one',
  ])('rejects %j', (text) => {
    expect(parseFloatText(text)).toBeUndefined();
  });

  it('rejects Inf and NaN when told to (OpenMetrics timestamps)', () => {
    expect(parseFloatToken('Inf', 0, 3, false)).toBeUndefined();
    expect(parseFloatToken('NaN', 0, 3, false)).toBeUndefined();
    expect(parseFloatToken('1.5', 0, 3, false)).toBe(1.5);
  });

  it('parses only the given range of the string', () => {
    expect(parseFloatToken('x 12.5 y', 2, 6)).toBe(12.5);
  });
});

describe('formatGoFloat (Go strconv.FormatFloat(v, g, -1, 64))', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [-1, '-1'],
    [0.5, '0.5'],
    [0.25, '0.25'],
    [100000, '100000'],
    [123456.789, '123456.789'],
    [1000000, '1e+06'],
    [1234567.8, '1.2345678e+06'],
    [1.7e9, '1.7e+09'],
    [1795627757, '1.795627757e+09'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [2.5e-5, '2.5e-05'],
    [-2.5e-7, '-2.5e-07'],
    [1e21, '1e+21'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
    [2 ** 64, '1.8446744073709552e+19'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('%d -> %s', (value, expected) => {
    expect(formatGoFloat(value)).toBe(expected);
  });

  it('writes every value of a real node_exporter exposition exactly as Go did', () => {
    const lines = readFileSync(NODE_EXPORTER, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(400);
    for (const line of lines) {
      const text = line.slice(line.lastIndexOf(' ') + 1);
      const value = parseFloatText(text);
      expect(value).toBeDefined();
      expect(formatGoFloat(value as number)).toBe(text);
    }
  });
});

describe('formatOpenMetricsFloat (Prometheus labels.FormatOpenMetricsFloat)', () => {
  it.each([
    [1, '1.0'],
    [0, '0.0'],
    [-0, '0.0'],
    [-1, '-1.0'],
    [0.5, '0.5'],
    [10, '10.0'],
    [100000, '100000.0'],
    [1000000, '1e+06'],
    [2.5e-5, '2.5e-05'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('%d -> %s', (value, expected) => {
    expect(formatOpenMetricsFloat(value)).toBe(expected);
  });
});
