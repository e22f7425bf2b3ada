import type { Clock } from '../config/clock';

/** A step of the wall clock between two ticks beyond this (against the monotonic clock) is a jump. */
export const CLOCK_JUMP_TOLERANCE_MS = 1000;

export interface ClockJump {
  /** How far the wall clock moved beyond the time that passed: + forward, - back. */
  readonly jumpMs: number;
  /** The tick the schedule expected, and the one it runs instead (both on the clock). */
  readonly expectedMs: number;
  readonly tickMs: number;
}

export interface ScheduleEvents {
  /** A tick: `tickMs` is the slot on the clock (a multiple of the interval), the scrape time of the round. */
  tick(tickMs: number): void;
  /** The wall clock jumped between two ticks; called once per jump, before that tick. */
  clockJumped(jump: ClockJump): void;
  /** The timer fired a whole interval or more late (a blocked event loop): `missed` slots passed unrun. */
  late(missed: number, lateMs: number): void;
}

/**
 * The scrape schedule: ticks at the multiples of the interval on the sink's clock (as node-cron's
 * `*\/N * * * * *` does), each timer armed on Node's monotonic timers for the time left to the next slot.
 *
 * The difference from node-cron is what happens when the wall clock jumps. node-cron plans its next
 * run on the wall clock and checks it when its timer fires: a jump forward of an hour makes it report
 * 3,600 missed executions of a 1 s schedule, and a jump back of 70 minutes makes it wait 70 minutes for
 * the slot it expected, scraping nothing meanwhile. Here a tick that finds the clock moved by more than
 * the time that passed (a jump: NTP stepping the clock, a VM resumed, an operator's `date -s`) is run at
 * once at the slot nearest the new time, logged once (`clockJumped`), and the schedule goes on from the
 * new time: rounds stay one interval apart in real time, and their scrape times follow the clock, as
 * Prometheus' do (its scrape loops run on a monotonic ticker and stamp samples with the wall clock).
 */
export class ScrapeSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The slot the armed timer is for, on the clock, and when it was armed (on the clock, monotonic). */
  private expected = 0;
  private armedAt = 0;
  private armedAtMono = 0;
  private lastTick: number | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly events: ScheduleEvents,
    /** The monotonic clock (tests may replace it together with the timers). */
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    if (!(intervalMs >= 1)) throw new Error(`scrape interval must be at least 1 ms, got ${intervalMs}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm(this.nextSlotAfter(this.clock.now()));
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The first slot strictly after `ms` (node-cron's next match after the current second). */
  private nextSlotAfter(ms: number): number {
    return (Math.floor(ms / this.intervalMs) + 1) * this.intervalMs;
  }

  private arm(slot: number): void {
    if (!this.running) return;
    const now = this.clock.now();
    this.expected = slot;
    this.armedAt = now;
    this.armedAtMono = this.monotonic();
    this.timer = setTimeout(() => this.fire(), Math.max(0, slot - now));
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    // How much further the clock moved than the time that passed since the timer was armed.
    const jumpMs = now - this.armedAt - (this.monotonic() - this.armedAtMono);
    let slot: number;
    if (Math.abs(jumpMs) > CLOCK_JUMP_TOLERANCE_MS) {
      slot = Math.round(now / this.intervalMs) * this.intervalMs;
      // Never the slot of the last tick again: two rounds at one scrape time would collide. (A jump back
      // of less than two intervals so delays the next round by up to one interval.)
      if (slot === this.lastTick) slot += this.intervalMs;
      this.events.clockJumped({ jumpMs, expectedMs: this.expected, tickMs: slot });
    } else {
      slot = this.expected;
      const lateMs = now - slot;
      if (lateMs >= this.intervalMs) {
        // A timer this late means a blocked event loop: run the latest slot passed, once.
        const missed = Math.floor(lateMs / this.intervalMs);
        slot += missed * this.intervalMs;
        this.events.late(missed, lateMs);
      }
    }
    this.lastTick = slot;
    try {
      this.events.tick(slot);
    } finally {
      this.arm(slot + this.intervalMs);
    }
  }
}
