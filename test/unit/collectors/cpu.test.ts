import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cpuCollector, mergeCpuTimes, type CounterJump } from '../../../src/collectors/cpu';
import { buildOptions } from '../../../src/collectors/options';
import type { CpuTimes } from '../../../src/collectors/stat.parse';
import { HostFs } from '../../../src/host/host-fs';
import { silentLogger } from '../../../src/log/logger';
import type { MetricFamily } from '../../../src/metrics/types';
import { collectOnce, family, FIXTURE_PATHS, valueOf } from '../../helpers/collect';

const names = (families: readonly MetricFamily[]): string[] => families.map((f) => f.name).sort();

describe('cpu collector on the fixture tree', () => {
  it('exports seconds per CPU and mode for the CPUs in /proc/stat only (offline cpu2 has no series)', async () => {
    const families = await collectOnce(cpuCollector);
    const seconds = family(families, 'node_cpu_seconds_total');
    expect(seconds.type).toBe('counter');
    expect(seconds.help).toBe('Seconds the CPUs spent in each mode.');
    expect(seconds.samples).toHaveLength(3 * 8);
    expect(new Set(seconds.samples.map((s) => s.labels.cpu))).toEqual(new Set(['0', '1', '3']));
    expect(valueOf(families, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' })).toBe(76.01);
    expect(valueOf(families, 'node_cpu_seconds_total', { cpu: '1', mode: 'idle' })).toBe(6280.9);
    expect(valueOf(families, 'node_cpu_seconds_total', { cpu: '3', mode: 'steal' })).toBe(0.46);
    expect(valueOf(families, 'node_cpu_seconds_total', { cpu: '0', mode: 'iowait' })).toBe(14.17);
  });

  it('exports guest time separately by default and not when guest is off', async () => {
    const families = await collectOnce(cpuCollector);
    expect(valueOf(families, 'node_cpu_guest_seconds_total', { cpu: '1', mode: 'user' })).toBe(0.4);
    expect(valueOf(families, 'node_cpu_guest_seconds_total', { cpu: '1', mode: 'nice' })).toBe(0.03);
    expect(family(families, 'node_cpu_guest_seconds_total').help).toBe(
      'Seconds the CPUs spent in guests (VMs) for each mode.',
    );
    const withoutGuest = await collectOnce(cpuCollector, { guest: false });
    expect(names(withoutGuest)).not.toContain('node_cpu_guest_seconds_total');
  });

  it('exports isolated CPUs and thermal throttles per package and per core', async () => {
    const families = await collectOnce(cpuCollector);
    expect(family(families, 'node_cpu_isolated').samples).toEqual([{ labels: { cpu: '1' }, value: 1 }]);
    const packages = family(families, 'node_cpu_package_throttles_total');
    expect(packages.type).toBe('counter');
    expect(valueOf(families, 'node_cpu_package_throttles_total', { package: '0' })).toBe(12);
    expect(valueOf(families, 'node_cpu_package_throttles_total', { package: '1' })).toBe(3);
    expect(packages.samples).toHaveLength(2);
    const cores = family(families, 'node_cpu_core_throttles_total');
    expect(cores.samples).toHaveLength(3);
    expect(valueOf(families, 'node_cpu_core_throttles_total', { package: '0', core: '0' })).toBe(5);
    expect(valueOf(families, 'node_cpu_core_throttles_total', { package: '0', core: '1' })).toBe(0);
    expect(valueOf(families, 'node_cpu_core_throttles_total', { package: '1', core: '0' })).toBe(7);
  });

  it('exports no cpu info by default', async () => {
    const families = await collectOnce(cpuCollector);
    expect(names(families)).toEqual([
      'node_cpu_core_throttles_total',
      'node_cpu_guest_seconds_total',
      'node_cpu_isolated',
      'node_cpu_package_throttles_total',
      'node_cpu_seconds_total',
    ]);
  });

  it('exports node_cpu_info per processor with info on, but flags and bugs only when asked for', async () => {
    const families = await collectOnce(cpuCollector, { info: true });
    const info = family(families, 'node_cpu_info');
    expect(info.help).toBe('CPU information from /proc/cpuinfo.');
    expect(info.samples).toHaveLength(3);
    expect(info.samples.find((s) => s.labels.cpu === '3')).toEqual({
      labels: {
        package: '1',
        core: '0',
        cpu: '3',
        vendor: 'AuthenticAMD',
        family: '25',
        model: '17',
        model_name: 'AMD EPYC 9454P 48-Core Processor',
        microcode: '0x1000065',
        stepping: '1',
        cachesize: '1024 KB',
      },
      value: 1,
    });
    expect(names(families)).not.toContain('node_cpu_flag_info');
    expect(names(families)).not.toContain('node_cpu_bug_info');
  });

  it('filters flags and bugs with unanchored regexes, which also turn info on', async () => {
    const families = await collectOnce(cpuCollector, {
      'info.flags-include': 'avx',
      'info.bugs-include': 'spectre_v[12]$',
    });
    expect(family(families, 'node_cpu_info').samples).toHaveLength(3);
    expect(family(families, 'node_cpu_flag_info').samples.map((s) => s.labels.flag)).toEqual([
      'avx',
      'avx2',
      'avx512f',
      'avx512dq',
    ]);
    expect(family(families, 'node_cpu_bug_info').samples.map((s) => s.labels.bug)).toEqual([
      'spectre_v1',
      'spectre_v2',
    ]);
  });

  it('works on a host without sysfs CPU directories or an isolated file', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'hostscope-cpu-'));
    try {
      const families = await collectOnce(cpuCollector, {}, { ...FIXTURE_PATHS, sysfs: empty });
      expect(names(families)).toEqual(['node_cpu_guest_seconds_total', 'node_cpu_seconds_total']);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

const times = (over: Partial<CpuTimes>): CpuTimes => ({
  user: 10,
  nice: 0,
  system: 5,
  idle: 100,
  iowait: 2,
  irq: 0,
  softirq: 1,
  steal: 0,
  guest: 0,
  guestNice: 0,
  ...over,
});

describe('mergeCpuTimes', () => {
  it('keeps the previous value of a counter that went back a little', () => {
    const jumps: CounterJump[] = [];
    const merged = mergeCpuTimes(
      new Map([['0', times({})]]),
      new Map([['0', times({ iowait: 1.5, user: 11, idle: 99 })]]),
      (j) => jumps.push(j),
    );
    expect(merged.get('0')).toEqual(times({ iowait: 2, user: 11, idle: 100 }));
    expect(jumps.map((j) => j.field).sort()).toEqual(['idle', 'iowait']);
  });

  it('starts the CPU over when idle goes back by 3 seconds or more (hot-plug)', () => {
    const merged = mergeCpuTimes(
      new Map([['0', times({})]]),
      new Map([['0', times({ idle: 97, iowait: 1 })]]),
    );
    expect(merged.get('0')).toEqual(times({ idle: 97, iowait: 1 }));
  });

  it('takes fresh values for every CPU when the set of CPUs changes', () => {
    const merged = mergeCpuTimes(
      new Map([['0', times({})]]),
      new Map([
        ['0', times({ user: 1 })],
        ['1', times({})],
      ]),
    );
    expect(merged.get('0')?.user).toBe(1);
    expect([...merged.keys()]).toEqual(['0', '1']);
  });
});

describe('cpu collector across scrapes', () => {
  let dir: string;
  const writeStat = (cpu0: string, extra = ''): void =>
    writeFileSync(path.join(dir, 'proc', 'stat'), `cpu  1 1 1 1 1 0 0 0 0 0\ncpu0 ${cpu0}\n${extra}ctxt 1\n`);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostscope-cpu-'));
    mkdirSync(path.join(dir, 'proc'));
    mkdirSync(path.join(dir, 'sys'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps node_cpu_seconds_total monotonic in one collector instance', async () => {
    const collector = cpuCollector.create({
      fs: new HostFs({
        procfs: path.join(dir, 'proc'),
        sysfs: path.join(dir, 'sys'),
        rootfs: dir,
        udevData: dir,
      }),
      logger: silentLogger(),
      options: buildOptions(cpuCollector.options ?? [], {}),
    });
    const scrape = async (): Promise<MetricFamily[]> =>
      collector.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 60_000 });
    const iowait = (f: MetricFamily[]): number =>
      valueOf(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'iowait' });
    const user = (f: MetricFamily[]): number =>
      valueOf(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' });

    writeStat('1000 0 500 50000 1417 0 0 0 0 0');
    expect(iowait(await scrape())).toBe(14.17);
    writeStat('1010 0 500 50050 1400 0 0 0 0 0'); // iowait went back by 0.17 s
    let f = await scrape();
    expect(iowait(f)).toBe(14.17);
    expect(user(f)).toBe(10.1);
    writeStat('1020 0 500 50060 1420 0 0 0 0 0');
    expect(iowait(await scrape())).toBe(14.2);
    writeStat('900 0 500 49000 10 0 0 0 0 0'); // idle back by 10.6 s: a hot-plugged CPU, start over
    f = await scrape();
    expect(iowait(f)).toBe(0.1);
    expect(user(f)).toBe(9);
  });
});
