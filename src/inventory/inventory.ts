import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';
import { inventoryFamilies, type InventorySnapshot } from './inventory-metrics';

/** The child process that reads the inventory (read-inventory.ts, built). */
export const INVENTORY_READER = path.join(__dirname, 'read-inventory.js');
const READ_TIMEOUT_MS = 60_000;

/**
 * Reads the inventory in a short-lived child process (a refresh every few minutes): systeminformation and
 * what it loads would otherwise stay resident in the exporter (~5 MB) for a few milliseconds of use, and a
 * hung lsblk or dmidecode is killed with the child after a minute.
 */
export function readInventoryInChild(
  signal?: AbortSignal,
  script = INVENTORY_READER,
): Promise<InventorySnapshot> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script],
      { encoding: 'utf8', timeout: READ_TIMEOUT_MS, maxBuffer: 16 << 20, signal },
      (err, stdout, stderr) => {
        if (err !== null) {
          const why = stderr.trim() || err.message;
          reject(new Error(`inventory reader failed: ${why}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as InventorySnapshot);
        } catch (parseErr) {
          reject(new Error(`inventory reader printed no snapshot: ${String(parseErr)}`));
        }
      },
    );
  });
}

/**
 * The hardware/OS inventory as `hostscope_*_info` gauges. Refreshed on a slow timer (minutes), never per
 * scrape: systeminformation spawns processes, far too slow for a scrape path.
 */
export class Inventory {
  private families: MetricFamily[] = [];
  private lastSuccess = 0;
  private lastOk = false;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly read: (signal: AbortSignal) => Promise<InventorySnapshot> = readInventoryInChild,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.refreshing;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async collect(): Promise<MetricFamily[]> {
    if (this.intervalMs <= 0) return [];
    const meta = new MetricSet()
      .gauge(
        'hostscope_inventory_refresh_success',
        'Whether the last inventory refresh succeeded.',
        this.lastOk ? 1 : 0,
      )
      .gauge(
        'hostscope_inventory_last_refresh_timestamp_seconds',
        'Unix time of the last successful inventory refresh.',
        this.lastSuccess,
      );
    return [...this.families, ...meta.families()];
  }

  private async doRefresh(): Promise<void> {
    try {
      this.families = inventoryFamilies(await this.read(this.stopping.signal));
      this.lastSuccess = Date.now() / 1000;
      this.lastOk = true;
    } catch (err) {
      this.lastOk = false;
      if (this.stopping.signal.aborted) return;
      this.logger.warn({ err }, 'inventory refresh failed; keeping the previous snapshot');
    }
  }
}
