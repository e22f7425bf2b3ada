import pino from 'pino';
import { isoTime } from '../../../src/log/logger';

describe('isoTime', () => {
  afterEach(() => jest.useRealTimers());

  it("writes what pino's isoTime writes", () => {
    const times = [
      0,
      1,
      999,
      1_733_330_000_007,
      Date.UTC(2026, 0, 2, 3, 4, 5, 60),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    ];
    for (const t of times) {
      jest.useFakeTimers({ now: t });
      expect(isoTime()).toBe(pino.stdTimeFunctions.isoTime());
    }
  });
});
