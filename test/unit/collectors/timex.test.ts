import {
  bindAdjtimex,
  makeTimexCollector,
  timexCollector,
  type AdjtimexReader,
} from '../../../src/collectors/timex';
import type { TimexFields } from '../../../src/collectors/timex.parse';
import { NoDataError } from '../../../src/errors';
import { collectOnce, family, valueOf } from '../../helpers/collect';

const STA_UNSYNC = 0x40;

const FAMILIES: [string, string][] = [
  ['node_timex_sync_status', 'gauge'],
  ['node_timex_offset_seconds', 'gauge'],
  ['node_timex_frequency_adjustment_ratio', 'gauge'],
  ['node_timex_maxerror_seconds', 'gauge'],
  ['node_timex_estimated_error_seconds', 'gauge'],
  ['node_timex_status', 'gauge'],
  ['node_timex_loop_time_constant', 'gauge'],
  ['node_timex_tick_seconds', 'gauge'],
  ['node_timex_pps_frequency_hertz', 'gauge'],
  ['node_timex_pps_jitter_seconds', 'gauge'],
  ['node_timex_pps_shift_seconds', 'gauge'],
  ['node_timex_pps_stability_hertz', 'gauge'],
  ['node_timex_pps_jitter_total', 'counter'],
  ['node_timex_pps_calibration_total', 'counter'],
  ['node_timex_pps_error_total', 'counter'],
  ['node_timex_pps_stability_exceeded_total', 'counter'],
  ['node_timex_tai_offset_seconds', 'gauge'],
];

const ZERO: TimexFields = {
  offset: 0,
  freq: 0,
  maxerror: 0,
  esterror: 0,
  status: 0,
  constant: 0,
  tick: 0,
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
const failing =
  (errno: number): AdjtimexReader =>
  () => ({ state: -1, errno, fields: ZERO });

describe('timex collector (live adjtimex(2) through koffi)', () => {
  it('reports every node_timex_* family with plausible values for this kernel', async () => {
    const families = await collectOnce(timexCollector);
    expect(families.map((f) => [f.name, f.type])).toEqual(FAMILIES);
    for (const f of families) expect(f.samples).toHaveLength(1);

    // x86_64 Linux counts adjtimex ticks in USER_HZ (100 per second).
    expect(valueOf(families, 'node_timex_tick_seconds')).toBe(0.01);
    const status = valueOf(families, 'node_timex_status');
    expect(Number.isInteger(status) && status >= 0).toBe(true);
    // An unsynchronised clock (STA_UNSYNC) makes adjtimex return TIME_ERROR.
    const sync = valueOf(families, 'node_timex_sync_status');
    expect([0, 1]).toContain(sync);
    if ((status & STA_UNSYNC) !== 0) expect(sync).toBe(0);
    // The kernel caps both error bounds at NTP_PHASE_LIMIT (16 s).
    for (const name of ['node_timex_maxerror_seconds', 'node_timex_estimated_error_seconds']) {
      expect(valueOf(families, name)).toBeGreaterThanOrEqual(0);
      expect(valueOf(families, name)).toBeLessThanOrEqual(16);
    }
    // Frequency adjustment is bounded by MAXFREQ (500 ppm).
    expect(Math.abs(valueOf(families, 'node_timex_frequency_adjustment_ratio') - 1)).toBeLessThanOrEqual(
      500e-6,
    );
    expect(family(families, 'node_timex_sync_status').help).toBe(
      'Is clock synchronized to a reliable server (1 = yes, 0 = no).',
    );
  });

  it('reads the struct in place: two calls agree on the static fields', async () => {
    const read = await bindAdjtimex();
    const a = read();
    const b = read();
    expect(a.state).toBeGreaterThanOrEqual(0);
    expect(b.fields.tick).toBe(a.fields.tick);
    expect(b.fields.constant).toBe(a.fields.constant);
  });
});

describe('timex collector failures', () => {
  it('reports no data when adjtimex(2) is not permitted (seccomp, EPERM)', async () => {
    await expect(collectOnce(makeTimexCollector(async () => failing(1)))).rejects.toThrow(NoDataError);
  });

  it('fails on any other adjtimex(2) error', async () => {
    const err = await collectOnce(makeTimexCollector(async () => failing(22))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(NoDataError);
    expect(String(err)).toMatch(/failed to retrieve adjtimex stats: errno 22/);
  });

  it('reports no data, with the reason, when libc cannot be bound (non-glibc systems)', async () => {
    const collect = collectOnce(
      makeTimexCollector(async () => {
        throw new Error('libc.so.6: cannot open shared object file');
      }),
    );
    await expect(collect).rejects.toThrow(NoDataError);
    await expect(collect).rejects.toThrow(
      /adjtimex\(2\) is unavailable.*libc\.so\.6: cannot open shared object file/,
    );
  });
});
