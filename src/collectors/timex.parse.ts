/**
 * Decoding of adjtimex(2) results into node_timex_* values, with node_exporter's unit handling:
 * `offset` and `jitter` are in nanoseconds when STA_NANO is set in `status`, microseconds otherwise;
 * `maxerror`, `esterror` and `tick` are always microseconds; `freq`, `ppsfreq` and `stabil` are
 * scaled parts per million (ppm << 16).
 */

/** The integer fields of glibc's `struct timex` that node_exporter reports. */
export interface TimexFields {
  readonly offset: number;
  readonly freq: number;
  readonly maxerror: number;
  readonly esterror: number;
  readonly status: number;
  readonly constant: number;
  readonly tick: number;
  readonly ppsfreq: number;
  readonly jitter: number;
  readonly shift: number;
  readonly stabil: number;
  readonly jitcnt: number;
  readonly calcnt: number;
  readonly errcnt: number;
  readonly stbcnt: number;
  readonly tai: number;
}

export interface TimexValues {
  readonly syncStatus: number;
  readonly offsetSeconds: number;
  readonly frequencyAdjustmentRatio: number;
  readonly maxerrorSeconds: number;
  readonly estimatedErrorSeconds: number;
  readonly status: number;
  readonly loopTimeConstant: number;
  readonly tickSeconds: number;
  readonly ppsFrequencyHertz: number;
  readonly ppsJitterSeconds: number;
  readonly ppsShiftSeconds: number;
  readonly ppsStabilityHertz: number;
  readonly ppsJitterTotal: number;
  readonly ppsCalibrationTotal: number;
  readonly ppsErrorTotal: number;
  readonly ppsStabilityExceededTotal: number;
  readonly taiOffsetSeconds: number;
}

/** adjtimex(2) return value: the clock is not synchronised. */
export const TIME_ERROR = 5;
/** `status` bit: offset and jitter are in nanoseconds. */
export const STA_NANO = 0x2000;

const PPM16 = 1_000_000 * 65_536;

/** Turns one adjtimex(2) reading (its return value and the filled struct) into metric values. */
export function decodeTimex(clockState: number, t: TimexFields): TimexValues {
  const divisor = (t.status & STA_NANO) !== 0 ? 1e9 : 1e6;
  return {
    syncStatus: clockState === TIME_ERROR ? 0 : 1,
    offsetSeconds: t.offset / divisor,
    frequencyAdjustmentRatio: 1 + t.freq / PPM16,
    maxerrorSeconds: t.maxerror / 1e6,
    estimatedErrorSeconds: t.esterror / 1e6,
    status: t.status,
    loopTimeConstant: t.constant,
    tickSeconds: t.tick / 1e6,
    ppsFrequencyHertz: t.ppsfreq / PPM16,
    ppsJitterSeconds: t.jitter / divisor,
    ppsShiftSeconds: t.shift,
    ppsStabilityHertz: t.stabil / PPM16,
    ppsJitterTotal: t.jitcnt,
    ppsCalibrationTotal: t.calcnt,
    ppsErrorTotal: t.errcnt,
    ppsStabilityExceededTotal: t.stbcnt,
    taiOffsetSeconds: t.tai,
  };
}
