import type { Logger } from '../../log/logger';
import type { ContainerStats } from './cgroup.parse';
import { mapLimit } from '../../map-limit';
import type { DockerEngine } from './engine';
import { statsFromApi } from './stats-api.parse';

interface Latest {
  readonly stats: ContainerStats;
  readonly atMs: number;
}

/**
 * Fallback for containers whose cgroup files are not readable (remote engine, rootless engine, or /sys
 * not mounted into the exporter): the Engine stats API with `stream=false&one-shot=true`, at most
 * `concurrency` requests in flight. One stats call takes up to a second on a busy engine, so a scrape
 * does not wait for them: it starts a refresh in the background and serves the latest values, waiting
 * only for containers it has never had stats for.
 */
export class StatsApiPoller {
  private readonly latest = new Map<string, Latest>();
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly engine: DockerEngine,
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {}

  get(id: string): ContainerStats | undefined {
    return this.latest.get(id)?.stats;
  }

  async refresh(ids: readonly string[], version: 1 | 2, signal: AbortSignal): Promise<void> {
    if (this.refreshing === undefined) {
      this.refreshing = this.run(ids, version).finally(() => {
        this.refreshing = undefined;
      });
    }
    if (!ids.some((id) => !this.latest.has(id))) return;
    const running = this.refreshing;
    await Promise.race([
      running,
      new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    ]);
  }

  private async run(ids: readonly string[], version: 1 | 2): Promise<void> {
    const wanted = new Set(ids);
    for (const id of this.latest.keys()) if (!wanted.has(id)) this.latest.delete(id);
    await mapLimit(ids, this.concurrency, async (id) => {
      // `one-shot` (API 1.41+) skips the second sample the engine otherwise waits a second for.
      try {
        const json: unknown = await this.engine.request((abortSignal) => {
          // dockerode takes an abort signal; its typings omit it here.
          const opts = { stream: false as const, 'one-shot': true, abortSignal };
          return this.engine.api.getContainer(id).stats(opts);
        });
        const stats = statsFromApi(json, version);
        if (stats === undefined) this.latest.delete(id);
        else this.latest.set(id, { stats, atMs: Date.now() });
      } catch (err) {
        this.latest.delete(id);
        this.logger.debug({ id, err: err instanceof Error ? err.message : String(err) }, 'stats API failed');
      }
    });
  }
}
