import { httpDate } from '../../../src/http/http-date';

describe('httpDate', () => {
  it('writes what Date.prototype.toUTCString writes, as Node sends it', () => {
    const times = [
      0,
      999,
      1_000,
      1_733_330_000_007,
      Date.UTC(2026, 0, 2, 3, 4, 5),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    ];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000 * 3 + 3_723_456)
      times.push(t);
    for (const t of times) expect(httpDate(t)).toBe(new Date(t).toUTCString());
  });

  it('changes with the second', () => {
    const t = Date.UTC(2026, 11, 4, 17, 10, 0, 500);
    expect(httpDate(t)).toBe('Fri, 04 Dec 2026 17:10:00 GMT');
    expect(httpDate(t + 400)).toBe('Fri, 04 Dec 2026 17:10:00 GMT');
    expect(httpDate(t + 500)).toBe('Fri, 04 Dec 2026 17:10:01 GMT');
  });
});
