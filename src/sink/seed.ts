import type { ParsedFamily, ParsedSample } from '../expfmt/types';
import type { MetricType } from '../metrics/types';
import { copyNewRows, type CopyPart, type Database } from '../db/database';
import type { Logger } from '../log/logger';
import { applyInventory, extractInventory, InventoryTracker, type InventorySnapshot } from './inventory';
import { maintain, rollupUsage } from './maintain';
import { syntheticFamilies } from './scrape';
import type { Target } from './types';
import { UsageTracker, type ContainerUsageRow, type HostUsageRow } from './usage';
import { usageCopyParts } from './usage-copy';
import { isCounterSample, SampleWriter } from './writer';
import { BinaryCopyWriter } from '../db/binary-copy';
import { DAY_MS, dayStart, PartitionManager } from '../db/partitions';
import { blockHours } from '../storage/compact';
import { chunkCopyParts, type ChunkRow } from '../storage/chunk-copy';

export interface SeedOptions {
  readonly hosts: number;
  readonly days: number;
  readonly stepMs: number;
  readonly nowMs: number;
  readonly seed: number;
  readonly job?: string;
}

const GiB = 1024 ** 3;
const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
const CONTAINERS = [
  { name: 'web', image: 'nginx:1.25', cpu: 0.08, mem: 0.12 * GiB, limit: 0.5 * GiB },
  { name: 'db', image: 'postgres:15', cpu: 0.15, mem: 1.2 * GiB, limit: 0 },
  { name: 'worker', image: 'registry.local/worker:2.3.1', cpu: 0.3, mem: 0.4 * GiB, limit: 1 * GiB },
];

/** Small deterministic PRNG (mulberry32) so a seed always produces the same history. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class FamilyBuilder {
  private readonly byName = new Map<string, { type: MetricType; help: string; samples: ParsedSample[] }>();
  add(name: string, type: MetricType, value: number, labels: Record<string, string> = {}, help = ''): this {
    let f = this.byName.get(name);
    if (f === undefined) {
      f = { type, help: help || `Synthetic ${name} (hostscope seed).`, samples: [] };
      this.byName.set(name, f);
    }
    f.samples.push({ name, labels, value });
    return this;
  }
  families(): ParsedFamily[] {
    return [...this.byName].map(([name, f]) => ({ name, type: f.type, help: f.help, samples: f.samples }));
  }
}

interface HostState {
  readonly target: Target;
  readonly name: string;
  readonly cpus: number;
  readonly memTotal: number;
  readonly diskSize: number;
  readonly base: number;
  readonly fillsDisk: boolean;
  readonly cpuSeconds: number[][];
  rx: number;
  tx: number;
  readonly containerCpu: number[];
  readonly containerIds: string[];
  readonly bootTime: number;
  /** The first host's worker container crashes every CRASH_EVERY_MS, every other time OOM-killed. */
  readonly crashes: boolean;
}

const CRASH_EVERY_MS = 11 * 3_600_000;
const CRASHING_CONTAINER = 'worker';

/**
 * Synthetic but realistic exporter output for `--hosts` hosts over `--days` days: CPU and load following a
 * daily cycle with noise, memory, network counters, one filesystem per host (the first host's disk fills
 * up steadily to 98 %), inventory `*_info` metrics and three containers per host with cAdvisor metrics
 * (the first host's worker container is restarted every 11 hours, every other time after an OOM kill).
 */
export class SeedGenerator {
  private readonly random: () => number;
  readonly hosts: HostState[] = [];

  constructor(private readonly options: SeedOptions) {
    this.random = rng(options.seed);
    const start = options.nowMs - options.days * 86_400_000;
    for (let i = 0; i < options.hosts; i++) {
      const name = `seed-host-${String(i + 1).padStart(2, '0')}`;
      const cpus = [2, 4, 8, 16][i % 4] as number;
      this.hosts.push({
        target: {
          url: `http://${name}:9100/metrics`,
          instance: `${name}:9100`,
          job: options.job ?? 'hostscope-seed',
        },
        name,
        cpus,
        memTotal: ([8, 16, 32, 64][i % 4] as number) * GiB,
        diskSize: ([100, 250, 500][i % 3] as number) * GiB,
        base: 0.15 + 0.4 * this.random(),
        fillsDisk: i === 0,
        cpuSeconds: Array.from({ length: cpus }, () => MODES.map(() => 1000 * this.random())),
        rx: 1e9 * this.random(),
        tx: 1e9 * this.random(),
        containerCpu: CONTAINERS.map(() => 100 * this.random()),
        containerIds: CONTAINERS.map(() =>
          Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(this.random() * 16)]).join(''),
        ),
        bootTime: start / 1000 - 86_400 * (1 + Math.floor(this.random() * 30)),
        crashes: i === 0,
      });
    }
  }

  get startMs(): number {
    const first = this.options.nowMs - this.options.days * 86_400_000;
    return Math.ceil(first / this.options.stepMs) * this.options.stepMs;
  }

  /** Load factor 0..1 of a host at a time: a daily cycle peaking mid-afternoon, plus noise. */
  private load(h: HostState, t: number): number {
    const hour = (t / 3_600_000) % 24;
    const daily = 0.5 + 0.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
    const v = h.base + 0.45 * daily * (1 - h.base) + 0.08 * (this.random() - 0.5);
    return Math.min(0.98, Math.max(0.02, v));
  }

  /** The families one scrape of host `h` returns at time `t` (advances its counters by one step). */
  scrape(h: HostState, t: number): ParsedFamily[] {
    const step = this.options.stepMs / 1000;
    const f = this.load(h, t);
    const b = new FamilyBuilder();
    for (let c = 0; c < h.cpus; c++) {
      const u = Math.min(0.99, Math.max(0, f + 0.1 * (this.random() - 0.5)));
      const share = {
        user: 0.62 * u,
        nice: 0.01 * u,
        system: 0.27 * u,
        iowait: 0.03,
        irq: 0.02 * u,
        softirq: 0.05 * u,
        steal: 0.03 * u,
      };
      const idle = Math.max(0, 1 - u - share.iowait);
      const secs = h.cpuSeconds[c] as number[];
      MODES.forEach((mode, m) => {
        secs[m] = (secs[m] as number) + step * (mode === 'idle' ? idle : share[mode]);
        b.add(
          'node_cpu_seconds_total',
          'counter',
          secs[m] as number,
          { cpu: String(c), mode },
          'Seconds the CPUs spent in each mode.',
        );
      });
    }
    b.add('node_load1', 'gauge', h.cpus * f * (0.9 + 0.2 * this.random()), {}, '1m load average.');
    b.add('node_load5', 'gauge', h.cpus * f, {}, '5m load average.');
    b.add('node_load15', 'gauge', h.cpus * f * 0.95, {}, '15m load average.');
    const avail = h.memTotal * Math.max(0.05, 0.75 - 0.45 * f - 0.05 * this.random());
    b.add('node_memory_MemTotal_bytes', 'gauge', h.memTotal, {}, 'Memory information field MemTotal_bytes.');
    b.add(
      'node_memory_MemAvailable_bytes',
      'gauge',
      Math.round(avail),
      {},
      'Memory information field MemAvailable_bytes.',
    );
    const start = this.startMs;
    const progress = (t - start) / Math.max(1, this.options.nowMs - start);
    const usedFrac = h.fillsDisk ? 0.55 + 0.43 * progress : 0.35 + 0.02 * Math.sin(progress * 6);
    const fs = { device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' };
    b.add('node_filesystem_size_bytes', 'gauge', h.diskSize, fs, 'Filesystem size in bytes.');
    b.add(
      'node_filesystem_avail_bytes',
      'gauge',
      Math.round(h.diskSize * (1 - usedFrac) * 0.95),
      fs,
      'Filesystem space available to non-root users in bytes.',
    );
    b.add(
      'node_filesystem_free_bytes',
      'gauge',
      Math.round(h.diskSize * (1 - usedFrac)),
      fs,
      'Filesystem free space in bytes.',
    );
    h.rx += step * 2e6 * f * (0.8 + 0.4 * this.random());
    h.tx += step * 8e5 * f * (0.8 + 0.4 * this.random());
    b.add(
      'node_network_receive_bytes_total',
      'counter',
      Math.round(h.rx),
      { device: 'eth0' },
      'Network device statistic receive_bytes.',
    );
    b.add(
      'node_network_transmit_bytes_total',
      'counter',
      Math.round(h.tx),
      { device: 'eth0' },
      'Network device statistic transmit_bytes.',
    );
    b.add('node_boot_time_seconds', 'gauge', h.bootTime, {}, 'Node boot time, in unixtime.');
    b.add(
      'node_uname_info',
      'gauge',
      1,
      { sysname: 'Linux', nodename: h.name, release: '6.1.0-18-amd64', machine: 'x86_64' },
      'Labeled system information as provided by the uname system call.',
    );
    b.add(
      'hostscope_system_info',
      'gauge',
      1,
      {
        vendor: 'QEMU',
        model: 'Standard PC (Q35 + ICH9, 2009)',
        version: 'pc-q35-8.1',
        serial: `SN-${h.name}`,
        uuid: h.containerIds[0]?.slice(0, 32) ?? '',
        virtual: 'true',
        virtualization: 'kvm',
        os: 'Debian GNU/Linux',
        os_release: '12',
        kernel: '6.1.0-18-amd64',
        arch: 'x64',
        hostname: h.name,
      },
      'Host system: vendor, model, virtualization and OS.',
    );
    b.add(
      'hostscope_cpu_info',
      'gauge',
      1,
      {
        vendor: 'Intel',
        brand: 'Xeon Gold 6338',
        family: '6',
        model: '106',
        stepping: '6',
        cores: String(h.cpus),
        physical_cores: String(h.cpus),
        sockets: '1',
        max_mhz: '3200',
        virtualization: 'false',
      },
      'CPU model and topology, from the inventory.',
    );
    b.add(
      'hostscope_memory_module_info',
      'gauge',
      1,
      {
        slot: 'DIMM 0',
        type: 'RAM',
        size_bytes: String(h.memTotal),
        clock_mhz: '',
        form_factor: 'DIMM',
        manufacturer: 'QEMU',
        part_number: '',
        serial: '',
      },
      'Memory modules (DIMMs) where the firmware reports them.',
    );
    b.add(
      'hostscope_disk_info',
      'gauge',
      1,
      {
        device: '/dev/sda',
        type: 'SSD',
        name: 'QEMU HARDDISK',
        vendor: 'ATA',
        size_bytes: String(h.diskSize),
        interface: 'SATA',
        serial: `QM-${h.name}`,
        firmware: '2.5+',
      },
      'Physical disks, from the inventory.',
    );
    b.add(
      'hostscope_network_interface_info',
      'gauge',
      1,
      {
        interface: 'eth0',
        mac: '52:54:00:12:34:56',
        ip4: '10.0.0.10',
        ip6: '',
        type: 'wired',
        speed_mbps: '1000',
        mtu: '1500',
        virtual: 'false',
        internal: 'false',
      },
      'Network interfaces, from the inventory.',
    );
    b.add('machine_cpu_cores', 'gauge', h.cpus, {}, 'Number of logical CPU cores.');
    b.add('machine_memory_bytes', 'gauge', h.memTotal, {}, 'Amount of memory installed on the machine.');
    CONTAINERS.forEach((c, i) => {
      const labels = {
        id: `/docker/${h.containerIds[i] as string}`,
        image: c.image,
        name: c.name,
        container_label_com_docker_compose_service: c.name,
      };
      h.containerCpu[i] =
        (h.containerCpu[i] as number) + step * c.cpu * h.cpus * f * (0.7 + 0.6 * this.random());
      b.add(
        'container_cpu_usage_seconds_total',
        'counter',
        h.containerCpu[i] as number,
        { ...labels, cpu: 'total' },
        'Cumulative cpu time consumed in seconds.',
      );
      b.add(
        'container_memory_working_set_bytes',
        'gauge',
        Math.round(c.mem * (0.8 + 0.4 * f)),
        labels,
        'Current working set in bytes.',
      );
      b.add('container_spec_memory_limit_bytes', 'gauge', c.limit, labels, 'Memory limit for the container.');
      // Restarts and OOM kills: counters from the start of the history, deterministic (no random draw, so
      // every other value of a seed is unchanged by them).
      const crashes =
        h.crashes && c.name === CRASHING_CONTAINER ? Math.floor((t - this.startMs) / CRASH_EVERY_MS) : 0;
      b.add(
        'hostscope_container_restarts_total',
        'counter',
        crashes,
        labels,
        'Number of times the Docker Engine restarted the container.',
      );
      b.add(
        'container_oom_events_total',
        'counter',
        Math.ceil(crashes / 2),
        labels,
        'Count of out of memory events observed for the container',
      );
      b.add(
        'container_last_seen',
        'gauge',
        t / 1000,
        labels,
        'Last time a container was seen by the exporter',
      );
    });
    return b.families();
  }
}

/** Per series and hour: the rollup maintain would compute (see ROLLUP_SQL in maintain.ts). */
class HourAggregate {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  first = NaN;
  last = NaN;
  inc = 0;
  add(v: number, prev: number | undefined): void {
    if (this.n === 0) this.first = v;
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.last = v;
    // A counter's rise since the previous sample (previous hour's last for the first one); a fall is a
    // reset, after which the new value counts from zero.
    if (prev !== undefined) this.inc += v >= prev ? v - prev : v;
  }
}

const HOUR_MS = 3_600_000;
const INVENTORY_REFRESH_MS = 3_600_000;

/** Wall time per phase of a seed, in ms (logged at debug, to see where the time goes). */
class PhaseTimes {
  readonly ms: Record<string, number> = {};
  private started = performance.now();
  /** Charges the time since the previous mark to `phase`. */
  mark(phase: string): void {
    const now = performance.now();
    this.ms[phase] = (this.ms[phase] ?? 0) + (now - this.started);
    this.started = now;
  }
  rounded(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.ms).map(([k, v]) => [k, Math.round(v)]));
  }
}

/** Yields to the event loop every few ms, so that database writes in flight progress meanwhile. */
class Ticker {
  private next = performance.now() + 5;
  async tick(): Promise<void> {
    if (performance.now() < this.next) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.next = performance.now() + 5;
  }
}

/**
 * `hostscope seed`: fills the database with synthetic history. Samples go straight into compacted chunks
 * (blocks as compaction would cut them) with their hourly rollups computed on the way, and usage rows with
 * them, one binary COPY transaction per block written while the next block is computed, so months take
 * seconds. Returns samples written.
 */
export async function runSeed(db: Database, options: SeedOptions, logger: Logger): Promise<number> {
  const gen = new SeedGenerator(options);
  const writer = new SampleWriter(db, logger, { past: (options.days + 1) * 86_400_000, future: 600_000 });
  const usage = new UsageTracker();
  // Refresh hourly so hosts.last_seen follows the synthetic history and maintain keeps the hosts.
  const inventory = new InventoryTracker(INVENTORY_REFRESH_MS);
  const partitions = new PartitionManager();
  const span = blockHours(HOUR_MS / options.stepMs) * HOUR_MS;
  const closedHour = Math.floor(options.nowMs / HOUR_MS) * HOUR_MS;
  // Per host: series ids in sample order, counter flags, and each series' last value (for increases).
  const layout = new Map<HostState, { ids: number[]; counter: boolean[]; prev: (number | undefined)[] }>();
  // Per host: the last inventory snapshot due, and when the next one is. A host's snapshots differ only
  // by their time (the generator's inventory labels never change), so only the last one is written: the
  // tables end as writing each would have left them (last_seen the latest, nothing else changed). And a
  // snapshot (it is hashed) is only built when one can be due.
  const snapshots = new Map<HostState, InventorySnapshot>();
  const inventoryDue = new Map<HostState, number>();
  let written = 0;
  const phases = new PhaseTimes();
  const days: number[] = [];
  for (let d = dayStart(gen.startMs); d <= options.nowMs; d += DAY_MS) days.push(d);
  await partitions.ensureDays(db, 'host_usage', days);
  await partitions.ensureDays(db, 'container_usage', days);
  phases.mark('partitions');
  // One block's write in flight while the next block is computed (a rejection is awaited below).
  let writing: Promise<void> = Promise.resolve();
  let writeMs = 0;
  const ticker = new Ticker();
  for (let block = Math.floor(gen.startMs / span) * span; block <= options.nowMs; block += span) {
    const times: number[] = [];
    for (let t = Math.max(block, gen.startMs); t < block + span && t <= options.nowMs; t += options.stepMs)
      times.push(t);
    if (times.length === 0) continue;
    const chunks: ChunkRow[] = [];
    const hourly = new BinaryCopyWriter(1 << 20);
    const hostUsage: HostUsageRow[] = [];
    const containerUsage: ContainerUsageRow[] = [];
    for (const h of gen.hosts) {
      let values: Float64Array[] = [];
      let hours: HourAggregate[][] = [];
      let l = layout.get(h);
      for (let k = 0; k < times.length; k++) {
        const t = times[k] as number;
        await ticker.tick();
        const families = gen.scrape(h, t);
        const all = [
          ...families,
          ...syntheticFamilies({ target: h.target, timeMs: t, durationSeconds: 0.01, families }),
        ];
        if (l === undefined) {
          let sampleCount = 0;
          for (const f of all) sampleCount += f.samples.length;
          const ids = await writer.seriesIds({
            target: h.target,
            timeMs: t,
            families: all,
            sampleCount,
            containerUsage: [],
          });
          const counter = all.flatMap((f) => f.samples.map((x) => isCounterSample(f, x.name)));
          l = { ids, counter, prev: ids.map(() => undefined) };
          layout.set(h, l);
        }
        if (values.length === 0) {
          values = l.ids.map(() => new Float64Array(times.length));
          hours = l.ids.map(() => []);
        }
        const hourIndex = Math.floor((t - block) / HOUR_MS);
        let i = 0;
        for (const f of all)
          for (const x of f.samples) {
            (values[i] as Float64Array)[k] = x.value;
            const perHour = hours[i] as HourAggregate[];
            const agg = (perHour[hourIndex] ??= new HourAggregate());
            agg.add(x.value, l.counter[i] === true ? l.prev[i] : undefined);
            l.prev[i] = x.value;
            i++;
          }
        const u = usage.compute(h.target, t, families);
        if (u.host !== undefined) hostUsage.push(u.host);
        for (const c of u.containers) containerUsage.push(c);
        if (t >= (inventoryDue.get(h) ?? -Infinity)) {
          const snap = extractInventory(h.target, t, families);
          if (inventory.due(snap)) snapshots.set(h, snap);
          inventoryDue.set(h, t + INVENTORY_REFRESH_MS);
        }
      }
      if (l === undefined) continue;
      l.ids.forEach((id, i) => {
        chunks.push({
          seriesId: id,
          startMs: block,
          stopMs: block + span,
          times,
          values: values[i] as Float64Array,
        });
        (hours[i] as HourAggregate[]).forEach((a, hi) => {
          const hour = block + hi * HOUR_MS;
          if (hour + HOUR_MS > closedHour) return; // the open hour is maintain's to roll up
          hourly.row(9).int8Safe(id).timestampMs(hour).int4(a.n).float8(a.sum).float8(a.min).float8(a.max);
          hourly.float8(a.first).float8(a.last);
          if (l?.counter[i] === true) hourly.float8(a.inc);
          else hourly.null();
        });
      });
      written += l.ids.length * times.length;
    }
    const parts: CopyPart[] = [
      ...chunkCopyParts(chunks),
      {
        table: 'samples_hourly_raw',
        columns: ['series_id', 'hour', 'count', 'sum', 'min', 'max', 'first', 'last', 'increase'],
        payload: hourly.finish(),
        onConflict: `(series_id, hour) DO UPDATE SET count = EXCLUDED.count, sum = EXCLUDED.sum,
          min = EXCLUDED.min, max = EXCLUDED.max, first = EXCLUDED.first, last = EXCLUDED.last,
          increase = EXCLUDED.increase`,
      },
      ...usageCopyParts(hostUsage, containerUsage),
    ];
    phases.mark('generate');
    await writing;
    phases.mark('wait for writes');
    for (const table of ['chunks', 'chunk_times', 'samples_hourly_raw'] as const)
      await partitions.ensureMonth(db, table, block);
    phases.mark('partitions');
    writing = (async () => {
      const started = performance.now();
      await db.session((s) => copyNewRows(s, parts));
      writeMs += performance.now() - started;
    })();
    writing.catch(() => undefined);
  }
  await writing;
  phases.mark('wait for writes');
  for (const snap of snapshots.values()) await applyInventory(db, snap);
  phases.mark('inventory');
  await rollupUsage(db, partitions, Math.floor(gen.startMs / HOUR_MS) * HOUR_MS, closedHour);
  phases.mark('usage rollup');
  // The rollups of every closed hour are written: on a fresh database, start maintain's watermark there.
  await db.query('UPDATE hostscope.rollup_state SET rolled_until = $1 WHERE id AND rolled_until IS NULL', [
    new Date(closedHour).toISOString(),
  ]);
  logger.info({ samples: written, hosts: options.hosts, days: options.days }, 'seeded history');
  await maintain(db, logger, {
    retentionRawMs: Math.max(14, options.days + 1) * 86_400_000,
    retentionUsageMs: Math.max(14, options.days + 1) * 86_400_000,
    retentionHourlyMs: 400 * 86_400_000,
    nowMs: options.nowMs,
  });
  phases.mark('maintain');
  // `writes` overlaps `generate`: the blocks' COPY transactions, in the background.
  logger.debug({ ms: { ...phases.rounded(), writes: Math.round(writeMs) } }, 'seed phases');
  return written;
}
