import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  countTaskStates,
  cpuWeightToShares,
  isIgnoredInterface,
  joinBlkioV1,
  KeyedFile,
  parseContainerNetDev,
  parseCpuMax,
  parseIoStatV2,
  parseKeyValues,
  parsePerCpu,
  parseProcCgroup,
  parseSingleValue,
  specFromV1,
  specFromV2,
  specMemoryValue,
  statsFromV1,
  statsFromV2,
  type V1Texts,
  type V2Texts,
} from '../../../src/collectors/docker/cgroup.parse';

const FX = path.join(__dirname, '../../fixtures/docker');
const WEB = '65113ef10f7bc19b3bdf5647d5c3a18687b63df10044793ee636ce83740bd8de';
const V2_ID = '9f2d7c41e8a34b6f0c5d2e1a7b3f8c9d0e4a6b2c1d7f3e5a8b9c0d1e2f3a4b5c';

const v1 = (ctrl: string, file: string, id = WEB): string =>
  readFileSync(path.join(FX, 'v1/sys/fs/cgroup', ctrl, 'docker', id, file), 'utf8');
const v2 = (file: string): string =>
  readFileSync(path.join(FX, 'v2/sys/fs/cgroup/system.slice', `docker-${V2_ID}.scope`, file), 'utf8');

function without<T extends object>(o: T, key: keyof T): T {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

function webTexts(): V1Texts {
  return {
    cpuacctUsage: v1('cpuacct', 'cpuacct.usage'),
    cpuacctStat: v1('cpuacct', 'cpuacct.stat'),
    cpuacctPercpu: v1('cpuacct', 'cpuacct.usage_percpu'),
    cpuStat: v1('cpu', 'cpu.stat'),
    memUsage: v1('memory', 'memory.usage_in_bytes'),
    memMaxUsage: v1('memory', 'memory.max_usage_in_bytes'),
    memFailcnt: v1('memory', 'memory.failcnt'),
    memStat: v1('memory', 'memory.stat'),
    memOomControl: v1('memory', 'memory.oom_control'),
    blkioBfqBytes: v1('blkio', 'blkio.bfq.io_service_bytes_recursive'),
    blkioBfqIos: v1('blkio', 'blkio.bfq.io_serviced_recursive'),
    blkioThrottleBytes: v1('blkio', 'blkio.throttle.io_service_bytes_recursive'),
    blkioThrottleIos: v1('blkio', 'blkio.throttle.io_serviced_recursive'),
    pidsCurrent: v1('pids', 'pids.current'),
    pidsMax: v1('pids', 'pids.max'),
    procs: '1',
    tasks: 'S',
  };
}

describe('small cgroup formats', () => {
  it('parses single values, with "max" as Infinity and garbage as undefined', () => {
    expect(parseSingleValue('4096\n')).toBe(4096);
    expect(parseSingleValue('max\n')).toBe(Infinity);
    expect(parseSingleValue('-1\n')).toBe(-1);
    expect(parseSingleValue('')).toBeUndefined();
    expect(parseSingleValue('12 34')).toBeUndefined();
  });

  it('parses flat keyed files, skipping malformed lines', () => {
    const kv = parseKeyValues('user 12\nsystem 3\nbogus\n\nweird x\nlast 7');
    expect([...kv]).toEqual([
      ['user', 12],
      ['system', 3],
      ['last', 7],
    ]);
  });

  it('reads a keyed file by key with the values parseKeyValues gives', () => {
    const files = [
      v1('memory', 'memory.stat'),
      v1('cpuacct', 'cpuacct.stat'),
      v1('cpu', 'cpu.stat'),
      v1('memory', 'memory.oom_control'),
      v2('memory.stat'),
      v2('cpu.stat'),
      v2('memory.events'),
      'user 12\nsystem 3\nbogus\n\nweird x\nlast 7',
    ];
    for (const text of files) {
      const map = parseKeyValues(text);
      const keyed = new KeyedFile(text);
      expect(map.size).toBeGreaterThan(0);
      for (const [k, v] of map) expect(keyed.get(k)).toBe(v);
    }
    // A key is a whole first field: `file` is not `file_mapped`, nor the tail of `total_file`.
    const keyed = new KeyedFile('total_file 9\nfile_mapped 4\nfile 7\nweird x\n');
    expect(keyed.get('file')).toBe(7);
    expect(keyed.get('file_mapped')).toBe(4);
    expect(keyed.get('weird')).toBeUndefined();
    expect(keyed.get('missing')).toBeUndefined();
    expect(keyed.get('mapped')).toBeUndefined();
  });

  it('joins no devices from blkio files that only hold a total', () => {
    expect(joinBlkioV1('Total 0\n', 'Total 0\n')).toEqual([]);
    expect(joinBlkioV1('', '')).toEqual([]);
    expect(joinBlkioV1('Total 0\n', '8:0 Read 3\n8:0 Write 4\nTotal 7\n')).toEqual([
      { major: 8, minor: 0, readBytes: 0, writeBytes: 0, reads: 3, writes: 4 },
    ]);
  });

  it('parses per-CPU usage and cpu.max', () => {
    expect(parsePerCpu('10 0 25 \n')).toEqual([10, 0, 25]);
    expect(parseCpuMax('max 100000\n')).toEqual({ quota: 0, period: 100000 });
    expect(parseCpuMax('50000 100000\n')).toEqual({ quota: 50000, period: 100000 });
    expect(parseCpuMax('garbage')).toBeUndefined();
  });

  it('parses /proc/<pid>/cgroup for v1 and v2', () => {
    const text = readFileSync(path.join(FX, 'v1/proc/13201/cgroup'), 'utf8');
    const entries = parseProcCgroup(text);
    expect(entries.find((e) => e.controllers.includes('memory'))?.path).toBe(`/docker/${WEB}`);
    expect(entries.find((e) => e.hierarchy === 0)).toEqual({
      hierarchy: 0,
      controllers: [],
      path: `/docker/${WEB}`,
    });
    expect(parseProcCgroup('0::/system.slice/x.scope\nnot a line\n')).toEqual([
      { hierarchy: 0, controllers: [], path: '/system.slice/x.scope' },
    ]);
  });

  it('joins v1 blkio bytes and operations per device, ignoring Total lines', () => {
    const stats = joinBlkioV1(
      v1('blkio', 'blkio.throttle.io_service_bytes_recursive'),
      v1('blkio', 'blkio.throttle.io_serviced_recursive'),
    );
    expect(stats).toEqual([
      { major: 254, minor: 0, readBytes: 1052672, writeBytes: 8404992, reads: 37, writes: 66 },
    ]);
    expect(joinBlkioV1('Total 0\n', 'Total 0\n')).toEqual([]);
  });

  it('parses v2 io.stat', () => {
    expect(parseIoStatV2(v2('io.stat'))).toEqual([
      { major: 254, minor: 0, readBytes: 1052672, writeBytes: 8404992, reads: 37, writes: 66 },
      { major: 7, minor: 3, readBytes: 4096, writeBytes: 0, reads: 1, writes: 0 },
    ]);
  });

  it('drops the interfaces cAdvisor ignores and distrusts a malformed net/dev', () => {
    const text = readFileSync(path.join(FX, 'v2/proc/4242/net/dev'), 'utf8');
    expect(parseContainerNetDev(text)).toEqual([
      {
        name: 'eth0',
        rxBytes: 184326,
        rxPackets: 1208,
        rxErrors: 1,
        rxDropped: 3,
        txBytes: 93810,
        txPackets: 704,
        txErrors: 0,
        txDropped: 2,
      },
    ]);
    expect(isIgnoredInterface('VETH12ab')).toBe(true);
    expect(isIgnoredInterface('docker0')).toBe(true);
    expect(isIgnoredInterface('eth0')).toBe(false);
    expect(parseContainerNetDev('h1\nh2\n  eth0: 1 2 3\n')).toBeUndefined();
  });

  it('counts task states like the kernel cgroupstats (iowait is not visible in /proc)', () => {
    expect(countTaskStates('SSRDTt-?I')).toEqual({
      sleeping: 2,
      running: 1,
      stopped: 2,
      uninterruptible: 1,
      iowaiting: 0,
    });
  });

  it('converts cpu.weight to shares as cAdvisor and zeroes unlimited memory', () => {
    expect(cpuWeightToShares(100)).toBe(2597);
    expect(cpuWeightToShares(1)).toBe(2);
    expect(cpuWeightToShares(10000)).toBe(262144);
    expect(cpuWeightToShares(0)).toBe(0);
    expect(specMemoryValue(9223372036854771712)).toBe(0);
    expect(specMemoryValue(67108864)).toBe(67108864);
  });
});

describe('statsFromV1 (recorded fx-web: --cpus 0.5 --memory 64m, throttled)', () => {
  it('follows cAdvisor: usage ns, user/system from ticks, total_* keys, working set', () => {
    const s = statsFromV1(webTexts());
    expect(s).toBeDefined();
    const stats = s as NonNullable<typeof s>;
    expect(stats.cpu.totalNs).toBe(Number(v1('cpuacct', 'cpuacct.usage').trim()));
    const acct = parseKeyValues(v1('cpuacct', 'cpuacct.stat'));
    expect(stats.cpu.userNs).toBe((acct.get('user') as number) * 1e7);
    expect(stats.cpu.systemNs).toBe((acct.get('system') as number) * 1e7);
    expect(stats.cpu.perCpuNs).toEqual(parsePerCpu(v1('cpuacct', 'cpuacct.usage_percpu')));
    expect(stats.cpu.periods).toBe(37);
    expect(stats.cpu.throttledPeriods).toBe(21);
    expect(stats.cpu.throttledNs).toBe(1003912548);
    const mem = parseKeyValues(v1('memory', 'memory.stat'));
    const usage = Number(v1('memory', 'memory.usage_in_bytes').trim());
    expect(stats.memory.usage).toBe(usage);
    expect(stats.memory.cache).toBe(mem.get('total_cache'));
    expect(stats.memory.rss).toBe(mem.get('total_rss'));
    expect(stats.memory.workingSet).toBe(usage - (mem.get('total_inactive_file') as number));
    expect(stats.memory.pgfault).toBe(mem.get('pgfault'));
    expect(stats.blkio).toHaveLength(1);
    expect(stats.threads).toBe(1);
    expect(stats.threadsMax).toBe(0);
    expect(stats.processes).toBe(1);
    expect(stats.tasks).toEqual({ sleeping: 1, running: 0, stopped: 0, uninterruptible: 0, iowaiting: 0 });
  });

  it('uses the non-total keys when use_hierarchy is 0, and floors the working set at 0', () => {
    const s = statsFromV1({
      cpuacctUsage: '5\n',
      memUsage: '1000\n',
      memStat: 'cache 10\nrss 20\ntotal_cache 99\ntotal_rss 98\ntotal_inactive_file 5000\n',
      memUseHierarchy: '0\n',
    });
    expect(s?.memory.cache).toBe(10);
    expect(s?.memory.rss).toBe(20);
    expect(s?.memory.workingSet).toBe(0);
  });

  it('prefers BFQ blkio entries when the BFQ files have any', () => {
    const s = statsFromV1({
      ...webTexts(),
      blkioBfqBytes: '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
      blkioBfqIos: '8:0 Read 3\n8:0 Write 4\nTotal 7\n',
    });
    expect(s?.blkio).toEqual([{ major: 8, minor: 0, readBytes: 1, writeBytes: 2, reads: 3, writes: 4 }]);
  });

  it('returns undefined when the cgroup vanished (essential files missing)', () => {
    expect(statsFromV1(without(webTexts(), 'cpuacctUsage'))).toBeUndefined();
    expect(statsFromV1(without(webTexts(), 'memStat'))).toBeUndefined();
  });

  it('reads the OOM kill counter from memory.oom_control', () => {
    const s = statsFromV1({ ...webTexts(), memOomControl: 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n' });
    expect(s?.memory.oomKills).toBe(3);
  });
});

describe('statsFromV2 (hand-made systemd-driver tree)', () => {
  function texts(): V2Texts {
    return {
      cpuStat: v2('cpu.stat'),
      memCurrent: v2('memory.current'),
      memPeak: v2('memory.peak'),
      memStat: v2('memory.stat'),
      memEvents: v2('memory.events'),
      memSwapCurrent: v2('memory.swap.current'),
      ioStat: v2('io.stat'),
      pidsCurrent: v2('pids.current'),
      pidsMax: v2('pids.max'),
      procs: '1',
      threads: 'SR',
    };
  }

  it("follows runc's fs2 semantics", () => {
    const s = statsFromV2(texts());
    expect(s?.cpu).toEqual({
      totalNs: 2004518000,
      userNs: 1502259000,
      systemNs: 502259000,
      periods: 26,
      throttledPeriods: 21,
      throttledNs: 1003912000,
    });
    expect(s?.memory).toEqual({
      usage: 9854976,
      maxUsage: 10485760,
      failcnt: 12,
      cache: 8392704,
      rss: 1052672,
      swap: 4096,
      mappedFile: 4096,
      workingSet: 9854976 - 8388608,
      pgfault: 4211,
      pgmajfault: 3,
      oomKills: 1,
    });
    expect(s?.threads).toBe(2);
    expect(s?.threadsMax).toBe(0);
    expect(s?.tasks).toEqual({ sleeping: 1, running: 1, stopped: 0, uninterruptible: 0, iowaiting: 0 });
  });

  it('returns undefined without cpu.stat or memory.current', () => {
    expect(statsFromV2(without(texts(), 'cpuStat'))).toBeUndefined();
    expect(statsFromV2(without(texts(), 'memCurrent'))).toBeUndefined();
  });
});

describe('container spec', () => {
  it('reads v1 limits; quota -1 and unlimited memory become 0', () => {
    expect(
      specFromV1({
        cpuShares: v1('cpu', 'cpu.shares'),
        cpuPeriod: v1('cpu', 'cpu.cfs_period_us'),
        cpuQuota: v1('cpu', 'cpu.cfs_quota_us'),
        memLimit: v1('memory', 'memory.limit_in_bytes'),
        memSwLimit: v1('memory', 'memory.memsw.limit_in_bytes'),
        memSoftLimit: v1('memory', 'memory.soft_limit_in_bytes'),
      }),
    ).toEqual({
      cpuShares: 1024,
      cpuPeriod: 100000,
      cpuQuota: 50000,
      memoryLimit: 67108864,
      memorySwapLimit: 134217728,
      memoryReservation: 33554432,
    });
    expect(
      specFromV1({
        cpuQuota: '-1\n',
        memLimit: '9223372036854771712\n',
        memSwLimit: '9223372036854771712\n',
      }),
    ).toMatchObject({ cpuQuota: 0, memoryLimit: 0, memorySwapLimit: 0 });
  });

  it('reads v2 limits', () => {
    expect(
      specFromV2({
        cpuWeight: v2('cpu.weight'),
        cpuMax: v2('cpu.max'),
        memMax: v2('memory.max'),
        memSwapMax: v2('memory.swap.max'),
        memMin: v2('memory.min'),
      }),
    ).toEqual({
      cpuShares: 2597,
      cpuPeriod: 100000,
      cpuQuota: 50000,
      memoryLimit: 67108864,
      memorySwapLimit: 67108864,
      memoryReservation: 0,
    });
    expect(specFromV2({ cpuMax: 'max 100000\n', memMax: 'max\n' })).toMatchObject({
      cpuQuota: 0,
      memoryLimit: 0,
    });
  });
});
