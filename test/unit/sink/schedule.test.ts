import { systemClock, type Clock } from '../../../src/config/clock';
import { ScrapeSchedule, type ClockJump } from '../../../src/sink/schedule';

const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Date.UTC(2030, 0, 1, 14, 20, 0, 300);

/** A schedule on `clock`, recording its ticks, jumps and late slots. */
function record(intervalMs: number, clock: Clock, monotonic?: () => number) {
  const ticks: number[] = [];
  const jumps: ClockJump[] = [];
  const late: number[] = [];
  const schedule = new ScrapeSchedule(
    intervalMs,
    clock,
    {
      tick: (t) => ticks.push(t),
      clockJumped: (j) => jumps.push(j),
      late: (missed) => late.push(missed),
    },
    monotonic,
  );
  return { schedule, ticks, jumps, late };
}

describe('scrape schedule', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('ticks at the multiples of the interval on the clock, one interval apart', () => {
    jest.useFakeTimers({ now: T0 });
    const r = record(5000, systemClock);
    r.schedule.start();
    jest.advanceTimersByTime(30_000);
    r.schedule.stop();
    const first = Math.ceil(T0 / 5000) * 5000;
    expect(r.ticks).toEqual([0, 1, 2, 3, 4, 5].map((k) => first + k * 5000));
    expect(r.jumps).toEqual([]);
  });

  // A real jump of the system clock (jest moves Date, not the timers): node-cron, which the sink scheduled
  // with before, reported 3,600 missed executions of a 1 s schedule for a jump of an hour forward, and ran
  // nothing for 70 minutes after a jump of 70 minutes back.
  it('goes on every interval through a jump of the system clock forward, then back, each logged once', () => {
    jest.useFakeTimers({ now: T0 });
    const r = record(1000, systemClock);
    r.schedule.start();
    jest.advanceTimersByTime(5000);
    expect(r.ticks).toHaveLength(5);
    jest.setSystemTime(Date.now() + HOUR);
    jest.advanceTimersByTime(5000);
    jest.setSystemTime(Date.now() - 70 * MIN);
    jest.advanceTimersByTime(10_000);
    r.schedule.stop();
    // 20 s passed: 20 rounds, one a second, stamped with the clock of their moment.
    expect(r.ticks).toHaveLength(20);
    const base = Math.ceil(T0 / 1000) * 1000;
    expect(r.ticks.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((k) => base + k * 1000));
    expect(r.ticks.slice(5, 10)).toEqual([5, 6, 7, 8, 9].map((k) => base + HOUR + k * 1000));
    expect(r.ticks.slice(10)).toEqual(
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((k) => base - 10 * MIN + k * 1000),
    );
    expect(r.jumps.map((j) => Math.round(j.jumpMs / 1000))).toEqual([3600, -4200]);
    expect(r.late).toEqual([]);
  });

  it('runs the latest slot once, and counts the others, when its timer fires late (a blocked loop)', () => {
    jest.useFakeTimers({ now: T0 });
    // The clock and the monotonic clock both move 3.5 s while the first tick runs: a blocked event loop.
    let blocked = 0;
    const clock: Clock = { now: () => Date.now() + blocked };
    const mono = (): number => performance.now() + blocked;
    const ticks: number[] = [];
    const late: number[] = [];
    const jumps: ClockJump[] = [];
    const schedule = new ScrapeSchedule(
      1000,
      clock,
      {
        tick: (t) => {
          ticks.push(t);
          if (ticks.length === 1) blocked = 3500;
        },
        clockJumped: (j) => jumps.push(j),
        late: (missed) => late.push(missed),
      },
      mono,
    );
    schedule.start();
    jest.advanceTimersByTime(3000);
    schedule.stop();
    expect(jumps).toEqual([]);
    expect(late).toEqual([2]);
    const first = ticks[0] as number;
    expect(ticks.slice(0, 3)).toEqual([first, first + 3000, first + 4000]);
  });

  it('never stamps a round like the one before it when a small jump back rounds to the same slot', () => {
    let offset = 0;
    jest.useFakeTimers({ now: T0 });
    const r = record(1000, { now: () => Date.now() + offset });
    r.schedule.start();
    jest.advanceTimersByTime(3000);
    // 1.4 s back: the next tick would round to the last one's slot.
    offset = -1400;
    jest.advanceTimersByTime(4000);
    r.schedule.stop();
    expect(r.jumps).toHaveLength(1);
    for (let i = 1; i < r.ticks.length; i++) expect(r.ticks[i]).toBeGreaterThan(r.ticks[i - 1] as number);
    expect(r.ticks.length).toBeGreaterThanOrEqual(5);
  });
});
