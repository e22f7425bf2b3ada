import { FlagValues } from '../../../src/config/flags';
import { nowFlagProblems, nowFromFlags, parseRfc3339 } from '../../../src/config/now';

const flags = (now: string): FlagValues => new FlagValues(new Map([['now', now]]));

describe('--now', () => {
  it('reads RFC 3339 instants with Z or an offset, and fractions', () => {
    expect(parseRfc3339('2025-06-02T08:00:00Z')).toBe(Date.UTC(2025, 5, 2, 8));
    expect(parseRfc3339('2025-06-02T10:00:00+02:00')).toBe(Date.UTC(2025, 5, 2, 8));
    expect(parseRfc3339('2025-06-02T08:00:00.250Z')).toBe(Date.UTC(2025, 5, 2, 8, 0, 0, 250));
  });

  it('refuses what is not one, naming the flag', () => {
    for (const bad of [
      'yesterday',
      '2025-06-02',
      '2025-06-02T08:00:00',
      '1717315200',
      '2025-13-02T08:00:00Z',
    ])
      expect(nowFlagProblems(flags(bad))).toEqual([
        `--now (env HOSTSCOPE_NOW): expected an RFC 3339 time like 2025-06-02T08:00:00Z, got "${bad}"`,
      ]);
    expect(nowFlagProblems(flags(''))).toEqual([]);
  });

  it('is the clock when empty', () => {
    expect(nowFromFlags(flags(''), () => 42)).toBe(42);
    expect(nowFromFlags(flags('2025-06-02T08:00:00Z'), () => 42)).toBe(Date.UTC(2025, 5, 2, 8));
  });
});
