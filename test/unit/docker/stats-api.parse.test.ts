import { specFromV1, statsFromV1 } from '../../../src/collectors/docker/cgroup.parse';
import { metaFromInspect } from '../../../src/collectors/docker/engine.parse';
import { specFromHostConfig, statsFromApi } from '../../../src/collectors/docker/stats-api.parse';
import { loadJson } from '../../helpers/docker-replay';

describe('statsFromApi', () => {
  it('maps a recorded v1 stats document like the cgroup files', () => {
    const s = statsFromApi(loadJson('v1', 'stats-fx-web.json'), 1);
    const doc = loadJson('v1', 'stats-fx-web.json') as {
      cpu_stats: { cpu_usage: { total_usage: number; usage_in_usermode: number } };
      memory_stats: { usage: number; stats: Record<string, number> };
    };
    expect(s?.cpu.totalNs).toBe(doc.cpu_stats.cpu_usage.total_usage);
    expect(s?.cpu.userNs).toBe(doc.cpu_stats.cpu_usage.usage_in_usermode);
    expect(s?.memory.usage).toBe(doc.memory_stats.usage);
    expect(s?.memory.cache).toBe(doc.memory_stats.stats.total_cache);
    expect(s?.memory.workingSet).toBe(
      doc.memory_stats.usage - (doc.memory_stats.stats.total_inactive_file ?? 0),
    );
    expect(s?.threads).toBe(1);
    expect(s?.network).toBeUndefined();
  });

  it('maps a v2 stats document (anon/file, lowercase blkio ops, networks, unlimited pids)', () => {
    const s = statsFromApi(loadJson('v2', 'stats-v2-app.json'), 2);
    expect(s?.memory).toMatchObject({
      usage: 9854976,
      rss: 1052672,
      cache: 8392704,
      workingSet: 9854976 - 8388608,
    });
    expect(s?.blkio).toEqual([
      { major: 7, minor: 3, readBytes: 4096, writeBytes: 0, reads: 0, writes: 0 },
      { major: 254, minor: 0, readBytes: 1052672, writeBytes: 8404992, reads: 0, writes: 0 },
    ]);
    expect(s?.network?.map((i) => i.name)).toEqual(['eth0']);
    expect(s?.network?.[0]?.rxDropped).toBe(3);
    expect(s?.threadsMax).toBe(0);
  });

  it('returns undefined for a stopped container (no CPU usage)', () => {
    expect(statsFromApi({ cpu_stats: { cpu_usage: { total_usage: 0 } } }, 1)).toBeUndefined();
    expect(statsFromApi({}, 2)).toBeUndefined();
  });
});

describe('specFromHostConfig', () => {
  it('derives the same v1 spec Docker wrote to the cgroup files', () => {
    const meta = metaFromInspect(loadJson('v1', 'inspect-fx-web.json'));
    const fromApi = specFromHostConfig((meta as NonNullable<typeof meta>).resources, 1);
    const fromFiles = specFromV1({
      cpuShares: '1024',
      cpuPeriod: '100000',
      cpuQuota: '50000',
      memLimit: '67108864',
      memSwLimit: '134217728',
      memSoftLimit: '33554432',
    });
    expect(fromApi).toEqual(fromFiles);
  });

  it('handles no limits and v2 semantics', () => {
    const none = {
      cpuShares: 0,
      cpuPeriod: 0,
      cpuQuota: 0,
      nanoCpus: 0,
      memory: 0,
      memorySwap: 0,
      memoryReservation: 0,
    };
    expect(specFromHostConfig(none, 1)).toEqual({
      cpuShares: 1024,
      cpuPeriod: 100000,
      cpuQuota: 0,
      memoryLimit: 0,
      memorySwapLimit: 0,
      memoryReservation: 0,
    });
    expect(
      specFromHostConfig({ ...none, memory: 64, memorySwap: 128, memoryReservation: 32, cpuShares: 1024 }, 2),
    ).toMatchObject({ cpuShares: 998, memoryLimit: 64, memorySwapLimit: 64, memoryReservation: 0 });
    expect(specFromHostConfig(none, 2).cpuShares).toBe(2597);
  });
});

describe('cgroup and API paths agree on a recorded container', () => {
  it('gives the same CPU and memory figures', () => {
    // Recorded a second apart, so only the static parts are compared exactly.
    const api = statsFromApi(loadJson('v1', 'stats-fx-db.json'), 1);
    const files = statsFromV1({
      cpuacctUsage: String(api?.cpu.totalNs),
      memUsage: String(api?.memory.usage),
      memStat: '',
    });
    expect(files?.cpu.totalNs).toBe(api?.cpu.totalNs);
    expect(files?.memory.usage).toBe(api?.memory.usage);
  });
});
