import { parseExposition, ParseCache } from '../../../src/expfmt/parse';
import type { Target } from '../../../src/sink/types';
import { UsageTracker } from '../../../src/sink/usage';
import { LiveTracker, MAX_CONTAINERS, trendKey } from '../../../src/web/live';

const target: Target = { url: 'http://h:9100/metrics', instance: 'h:9100', job: 'node' };
const T0 = 1_700_000_000_000;

interface Step {
  user: number;
  system: number;
  idle: number;
  rx: number;
  lo: number;
  read: number;
  avail: number;
  cpuContainer?: number;
}

function text(s: Step, extra = ''): string {
  const id = 'b'.repeat(64);
  return [
    '# TYPE node_cpu_seconds_total counter',
    `node_cpu_seconds_total{cpu="0",mode="user"} ${s.user}`,
    `node_cpu_seconds_total{cpu="0",mode="system"} ${s.system}`,
    `node_cpu_seconds_total{cpu="0",mode="idle"} ${s.idle}`,
    `node_cpu_seconds_total{cpu="1",mode="user"} ${s.user}`,
    `node_cpu_seconds_total{cpu="1",mode="system"} ${s.system}`,
    `node_cpu_seconds_total{cpu="1",mode="idle"} ${s.idle}`,
    'node_memory_MemTotal_bytes 8000',
    'node_memory_MemAvailable_bytes 2000',
    'node_load1 1.5',
    'node_load5 1',
    'node_load15 0.5',
    `node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1000`,
    `node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} ${s.avail}`,
    `node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 0`,
    `node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 0`,
    `node_network_receive_bytes_total{device="eth0"} ${s.rx}`,
    `node_network_transmit_bytes_total{device="eth0"} ${s.rx / 2}`,
    `node_network_receive_bytes_total{device="lo"} ${s.lo}`,
    `node_network_transmit_bytes_total{device="lo"} ${s.lo}`,
    `node_disk_read_bytes_total{device="vda"} ${s.read}`,
    `node_disk_written_bytes_total{device="vda"} 0`,
    'machine_cpu_cores 2',
    'machine_memory_bytes 8000',
    `container_cpu_usage_seconds_total{cpu="total",id="/docker/${id}",image="nginx",name="web"} ${s.cpuContainer ?? 0}`,
    `container_memory_working_set_bytes{id="/docker/${id}",image="nginx",name="web"} 100`,
    `container_spec_memory_limit_bytes{id="/docker/${id}",image="nginx",name="web"} 400`,
    `hostscope_container_state{id="/docker/${id}",image="nginx",name="web",state="running"} 1`,
    `hostscope_container_restarts_total{id="/docker/${id}",image="nginx",name="web"} 3`,
    `hostscope_container_state{id="/docker/${'c'.repeat(64)}",image="redis",name="cache",state="exited"} 1`,
    extra,
  ]
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n');
}

function scrape(live: LiveTracker, usage: UsageTracker, timeMs: number, body: string, cache?: ParseCache) {
  const families = parseExposition(body, 'text', cache);
  const u = usage.compute(target, timeMs, families);
  return live.observe({
    target,
    timeMs,
    durationSeconds: 0.01,
    families,
    ...(u.host === undefined ? {} : { hostUsage: u.host }),
    containerUsage: u.containers,
  });
}

describe('LiveTracker', () => {
  const base: Step = {
    user: 100,
    system: 50,
    idle: 850,
    rx: 1000,
    lo: 5,
    read: 0,
    avail: 500,
    cpuContainer: 10,
  };

  it('computes CPU by mode, throughput without lo, filesystems and containers from two scrapes', () => {
    for (const cache of [undefined, new ParseCache()]) {
      const live = new LiveTracker();
      const usage = new UsageTracker();
      const first = scrape(live, usage, T0, text(base), cache);
      expect(first.up).toBe(true);
      expect(first.point.cpu).toEqual({});
      expect(first.point.rx).toBeNull();
      const second = scrape(
        live,
        usage,
        T0 + 10_000,
        text({
          ...base,
          user: 106,
          system: 52,
          idle: 852,
          rx: 11_000,
          lo: 99_999,
          read: 4096,
          cpuContainer: 15,
        }),
        cache,
      );
      // Per CPU: user +6, system +2, idle +2 of 10 s.
      expect(second.point.cpu).toEqual({ user: 60, system: 20, idle: 20 });
      expect(second.cpu.count).toBe(2);
      expect(second.cpu.percent).toBeCloseTo(80, 6);
      expect(second.point.rx).toBe(1000);
      expect(second.point.tx).toBe(500);
      expect(second.point.read).toBeCloseTo(409.6, 6);
      expect(second.network.devices.map((d) => d.device)).toEqual(['eth0']);
      expect(second.memory).toEqual({
        total_bytes: 8000,
        available_bytes: 2000,
        used_bytes: 6000,
        percent: 75,
      });
      expect(second.point.load1).toBe(1.5);
      expect(second.filesystems.list).toHaveLength(1);
      expect(second.filesystems.list[0]).toMatchObject({
        mountpoint: '/',
        used_percent: 50,
        forecast_used_percent_24h: null,
      });
      expect(second.point.fs).toEqual({ '/': 50 });
      const [web, cache_] = second.containers.list;
      expect(web).toMatchObject({
        name: 'web',
        state: 'running',
        cpu_cores: 0.5,
        cpu_percent: 25,
        restarts: 3,
      });
      expect(web?.memory_percent).toBe(25);
      expect(cache_).toMatchObject({ name: 'cache', state: 'exited', cpu_percent: null });
      expect(second.containers).toMatchObject({ count: 2, running: 1 });
    }
  });

  it('uses the fill trend it is given for the forecast', () => {
    const live = new LiveTracker();
    live.setTrends(new Map([[trendKey('h:9100', '/', '/dev/sda1'), 100 / 86_400]]));
    const h = scrape(live, new UsageTracker(), T0, text(base));
    expect(h.filesystems.list[0]?.growth_bytes_per_day).toBeCloseTo(100, 6);
    expect(h.filesystems.list[0]?.forecast_used_percent_24h).toBeCloseTo(60, 6);
    expect(h.filesystems.list[0]?.full_in_seconds).toBeCloseTo(5 * 86_400, 3);
  });

  it('a counter reset gives no rate rather than a negative one, and a failed scrape keeps the last figures, down', () => {
    const live = new LiveTracker();
    const usage = new UsageTracker();
    scrape(live, usage, T0, text(base));
    const reset = scrape(live, usage, T0 + 10_000, text({ ...base, user: 1, rx: 10 }));
    expect(reset.point.cpu).toEqual({});
    expect(reset.point.rx).toBeNull();
    const down = live.observe({
      target,
      timeMs: T0 + 20_000,
      durationSeconds: 1,
      error: 'connection refused',
      containerUsage: [],
    });
    expect(down.up).toBe(false);
    expect(down.error).toBe('connection refused');
    expect(down.memory.used_bytes).toBe(6000);
    expect(live.hosts()).toHaveLength(1);
  });

  it('bounds what one host lists (a host with thousands of containers stays small)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) {
      const id = i.toString(16).padStart(64, '0');
      lines.push(`container_memory_working_set_bytes{id="/docker/${id}",image="x",name="c${i}"} ${i}`);
    }
    const h = scrape(new LiveTracker(), new UsageTracker(), T0, text(base, lines.join('\n')));
    expect(h.containers.count).toBe(502);
    expect(h.containers.list).toHaveLength(MAX_CONTAINERS);
    // The busiest first: no CPU figure yet on a first scrape, so by memory.
    expect(h.containers.list[0]?.name).toBe('c499');
    expect(JSON.stringify(h).length).toBeLessThan(20_000);
  });
});
