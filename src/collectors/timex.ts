import { describe, NoDataError } from '../errors';
import { loadLibc } from '../host/libc';
import { MetricSet } from '../metrics/metric-set';
import { decodeTimex, type TimexFields } from './timex.parse';
import type { CollectorDefinition } from './types';

/** One read-only adjtimex(2) call: its return value (the clock state), errno, and the filled struct. */
export type AdjtimexReader = () => {
  readonly state: number;
  readonly errno: number;
  readonly fields: TimexFields;
};

const EPERM = 1;
const EACCES = 13;
/** sizeof(struct timex) with x86_64 glibc; checked so that a layout mismatch fails loudly. */
const TIMEX_SIZE = 208;

/**
 * Binds glibc's adjtimex(2) through koffi. Node has no binding for it, and node_exporter reads these
 * values only through this syscall. The struct mirrors x86_64 glibc field by field, padding included
 * (`long` is 64-bit; the int members are each followed by 4 bytes of padding; 11 reserved ints at the end).
 */
export async function bindAdjtimex(): Promise<AdjtimexReader> {
  const { koffi, lib: libc } = await loadLibc();
  const timex = koffi.struct({
    modes: 'uint32',
    _pad0: 'int32',
    offset: 'long',
    freq: 'long',
    maxerror: 'long',
    esterror: 'long',
    status: 'int32',
    _pad1: 'int32',
    constant: 'long',
    precision: 'long',
    tolerance: 'long',
    time_tv_sec: 'long',
    time_tv_usec: 'long',
    tick: 'long',
    ppsfreq: 'long',
    jitter: 'long',
    shift: 'int32',
    _pad2: 'int32',
    stabil: 'long',
    jitcnt: 'long',
    calcnt: 'long',
    errcnt: 'long',
    stbcnt: 'long',
    tai: 'int32',
    _reserved: koffi.array('int32', 11),
  });
  if (koffi.sizeof(timex) !== TIMEX_SIZE) {
    throw new Error(
      `struct timex is ${koffi.sizeof(timex)} bytes here, expected ${TIMEX_SIZE} (x86_64 glibc)`,
    );
  }
  const adjtimex = libc.func('adjtimex', 'int', [koffi.inout(koffi.pointer(timex))]);
  return () => {
    // modes = 0: read the kernel's values, change nothing (allowed without CAP_SYS_TIME).
    const buf: Record<string, unknown> = { modes: 0 };
    const state = Number(adjtimex(buf));
    const errno = state < 0 ? koffi.errno() : 0;
    const n = (key: keyof TimexFields): number => Number(buf[key] ?? 0);
    const fields: TimexFields = {
      offset: n('offset'),
      freq: n('freq'),
      maxerror: n('maxerror'),
      esterror: n('esterror'),
      status: n('status'),
      constant: n('constant'),
      tick: n('tick'),
      ppsfreq: n('ppsfreq'),
      jitter: n('jitter'),
      shift: n('shift'),
      stabil: n('stabil'),
      jitcnt: n('jitcnt'),
      calcnt: n('calcnt'),
      errcnt: n('errcnt'),
      stbcnt: n('stbcnt'),
      tai: n('tai'),
    };
    return { state, errno, fields };
  };
}

type Binding =
  { readonly ok: true; readonly read: AdjtimexReader } | { readonly ok: false; readonly error: unknown };

/** Builds the timex collector around a way to bind adjtimex(2) (tests pass failing bindings). */
export function makeTimexCollector(bind: () => Promise<AdjtimexReader>): CollectorDefinition {
  return {
    name: 'timex',
    defaultEnabled: true,
    help: 'Exposes selected adjtimex(2) system call stats.',
    create: () => {
      // Loaded here, once per collector, not at import: a disabled timex collector never touches libc.
      const binding: Promise<Binding> = bind().then(
        (read) => ({ ok: true, read }),
        (error: unknown) => ({ ok: false, error }),
      );
      return {
        async update() {
          const b = await binding;
          if (!b.ok) {
            throw new NoDataError(
              `adjtimex(2) is unavailable: cannot bind it from glibc's libc.so.6 with koffi (${describe(b.error)})`,
              { cause: b.error },
            );
          }
          const { state, errno, fields } = b.read();
          if (state < 0) {
            if (errno === EPERM || errno === EACCES) {
              throw new NoDataError(`not collecting timex metrics: adjtimex(2) denied (errno ${errno})`);
            }
            throw new Error(`failed to retrieve adjtimex stats: errno ${errno}`);
          }
          const v = decodeTimex(state, fields);
          return new MetricSet()
            .gauge(
              'node_timex_sync_status',
              'Is clock synchronized to a reliable server (1 = yes, 0 = no).',
              v.syncStatus,
            )
            .gauge(
              'node_timex_offset_seconds',
              'Time offset in between local system and reference clock.',
              v.offsetSeconds,
            )
            .gauge(
              'node_timex_frequency_adjustment_ratio',
              'Local clock frequency adjustment.',
              v.frequencyAdjustmentRatio,
            )
            .gauge('node_timex_maxerror_seconds', 'Maximum error in seconds.', v.maxerrorSeconds)
            .gauge(
              'node_timex_estimated_error_seconds',
              'Estimated error in seconds.',
              v.estimatedErrorSeconds,
            )
            .gauge('node_timex_status', 'Value of the status array bits.', v.status)
            .gauge('node_timex_loop_time_constant', 'Phase-locked loop time constant.', v.loopTimeConstant)
            .gauge('node_timex_tick_seconds', 'Seconds between clock ticks.', v.tickSeconds)
            .gauge('node_timex_pps_frequency_hertz', 'Pulse per second frequency.', v.ppsFrequencyHertz)
            .gauge('node_timex_pps_jitter_seconds', 'Pulse per second jitter.', v.ppsJitterSeconds)
            .gauge('node_timex_pps_shift_seconds', 'Pulse per second interval duration.', v.ppsShiftSeconds)
            .gauge(
              'node_timex_pps_stability_hertz',
              'Pulse per second stability, average of recent frequency changes.',
              v.ppsStabilityHertz,
            )
            .counter(
              'node_timex_pps_jitter_total',
              'Pulse per second count of jitter limit exceeded events.',
              v.ppsJitterTotal,
            )
            .counter(
              'node_timex_pps_calibration_total',
              'Pulse per second count of calibration intervals.',
              v.ppsCalibrationTotal,
            )
            .counter(
              'node_timex_pps_error_total',
              'Pulse per second count of calibration errors.',
              v.ppsErrorTotal,
            )
            .counter(
              'node_timex_pps_stability_exceeded_total',
              'Pulse per second count of stability limit exceeded events.',
              v.ppsStabilityExceededTotal,
            )
            .gauge(
              'node_timex_tai_offset_seconds',
              'International Atomic Time (TAI) offset.',
              v.taiOffsetSeconds,
            )
            .families();
        },
      };
    },
  };
}

export const timexCollector: CollectorDefinition = makeTimexCollector(bindAdjtimex);
