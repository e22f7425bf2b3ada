import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { dockerCollector } from '../../../src/collectors/docker/definition';
import type { DockerCollector } from '../../../src/collectors/docker/docker';
import { DockerUnavailableError } from '../../../src/collectors/docker/engine';
import { buildOptions, type RawOptionValue } from '../../../src/collectors/options';
import { CollectorRunner } from '../../../src/collectors/runner';
import { encode } from '../../../src/exposition/encode';
import { HostFs, type HostPaths } from '../../../src/host/host-fs';
import { createLogger, silentLogger } from '../../../src/log/logger';
import type { MetricFamily } from '../../../src/metrics/types';
import { DockerReplay } from '../../helpers/docker-replay';
import { family, valueOf } from '../../helpers/collect';

const FX = path.join(__dirname, '../../fixtures/docker');
const GOLDEN = path.join(FX, 'golden');
const WEB = '65113ef10f7bc19b3bdf5647d5c3a18687b63df10044793ee636ce83740bd8de';
const DB = 'cb0962a707edc4a8741a96a1e772170f24fb5669d3ac5d7fcae522746f7df596';
const V1_NAMES = ['fx-web', 'fx-db', 'fx-host'];

const pathsOf = (root: string): HostPaths => ({
  procfs: path.join(root, 'proc'),
  sysfs: path.join(root, 'sys'),
  rootfs: path.join(root, 'rootfs'),
  udevData: path.join(root, 'udev'),
});

function makeCollector(
  replay: DockerReplay,
  root: string,
  options: Record<string, RawOptionValue> = {},
  logger = silentLogger(),
): DockerCollector {
  return dockerCollector.create({
    fs: new HostFs(pathsOf(root)),
    logger,
    options: buildOptions(dockerCollector.options ?? [], {
      host: replay.host,
      'fs-usage-interval': '0',
      ...options,
    }),
  }) as DockerCollector;
}

const scrape = (c: DockerCollector): Promise<MetricFamily[]> =>
  c.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 5000 });

/** The exposition with the wall-clock value of live container_last_seen samples masked. */
function masked(families: readonly MetricFamily[], nowSeconds: number): string {
  return encode(families).replace(
    new RegExp(`^(container_last_seen\\{.*\\}) ${nowSeconds}$`, 'gm'),
    '$1 <now>',
  );
}

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const NOW = Date.UTC(2026, 10, 25, 18, 0, 0);

describe('docker collector on recorded fixtures', () => {
  let replay: DockerReplay;
  let now = NOW;

  beforeEach(() => {
    now = NOW;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await replay.stop();
  });

  it('matches the golden output for the cgroup v1 (cgroupfs) tree', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'));
    try {
      golden('v1.prom', masked(await scrape(c), Math.floor(now / 1000)));
    } finally {
      await c.close();
    }
    // Per scrape, only the cached state is used: one ping, info, events, list and an inspect each.
    expect(replay.requests.filter((r) => r.includes('/stats'))).toEqual([]);
  });

  it('matches the golden output for the cgroup v2 (systemd driver) tree, per-CPU off', async () => {
    replay = await DockerReplay.start('v2', ['v2-app']);
    const c = makeCollector(replay, path.join(FX, 'v2'));
    try {
      golden('v2.prom', masked(await scrape(c), Math.floor(now / 1000)));
    } finally {
      await c.close();
    }
  });

  it('makes no Engine API call per container per scrape', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'));
    try {
      await scrape(c);
      const after = replay.requests.length;
      await scrape(c);
      await scrape(c);
      expect(replay.requests.slice(after)).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('exports cAdvisor semantics for the recorded throttled, limited container', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'), { percpu: true });
    try {
      const f = await scrape(c);
      const web = { name: 'fx-web' };
      expect(
        family(f, 'container_cpu_usage_seconds_total').samples.filter((s) => s.labels.name === 'fx-web'),
      ).toHaveLength(2);
      expect(valueOf(f, 'container_spec_cpu_quota', web)).toBe(50000);
      expect(valueOf(f, 'container_cpu_cfs_throttled_periods_total', web)).toBe(21);
      expect(valueOf(f, 'container_spec_memory_limit_bytes', web)).toBe(67108864);
      expect(valueOf(f, 'container_health_state', web)).toBe(1);
      expect(valueOf(f, 'container_health_state', { name: 'fx-db' })).toBe(-1);
      // Unlimited containers have no quota, hence no CFS counters (cAdvisor's condition).
      expect(family(f, 'container_spec_cpu_quota').samples.map((s) => s.labels.name)).toEqual(['fx-web']);
      expect(valueOf(f, 'container_fs_reads_bytes_total', { ...web, device: '/dev/vda' })).toBe(1052672);
      // --network none: no series (lo is ignored); --network host: the host's interfaces but lo. Samples
      // come in exposition order (by label text).
      expect(
        family(f, 'container_network_receive_bytes_total').samples.map((s) => s.labels.interface),
      ).toEqual(['eth0', 'ifb0', 'ifb1']);
      expect(
        valueOf(f, 'container_network_receive_bytes_total', { name: 'fx-host', interface: 'eth0' }),
      ).toBe(344135746);
      // Every series of a family carries every container label name of the scrape.
      const names = family(f, 'container_memory_rss').samples.map((s) =>
        Object.keys(s.labels).sort().join(','),
      );
      expect(new Set(names).size).toBe(1);
      expect(valueOf(f, 'container_memory_rss', { name: 'fx-db' })).toBeGreaterThan(0);
      expect(
        family(f, 'container_memory_rss').samples.find((s) => s.labels.name === 'fx-db')?.labels,
      ).toMatchObject({
        container_label_com_docker_compose_project: '',
      });
    } finally {
      await c.close();
    }
  });

  it('keeps a killed container for the grace window with container_last_seen frozen, then drops it', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'), { 'gone-grace': '5m' });
    try {
      await scrape(c);
      const seen = Math.floor(now / 1000);
      const doc = replay.inspect.get(WEB) as { State: Record<string, unknown> };
      doc.State = { ...doc.State, Status: 'exited', Running: false, Pid: 0, ExitCode: 137 };
      replay.emit(replay.containerEvent(WEB, 'kill'));
      replay.emit(replay.containerEvent(WEB, 'die'));
      await until(() => c.knownContainer(WEB)?.state === 'exited', 'the die event');

      now += 60_000;
      let f = await scrape(c);
      expect(valueOf(f, 'container_last_seen', { name: 'fx-web' })).toBe(seen);
      expect(valueOf(f, 'container_last_seen', { name: 'fx-db' })).toBe(Math.floor(now / 1000));
      expect(valueOf(f, 'hostscope_container_state', { name: 'fx-web', state: 'exited' })).toBe(1);
      expect(valueOf(f, 'hostscope_container_exit_code', { name: 'fx-web' })).toBe(137);

      now += 5 * 60_000;
      f = await scrape(c);
      expect(
        family(f, 'container_last_seen')
          .samples.map((s) => s.labels.name)
          .sort(),
      ).toEqual(['fx-db', 'fx-host']);
      expect(valueOf(f, 'hostscope_container_state', { name: 'fx-web', state: 'exited' })).toBe(1);

      replay.inspect.delete(WEB);
      replay.emit(replay.containerEvent(WEB, 'destroy'));
      await until(() => c.knownContainer(WEB) === undefined, 'the destroy event');
      now += 60_000;
      f = await scrape(c);
      expect(family(f, 'hostscope_container_state').samples.some((s) => s.labels.name === 'fx-web')).toBe(
        true,
      );
      now += 5 * 60_000;
      f = await scrape(c);
      expect(family(f, 'hostscope_container_state').samples.some((s) => s.labels.name === 'fx-web')).toBe(
        false,
      );
    } finally {
      await c.close();
    }
  });

  it('forgets a destroyed container even when an inspect answered before the destroy arrives after it', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'), {});
    try {
      await scrape(c);
      let open: () => void = () => undefined;
      replay.inspectGate = new Promise<void>((resolve) => (open = resolve));
      const answered = replay.inspectsAnswered;
      // `docker rm -f`: die (the collector inspects; the engine is slow to answer), then destroy.
      replay.emit(replay.containerEvent(WEB, 'die'));
      await until(
        () => replay.requests.filter((r) => r.includes(WEB.slice(0, 12))).length > 0,
        'the inspect',
      );
      replay.emit(replay.containerEvent(WEB, 'destroy'));
      await until(() => c.knownContainer(WEB) === undefined, 'the destroy event');
      replay.inspect.delete(WEB);
      replay.inspectGate = undefined;
      open();
      await until(() => replay.inspectsAnswered > answered, 'the held inspect answered');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(c.knownContainer(WEB)).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it('skips a container whose cgroup vanishes mid-scrape, without error', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hostscope-docker-fx-'));
    cpSync(path.join(FX, 'v1'), root, { recursive: true });
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, root);
    try {
      const first = await scrape(c);
      const before = valueOf(first, 'container_memory_usage_bytes', { name: 'fx-db' });
      // A removed cgroup's files fail to read (ENODEV, then ENOENT on reopen). A removed regular file would
      // still read through the descriptor the reader keeps open, so the fixture files are emptied instead.
      for (const f of ['cpuacct/cpuacct.usage', 'memory/memory.usage_in_bytes', 'memory/memory.stat']) {
        const [ctrl, file] = f.split('/') as [string, string];
        writeFileSync(path.join(root, 'sys/fs/cgroup', ctrl, 'docker', DB, file), '');
      }
      now += 15_000;
      const f = await scrape(c);
      expect(valueOf(f, 'container_memory_usage_bytes', { name: 'fx-db' })).toBe(before);
      expect(valueOf(f, 'container_last_seen', { name: 'fx-db' })).toBe(Math.floor(NOW / 1000));
      expect(valueOf(f, 'container_last_seen', { name: 'fx-web' })).toBe(Math.floor(now / 1000));
    } finally {
      await c.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('follows health_status, oom and rename events', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'));
    try {
      await scrape(c);
      replay.emit({ ...replay.containerEvent(WEB, 'health_status: unhealthy') });
      replay.emit(replay.containerEvent(DB, 'oom'));
      const doc = replay.inspect.get(DB) as { Name: string };
      doc.Name = '/renamed-db';
      replay.emit(replay.containerEvent(DB, 'rename'));
      await until(() => c.knownContainer(DB)?.name === 'renamed-db', 'the rename');
      const f = await scrape(c);
      expect(valueOf(f, 'container_health_state', { name: 'fx-web' })).toBe(0);
      expect(valueOf(f, 'hostscope_container_health_status', { name: 'fx-web' })).toBe(1);
      expect(
        family(f, 'hostscope_container_health_status').samples.find((s) => s.labels.name === 'fx-web')?.labels
          .status,
      ).toBe('unhealthy');
      expect(valueOf(f, 'container_oom_events_total', { name: 'renamed-db' })).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('uses the stats API when asked (or when cgroup files are unreadable) and says so', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'), { 'stats-source': 'api' });
    try {
      const f = await scrape(c);
      expect(valueOf(f, 'hostscope_docker_stats_api_fallback')).toBe(1);
      expect(valueOf(f, 'container_memory_usage_bytes', { name: 'fx-web' })).toBeGreaterThan(0);
      expect(valueOf(f, 'container_spec_cpu_quota', { name: 'fx-web' })).toBe(50000);
      expect(replay.requests.filter((r) => r.endsWith('/stats'))).toHaveLength(3);
    } finally {
      await c.close();
    }
    const none = makeCollector(replay, path.join(FX, 'no-such-tree'));
    try {
      expect(valueOf(await scrape(none), 'hostscope_docker_stats_api_fallback')).toBe(1);
    } finally {
      await none.close();
    }
  });

  it('applies the label include/exclude options', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const c = makeCollector(replay, path.join(FX, 'v1'), {
      'label-include': 'org\\..*',
      'label-exclude': '.*quote',
    });
    try {
      const labels = family(await scrape(c), 'container_memory_rss').samples[0]?.labels ?? {};
      expect(
        Object.keys(labels)
          .filter((k) => k.startsWith('container_label_'))
          .sort(),
      ).toEqual(['container_label_com_docker_compose_project', 'container_label_com_docker_compose_service']);
    } finally {
      await c.close();
    }
  });

  it('reports the engine down with hostscope_docker_up 0, warns once (no stack trace), and recovers with one info line', async () => {
    replay = await DockerReplay.start('v1', V1_NAMES);
    const lines: string[] = [];
    const logger = createLogger(
      { level: 'debug', format: 'json' },
      new Writable({
        write(chunk: Buffer, _e, done) {
          lines.push(
            ...chunk
              .toString()
              .split('\n')
              .filter((l) => l !== ''),
          );
          done();
        },
      }),
    );
    const c = makeCollector(replay, path.join(FX, 'v1'), {}, logger);
    const runner = new CollectorRunner([{ name: 'docker', collector: c }], 5000, logger);
    try {
      await runner.collect();
      await replay.pause();
      await until(() => !c.engineUp, 'the lost event stream');
      for (let i = 0; i < 3; i++) {
        const f = await runner.collect();
        expect(valueOf(f, 'node_scrape_collector_success', { collector: 'docker' })).toBe(0);
        const err = await scrape(c).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DockerUnavailableError);
        const families = (err as DockerUnavailableError).families;
        expect(valueOf([...families], 'hostscope_docker_up')).toBe(0);
        expect(valueOf([...families], 'machine_cpu_cores')).toBe(2);
        expect((err as Error).message).toMatch(
          /^Docker Engine not reachable at unix:\/\/.*: connect (ENOENT|ECONNREFUSED)/,
        );
      }
      const visible = (): { level: string; msg: string; docker?: string; err?: unknown }[] =>
        lines
          .map((l) => JSON.parse(l) as { level: string; msg: string; docker?: string; err?: unknown })
          .filter((l) => l.level !== 'debug');
      // One warning naming the socket, no stack trace, nothing at error level.
      expect(visible()).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: `Docker Engine not reachable: container metrics are off until it appears at ${replay.socketPath}`,
          docker: replay.socketPath,
        }),
      ]);
      expect(visible()[0]).not.toHaveProperty('err');
      await replay.resume();
      const back = await runner.collect();
      expect(valueOf(back, 'node_scrape_collector_success', { collector: 'docker' })).toBe(1);
      expect(valueOf(back, 'hostscope_docker_up')).toBe(1);
      expect(family(back, 'container_last_seen').samples).toHaveLength(3);
      await runner.collect();
      expect(visible().slice(1)).toEqual([
        expect.objectContaining({
          level: 'info',
          msg: `Docker Engine reachable at ${replay.socketPath}: container metrics are on`,
        }),
      ]);
    } finally {
      await runner.close();
    }
  });

  it('rejects bad option values at creation', () => {
    const opts = (o: Record<string, RawOptionValue>) => ({
      fs: new HostFs(pathsOf(FX)),
      logger: silentLogger(),
      options: buildOptions(dockerCollector.options ?? [], o),
    });
    expect(() => dockerCollector.create(opts({ 'stats-source': 'magic' }))).toThrow(/stats-source/);
    expect(() => dockerCollector.create(opts({ 'stats-concurrency': 0 }))).toThrow(/stats-concurrency/);
  });
});
