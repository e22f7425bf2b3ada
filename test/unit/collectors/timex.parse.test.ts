import { decodeTimex, STA_NANO, TIME_ERROR, type TimexFields } from '../../../src/collectors/timex.parse';

/** What an unsynchronised kernel reports (this VM: TIME_ERROR, STA_UNSYNC, 16 s error bounds). */
const UNSYNCED: TimexFields = {
  offset: 0,
  freq: 0,
  maxerror: 16_000_000,
  esterror: 16_000_000,
  status: 0x40,
  constant: 2,
  tick: 10_000,
  ppsfreq: 0,
  jitter: 0,
  shift: 0,
  stabil: 0,
  jitcnt: 0,
  calcnt: 0,
  errcnt: 0,
  stbcnt: 0,
  tai: 0,
};

describe('decodeTimex', () => {
  it('decodes an unsynchronised clock (TIME_ERROR), microsecond units', () => {
    expect(decodeTimex(TIME_ERROR, UNSYNCED)).toEqual({
      syncStatus: 0,
      offsetSeconds: 0,
      frequencyAdjustmentRatio: 1,
      maxerrorSeconds: 16,
      estimatedErrorSeconds: 16,
      status: 64,
      loopTimeConstant: 2,
      tickSeconds: 0.01,
      ppsFrequencyHertz: 0,
      ppsJitterSeconds: 0,
      ppsShiftSeconds: 0,
      ppsStabilityHertz: 0,
      ppsJitterTotal: 0,
      ppsCalibrationTotal: 0,
      ppsErrorTotal: 0,
      ppsStabilityExceededTotal: 0,
      taiOffsetSeconds: 0,
    });
  });

  it('treats offset and jitter as nanoseconds when STA_NANO is set (chrony/ntpd with PLL)', () => {
    const v = decodeTimex(0, {
      ...UNSYNCED,
      status: 0x2001, // STA_PLL | STA_NANO
      offset: -123_456,
      jitter: 2_500,
      maxerror: 1_500,
      esterror: 250,
      freq: -1_234_567, // scaled ppm (ppm << 16)
      tai: 37,
    });
    expect(v.syncStatus).toBe(1);
    expect(v.offsetSeconds).toBeCloseTo(-0.000123456, 12);
    expect(v.ppsJitterSeconds).toBeCloseTo(0.0000025, 12);
    // maxerror and esterror stay microseconds whatever STA_NANO says.
    expect(v.maxerrorSeconds).toBeCloseTo(0.0015, 12);
    expect(v.estimatedErrorSeconds).toBeCloseTo(0.00025, 12);
    expect(v.frequencyAdjustmentRatio).toBeCloseTo(1 - 1_234_567 / 65_536 / 1e6, 15);
    expect(v.taiOffsetSeconds).toBe(37);
    expect(v.status).toBe(0x2001);
  });

  it('treats offset and jitter as microseconds without STA_NANO', () => {
    const v = decodeTimex(0, { ...UNSYNCED, status: 0x0001, offset: -123_456, jitter: 2_500 });
    expect(v.offsetSeconds).toBeCloseTo(-0.123456, 12);
    expect(v.ppsJitterSeconds).toBeCloseTo(0.0025, 12);
    expect(STA_NANO & 0x0001).toBe(0);
  });

  it('scales PPS frequency and stability from ppm << 16 and passes counters through', () => {
    const v = decodeTimex(1, {
      ...UNSYNCED,
      ppsfreq: 65_536 * 3,
      stabil: 65_536 / 2,
      shift: 4,
      jitcnt: 5,
      calcnt: 6,
      errcnt: 7,
      stbcnt: 8,
    });
    expect(v.ppsFrequencyHertz).toBeCloseTo(3e-6, 15);
    expect(v.ppsStabilityHertz).toBeCloseTo(0.5e-6, 15);
    expect([
      v.ppsShiftSeconds,
      v.ppsJitterTotal,
      v.ppsCalibrationTotal,
      v.ppsErrorTotal,
      v.ppsStabilityExceededTotal,
    ]).toEqual([4, 5, 6, 7, 8]);
    // Any clock state other than TIME_ERROR (here TIME_INS) counts as synchronised.
    expect(v.syncStatus).toBe(1);
  });
});
