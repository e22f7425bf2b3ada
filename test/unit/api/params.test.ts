import { counterRate, filesystemFigures } from '../../../src/api/overview';
import {
  DEFAULT_POINTS,
  MAX_POINTS,
  MAX_RANGE_SECONDS,
  parseSeriesParams,
  parseTime,
  type SeriesQuery,
} from '../../../src/api/params';

const NOW = 1_700_000_000;
const parse = (qs: string): ReturnType<typeof parseSeriesParams> =>
  parseSeriesParams(new URLSearchParams(qs), NOW);
const ok = (qs: string): SeriesQuery => {
  const r = parse(qs);
  if (!r.ok) throw new Error(`${r.error.parameter}: ${r.error.message}`);
  return r.value;
};
const badParam = (qs: string): string => {
  const r = parse(qs);
  if (r.ok) throw new Error(`accepted ${qs}`);
  return r.error.parameter;
};

describe('parseTime', () => {
  it('takes unix seconds and RFC 3339 with Z, offsets and fractions', () => {
    expect(parseTime('1700000000')).toBe(1_700_000_000);
    expect(parseTime('1700000000.5')).toBe(1_700_000_000.5);
    expect(parseTime('2023-11-14T22:13:20Z')).toBe(1_700_000_000);
    expect(parseTime('2023-11-14T23:13:20+01:00')).toBe(1_700_000_000);
    expect(parseTime('2023-11-14T22:13:20.250Z')).toBe(1_700_000_000.25);
    expect(parseTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29) / 1000);
  });
  it('refuses anything else', () => {
    for (const t of [
      '',
      'now',
      '1e9',
      '2023-11-14',
      '2023-11-14T22:13:20',
      '2023-13-45T99:00:00Z',
      '2024-02-30T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '0x10',
      'Infinity',
    ])
      expect(parseTime(t)).toBeUndefined();
  });
});

describe('parseSeriesParams', () => {
  it('defaults: the last hour before now, 500 points, raw samples', () => {
    expect(ok('metric=node_load1')).toEqual({
      metric: 'node_load1',
      match: {},
      from: NOW - 3600,
      to: NOW,
      points: DEFAULT_POINTS,
      source: 'raw',
      step: Math.ceil(3600 / DEFAULT_POINTS),
    });
  });

  it('reads label matchers, times and points', () => {
    const q = ok(
      `metric=node_cpu_seconds_total&match[instance]=web-1:9100&match[mode]=idle&from=${NOW - 600}&to=2023-11-14T22:13:20Z&points=60`,
    );
    expect(q.match).toEqual({ instance: 'web-1:9100', mode: 'idle' });
    expect([q.from, q.to, q.points, q.step, q.source]).toEqual([NOW - 600, NOW, 60, 10, 'raw']);
  });

  it('keeps hostile label values as they are (they only ever become a bound parameter)', () => {
    const v = `x'); DROP TABLE hostscope.series; --"]}\u00e9`;
    expect(ok(`metric=up&match[job]=${encodeURIComponent(v)}`).match).toEqual({ job: v });
  });

  it('picks hourly rollups for long ranges or buckets of an hour or more, in whole hours', () => {
    const week = ok(`metric=up&from=${NOW - 7 * 86_400}&to=${NOW}&points=5000`);
    expect([week.source, week.step]).toEqual(['raw', Math.ceil((7 * 86_400) / 5000)]);
    const month = ok(`metric=up&from=${NOW - 30 * 86_400}&to=${NOW}&points=5000`);
    expect([month.source, month.step]).toEqual(['hourly', 3600]);
    const coarse = ok(`metric=up&from=${NOW - 86_400}&to=${NOW}&points=10`);
    expect([coarse.source, coarse.step]).toEqual(['hourly', 3 * 3600]);
    const forced = ok(`metric=up&from=${NOW - 86_400}&to=${NOW}&source=hourly`);
    expect([forced.source, forced.step]).toEqual(['hourly', 3600]);
    expect(ok(`metric=up&from=${NOW - 30 * 86_400}&to=${NOW}&source=raw`).source).toBe('raw');
  });

  it('never makes more buckets than points', () => {
    for (const [range, points] of [
      [3600, 7],
      [86_400 * 3 + 17, 4999],
      [MAX_RANGE_SECONDS, MAX_POINTS],
      [10, 5000],
    ] as const) {
      const q = ok(`metric=up&from=${NOW - range}&to=${NOW}&points=${points}`);
      expect(Math.ceil((q.to - q.from) / q.step)).toBeLessThanOrEqual(points);
    }
  });

  it.each([
    ['', 'metric'],
    ['metric=', 'metric'],
    ['metric=1abc', 'metric'],
    ['metric=up{job="x"}', 'metric'],
    ['metric=up&metric=up', 'metric'],
    ['metric=up&match[1bad]=x', 'match[1bad]'],
    ['metric=up&match[]=x', 'match[]'],
    ['metric=up&match[job]=', 'match[job]'],
    ['metric=up&match[job]=a&match[job]=b', 'match[job]'],
    ['metric=up&label=x', 'label'],
    ['metric=up&from=yesterday', 'from'],
    ['metric=up&to=2024-01-01', 'to'],
    [`metric=up&from=${NOW}&to=${NOW}`, 'from'],
    [`metric=up&from=${NOW}&to=${NOW - 1}`, 'from'],
    [`metric=up&from=${NOW - MAX_RANGE_SECONDS - 1}&to=${NOW}`, 'from'],
    ['metric=up&from=-5&to=10', 'from'],
    ['metric=up&points=0', 'points'],
    [`metric=up&points=${MAX_POINTS + 1}`, 'points'],
    ['metric=up&points=1.5', 'points'],
    ['metric=up&points=ten', 'points'],
    ['metric=up&source=both', 'source'],
  ])('refuses %s, naming %s', (qs, parameter) => {
    expect(badParam(qs)).toBe(parameter);
  });

  it('refuses an overlong label value and a 21st matcher, naming them', () => {
    expect(badParam(`metric=up&match[job]=${'x'.repeat(5000)}`)).toBe('match[job]');
    expect(badParam(`metric=up&${Array.from({ length: 21 }, (_, i) => `match[l${i}]=v`).join('&')}`)).toBe(
      'match[l20]',
    );
  });
});

describe('overview figures', () => {
  it('counter rates: null without two samples or after a reset', () => {
    expect(counterRate(100, 700, 60)).toBe(10);
    expect(counterRate(100, 100, 0)).toBeNull();
    expect(counterRate(700, 100, 60)).toBeNull();
    expect(counterRate(null, 100, 60)).toBeNull();
  });
  it('filesystem forecast: the used bytes in 24 h by the trend, clamped to the size', () => {
    const f = filesystemFigures(1000, 400, 1 / 864);
    expect(f.used_percent).toBeCloseTo(60);
    expect(f.growth_bytes_per_day).toBeCloseTo(100);
    expect(f.forecast_used_percent_24h).toBeCloseTo(70);
    expect(f.full_in_seconds).toBeCloseTo(400 * 864);
    expect(filesystemFigures(1000, 10, 1).forecast_used_percent_24h).toBe(100);
    expect(filesystemFigures(1000, 400, -1).full_in_seconds).toBeNull();
    expect(filesystemFigures(1000, 400, null).forecast_used_percent_24h).toBeNull();
  });
});
