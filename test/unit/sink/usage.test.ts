import { parseExposition } from '../../../src/expfmt/parse';
import { extractInventory, InventoryTracker } from '../../../src/sink/inventory';
import type { Target } from '../../../src/sink/types';
import { containerIdFromCgroup, UsageTracker } from '../../../src/sink/usage';

const target: Target = { url: 'http://h:9100/metrics', instance: 'h:9100', job: 'node' };
const ID = 'a'.repeat(64);

/** Exporter text for a 2-CPU host: per CPU `user` and `system` busy seconds, `idle`, `iowait`. */
function hostText(cpu: { user: number; system: number; idle: number; iowait: number }[], extra = ''): string {
  const lines = ['# TYPE node_cpu_seconds_total counter'];
  cpu.forEach((c, i) => {
    for (const mode of ['user', 'system', 'idle', 'iowait'] as const)
      lines.push(`node_cpu_seconds_total{cpu="${i}",mode="${mode}"} ${c[mode]}`);
  });
  lines.push(
    '# TYPE node_memory_MemTotal_bytes gauge',
    'node_memory_MemTotal_bytes 8000',
    '# TYPE node_memory_MemAvailable_bytes gauge',
    'node_memory_MemAvailable_bytes 6000',
    '# TYPE node_load1 gauge',
    'node_load1 0.5',
    'node_uname_info{nodename="web-1",release="6.1",machine="x86_64",sysname="Linux"} 1',
  );
  return `${lines.join('\n')}\n${extra}`;
}

function containerText(cpuSeconds: number, mem: number, limit: number, state = ''): string {
  const l = `id="/docker/${ID}",image="nginx:1",name="web",container_label_app="shop"`;
  return (
    [
      'machine_cpu_cores 4',
      'machine_memory_bytes 16000',
      '# TYPE container_cpu_usage_seconds_total counter',
      `container_cpu_usage_seconds_total{cpu="total",${l}} ${cpuSeconds}`,
      `container_cpu_usage_seconds_total{cpu="total",id="/",image="",name=""} 999`,
      `container_memory_working_set_bytes{${l}} ${mem}`,
      `container_spec_memory_limit_bytes{${l}} ${limit}`,
      state,
    ].join('\n') + '\n'
  );
}

describe('UsageTracker', () => {
  it('computes host CPU % from counter deltas (busy = all modes but idle and iowait) and memory', () => {
    const u = new UsageTracker();
    const t0 = 1_700_000_000_000;
    const first = u.compute(
      target,
      t0,
      parseExposition(
        hostText([
          { user: 100, system: 50, idle: 800, iowait: 50 },
          { user: 100, system: 50, idle: 800, iowait: 50 },
        ]),
        'text',
      ),
    );
    expect(first.host?.cpu_percent).toBeNull(); // no previous scrape yet
    expect(first.host).toMatchObject({
      cpu_count: 2,
      memory_total_bytes: 8000,
      memory_used_bytes: 2000,
      memory_percent: 25,
      host: 'web-1',
      load1: 0.5,
    });
    // In 10 s: CPU0 busy 6 s (user 4 + system 2), idle 3, iowait 1; CPU1 busy 2, idle 8, iowait 0.
    const second = u.compute(
      target,
      t0 + 10_000,
      parseExposition(
        hostText([
          { user: 104, system: 52, idle: 803, iowait: 51 },
          { user: 101, system: 51, idle: 808, iowait: 50 },
        ]),
        'text',
      ),
    );
    expect(second.host?.cpu_percent).toBeCloseTo((100 * 8) / 20, 6);
    expect(second.host?.cpu_iowait_percent).toBeCloseTo((100 * 1) / 20, 6);
    expect(second.host?.time).toBe(new Date(t0 + 10_000).toISOString());
  });

  it('gives NULL CPU % across a counter reset (reboot) and recovers on the next scrape', () => {
    const u = new UsageTracker();
    const c = (v: number): { user: number; system: number; idle: number; iowait: number }[] => [
      { user: v, system: v, idle: 10 * v, iowait: 0 },
    ];
    u.compute(target, 0, parseExposition(hostText(c(1000)), 'text'));
    expect(u.compute(target, 15_000, parseExposition(hostText(c(1)), 'text')).host?.cpu_percent).toBeNull();
    expect(u.compute(target, 30_000, parseExposition(hostText(c(2)), 'text')).host?.cpu_percent).toBeCloseTo(
      (100 * 2) / 12,
      6,
    );
  });

  it('computes container CPU as a share of the machine and memory % against the limit or machine memory', () => {
    const u = new UsageTracker();
    const a = u.compute(target, 0, parseExposition(containerText(10, 500, 1000), 'text'));
    expect(a.containers).toHaveLength(1);
    expect(a.containers[0]).toMatchObject({
      container: 'web',
      container_id: ID,
      image: 'nginx:1',
      cpu_percent: null,
      memory_percent: 50,
      status: 'running',
    });
    // 3 CPU-seconds in 2 s = 1.5 cores = 37.5 % of 4 cores; no limit -> against 16000 machine bytes.
    const b = u.compute(
      target,
      2000,
      parseExposition(
        containerText(
          13,
          4000,
          0,
          'hostscope_container_state{id="/docker/' + ID + '",name="web",state="paused"} 1',
        ),
        'text',
      ),
    );
    expect(b.containers[0]).toMatchObject({
      cpu_cores: 1.5,
      cpu_percent: 37.5,
      memory_limit_bytes: 16000,
      memory_percent: 25,
      status: 'paused',
    });
  });

  it('extracts container ids from cgroup paths', () => {
    expect(containerIdFromCgroup(`/docker/${ID}`)).toBe(ID);
    expect(containerIdFromCgroup(`/system.slice/docker-${ID}.scope`)).toBe(ID);
    expect(containerIdFromCgroup('/user.slice')).toBe('/user.slice');
  });
});

describe('inventory extraction', () => {
  const info = (disk: string): string =>
    [
      'hostscope_system_info{hostname="web-1",os="Debian",kernel="6.1",arch="x64",vendor="QEMU",model="pc",version="",serial="S",uuid="U",virtual="true",virtualization="kvm",os_release="12"} 1',
      'hostscope_cpu_info{vendor="Intel",brand="Xeon",family="6",model="106",stepping="6",cores="4",physical_cores="2",sockets="1",max_mhz="3200",virtualization="vmx"} 1',
      disk,
      'hostscope_network_interface_info{interface="eth0",mac="m",ip4="10.0.0.1",ip6="",type="wired",speed_mbps="1000",mtu="1500",virtual="false",internal="false"} 1',
    ].join('\n') + '\n';

  it('types columns, keys items, and reports a kind only when the exporter reports inventory', () => {
    const snap = extractInventory(
      target,
      0,
      parseExposition(
        info(
          'hostscope_disk_info{device="/dev/sda",type="SSD",name="n",vendor="v",size_bytes="1000",interface="SATA",serial="s",firmware="f"} 1',
        ),
        'text',
      ),
    );
    expect(snap.host.columns).toMatchObject({ hostname: 'web-1', os: 'Debian', virtual: true });
    expect(snap.kinds.cpu_info?.[0]?.columns).toMatchObject({ cores: 4, max_mhz: 3200, brand: 'Xeon' });
    expect(snap.kinds.disk_info?.map((d) => d.key)).toEqual(['/dev/sda']);
    expect(snap.kinds.disk_info?.[0]?.columns.size_bytes).toBe(1000);
    expect(snap.kinds.memory_info).toEqual([]);
    expect(snap.kinds.containers).toBeUndefined();
    const bare = extractInventory(target, 0, parseExposition('node_load1 1\n', 'text'));
    expect(bare.kinds).toEqual({});
  });

  it('InventoryTracker writes on change and on refresh only', () => {
    const tracker = new InventoryTracker(60_000);
    const s1 = extractInventory(target, 0, parseExposition(info(''), 'text'));
    const s2 = extractInventory(target, 15_000, parseExposition(info(''), 'text'));
    const s3 = extractInventory(
      target,
      30_000,
      parseExposition(info('hostscope_disk_info{device="/dev/sdb"} 1'), 'text'),
    );
    const s4 = extractInventory(
      target,
      100_000,
      parseExposition(info('hostscope_disk_info{device="/dev/sdb"} 1'), 'text'),
    );
    expect([tracker.due(s1), tracker.due(s2), tracker.due(s3), tracker.due(s4)]).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });
});
