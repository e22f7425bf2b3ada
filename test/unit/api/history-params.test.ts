import {
  DEFAULT_RATES_TOP,
  DEFAULT_TOP,
  MAX_TOP,
  parseContainersParams,
  parseRatesParams,
} from '../../../src/api/history';
import { DEFAULT_POINTS, MAX_MATCHERS } from '../../../src/api/params';

const NOW = 1_700_000_000;
const rates = (qs: string): ReturnType<typeof parseRatesParams> =>
  parseRatesParams(new URLSearchParams(qs), NOW);
const bad = (r: { ok: boolean; error?: { parameter: string } }): string | undefined =>
  r.ok ? undefined : r.error?.parameter;

describe('parseRatesParams', () => {
  it('defaults: the last hour, 500 points, raw, the top 10 groups, no `by`', () => {
    const r = rates('metric=node_cpu_seconds_total&match[instance]=a:9100');
    expect(r).toEqual({
      ok: true,
      value: {
        metric: 'node_cpu_seconds_total',
        match: { instance: 'a:9100' },
        exclude: [],
        top: DEFAULT_RATES_TOP,
        from: NOW - 3600,
        to: NOW,
        points: DEFAULT_POINTS,
        source: 'raw',
        step: Math.ceil(3600 / DEFAULT_POINTS),
      },
    });
  });

  it('keeps every exclusion, even two on one label, and `by`', () => {
    const r = rates('metric=m&exclude[device]=lo&exclude[job]=x&by=device&top=3');
    expect(r.ok && r.value.exclude).toEqual([{ device: 'lo' }, { job: 'x' }]);
    expect(r.ok && [r.value.by, r.value.top]).toEqual(['device', 3]);
  });

  it('refuses what it cannot bound or understand, naming the parameter', () => {
    expect(bad(rates(''))).toBe('metric');
    expect(bad(rates('metric=m&top=0'))).toBe('top');
    expect(bad(rates(`metric=m&top=${MAX_TOP + 1}`))).toBe('top');
    expect(bad(rates('metric=m&by=1x'))).toBe('by');
    expect(bad(rates('metric=m&exclude[d]=a%00b'))).toBe('exclude[d]');
    expect(bad(rates('metric=m&group=x'))).toBe('group');
    const many = Array.from({ length: MAX_MATCHERS + 1 }, (_, i) =>
      i % 2 === 0 ? `match[l${i}]=v` : `exclude[l${i}]=v`,
    ).join('&');
    expect(bad(rates(`metric=m&${many}`))).toBe(`match[l${MAX_MATCHERS}]`);
  });
});

describe('parseContainersParams (and filesystems)', () => {
  it('needs an instance; top defaults to 5; matchers are not taken', () => {
    const ok = parseContainersParams(new URLSearchParams('instance=a:9100&from=0&to=864000'), NOW);
    expect(ok.ok && [ok.value.instance, ok.value.top, ok.value.source, ok.value.step]).toEqual([
      'a:9100',
      DEFAULT_TOP,
      'hourly',
      3600,
    ]);
    expect(bad(parseContainersParams(new URLSearchParams('top=2'), NOW))).toBe('instance');
    expect(bad(parseContainersParams(new URLSearchParams('instance=a&match[x]=y'), NOW))).toBe('match[x]');
    expect(bad(parseContainersParams(new URLSearchParams('instance=a&instance=b'), NOW))).toBe('instance');
  });
});
