import type { Session } from 'node:inspector';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { loadedLibc } from '../host/libc';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

/**
 * When a trim runs: the old generation has grown by `growthBytes` since the last trim, `minIntervalMs`
 * have passed since it, and scrapes are not coming back to back (`quietMs` or more since the previous
 * one ended). It then runs `delayMs` after the scrape, unless another scrape came or is under way by
 * then: a burst of scrapes is not paused, and what it left behind is collected once it is over.
 */
export interface TrimPolicy {
  readonly growthBytes: number;
  readonly minIntervalMs: number;
  readonly quietMs: number;
  readonly delayMs: number;
}

export const DEFAULT_TRIM_POLICY: TrimPolicy = {
  growthBytes: 2 * 1024 * 1024,
  minIntervalMs: 30_000,
  quietMs: 500,
  delayMs: 200,
};

/** The policy as a pure decision, given the old generation's use now and at the last trim (ms, bytes). */
export function shouldTrim(
  state: { oldUsed: number; baseline: number; nowMs: number; lastTrimMs: number; previousScrapeMs: number },
  policy: TrimPolicy,
): boolean {
  return (
    state.oldUsed - state.baseline >= policy.growthBytes &&
    state.nowMs - state.lastTrimMs >= policy.minIntervalMs &&
    state.nowMs - state.previousScrapeMs >= policy.quietMs
  );
}

/**
 * Gives memory back after a burst of scrapes. V8's own memory reducer shrinks the heap only until the
 * process's first mark-compact (it is started by old-generation growth while no mark-compact has run);
 * later, the old generation grows to its next limit, ~8 MB above the live data, and free pages and
 * promoted garbage of a burst stay resident until then. So once a scrape has been answered, when the
 * policy allows (TrimPolicy), this runs the collection V8 runs on a low-memory notification (compacting,
 * releasing free pages), then glibc's malloc_trim when libc is loaded anyway. That costs ~20-40 ms at
 * most every 30 s, between scrapes and never in a burst of them, and keeps ~3 MB less resident.
 */
export class MemoryTrimmer {
  private baseline = oldSpaceUsed();
  private lastTrimMs = Number.NEGATIVE_INFINITY;
  private previousScrapeMs = Number.NEGATIVE_INFINITY;
  private session: Session | undefined;
  private disabled = false;
  private running = false;
  private trims = 0;
  private seconds = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `isBusy`: whether a scrape is under way (no trim then). */
  constructor(
    private readonly logger: Logger,
    private readonly policy: TrimPolicy = DEFAULT_TRIM_POLICY,
    private readonly isBusy: () => boolean = () => false,
  ) {}

  /** Call once a scrape's response has been sent. */
  afterScrape(): void {
    if (this.disabled) return;
    if (this.timer !== undefined) {
      // Another scrape within the delay: a burst may be starting, so no trim now.
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = Date.now();
    const previousScrapeMs = this.previousScrapeMs;
    this.previousScrapeMs = now;
    const state = {
      oldUsed: oldSpaceUsed(),
      baseline: this.baseline,
      nowMs: now,
      lastTrimMs: this.lastTrimMs,
      previousScrapeMs,
    };
    if (this.running || !shouldTrim(state, this.policy)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.isBusy()) this.trim();
    }, this.policy.delayMs);
    this.timer.unref();
  }

  /**
   * Call once before listening: pins the young generation (pinYoungGeneration) and trims what startup
   * left, which also shrinks the young generation that loading the modules grew (to 4-8 MB) back to 1 MB.
   */
  startup(): Promise<void> {
    pinYoungGeneration();
    return new Promise((resolve) => this.trim(resolve));
  }

  private trim(done: () => void = () => {}): void {
    this.lastTrimMs = Date.now();
    this.running = true;
    const started = performance.now();
    try {
      this.lowMemoryCollection((err) => {
        this.running = false;
        if (err !== null) {
          this.disable(err);
        } else {
          loadedLibc()?.mallocTrim();
          this.baseline = oldSpaceUsed();
          this.trims++;
          this.seconds += (performance.now() - started) / 1000;
        }
        done();
      });
    } catch (err) {
      // Node built without the inspector: nothing to trim with.
      this.running = false;
      this.disable(err);
      done();
    }
  }

  private disable(err: unknown): void {
    this.disabled = true;
    this.logger.warn({ err }, 'memory trim unavailable; the heap shrinks only when V8 decides');
  }

  async collect(): Promise<MetricFamily[]> {
    return new MetricSet()
      .counter(
        'hostscope_memory_trims_total',
        'Memory-reducing garbage collections run at startup and after scrapes (see --runtime.memory-trim).',
        this.trims,
      )
      .counter(
        'hostscope_memory_trim_seconds_total',
        'Time spent in memory-reducing garbage collections at startup and after scrapes.',
        this.seconds,
      )
      .families();
  }

  /**
   * The inspector's HeapProfiler.collectGarbage is V8's LowMemoryNotification: full collections in the
   * memory-reducing mode, which JavaScript cannot otherwise ask for (global.gc does not shrink the heap).
   * The session is in-process and opens no port; V8 runs the collection as a task of the main thread,
   * and `done` is called after it.
   */
  private lowMemoryCollection(done: (err: Error | null) => void): void {
    if (this.session === undefined) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Session } = require('node:inspector') as typeof import('node:inspector');
      this.session = new Session();
      this.session.connect();
    }
    this.session.post('HeapProfiler.collectGarbage', done);
  }
}

/**
 * Keeps V8's young generation at its current size for the whole process (after MemoryTrimmer.startup,
 * 1-2 MB). V8 doubles it whenever many objects survive a scavenge, which in a burst of scrapes are the
 * responses in flight, and shrinks it again only in memory-reducing collections. The launchers' V8 flags
 * (Dockerfile, npm scripts) cap it at 4 MB for the sink and the exporter alike; a process started without
 * them (the `hostscope` bin) would grow it to 32 MB. A scrape's garbage is short-lived, so a small young
 * generation costs no speed (bench:exporter, and CPU per scrape under 50 concurrent scrapers). V8 reads
 * the growth factor each time it would grow the space, so setting it at run time takes effect.
 */
function pinYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

function oldSpaceUsed(): number {
  for (const space of getHeapSpaceStatistics())
    if (space.space_name === 'old_space') return space.space_used_size;
  return 0;
}
