import * as si from 'systeminformation';
import type { Logger } from '../log/logger';
import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';
import { inventoryFamilies, type InventorySnapshot } from './inventory-metrics';

/** Reads the inventory through systeminformation (which shells out to lsblk, dmidecode, ...). */
export async function readInventory(): Promise<InventorySnapshot> {
  const [cpu, memory, disks, nics, system, os] = await Promise.all([
    si.cpu(),
    si.memLayout(),
    si.diskLayout(),
    si.networkInterfaces(),
    si.system(),
    si.osInfo(),
  ]);
  return { cpu, memory, disks, nics: Array.isArray(nics) ? nics : [nics], system, os };
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

  constructor(
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly read: () => Promise<InventorySnapshot> = readInventory,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
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
      this.families = inventoryFamilies(await this.read());
      this.lastSuccess = Date.now() / 1000;
      this.lastOk = true;
    } catch (err) {
      this.lastOk = false;
      this.logger.warn({ err }, 'inventory refresh failed; keeping the previous snapshot');
    }
  }
}
