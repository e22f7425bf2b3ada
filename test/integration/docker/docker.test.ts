import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dockerCollector } from '../../../src/collectors/docker/definition';
import type { DockerCollector } from '../../../src/collectors/docker/docker';
import { buildOptions, type RawOptionValue } from '../../../src/collectors/options';
import { encode } from '../../../src/exposition/encode';
import { DEFAULT_HOST_PATHS, HostFs } from '../../../src/host/host-fs';
import { silentLogger } from '../../../src/log/logger';
import type { MetricFamily } from '../../../src/metrics/types';
import { family, valueOf } from '../../helpers/collect';
import {
  docker,
  ensureBusyboxImage,
  hasDocker,
  sharedDockerHost,
  statsApi,
  TestContainers,
  type TestContainer,
} from '../../helpers/docker';
import { describeWithService, hasBinary } from '../../helpers/services';

/*
 * The docker collector against the real Docker Engine of this machine (cgroup v1, cgroupfs driver), compared
 * with the engine's own stats API (what `docker stats` shows) for the same containers.
 *
 * Tolerances: the stats API reading is taken between two collector readings and must lie between them
 * (bracketing). CPU counters are cumulative: 1 ms slack for rounding. Memory is not monotonic and the
 * kernel batches charges per CPU: 128 KiB slack around the bracket for usage, working set and RSS; docker
 * stats' rounded figure 1% more. Limits must be equal.
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

function makeCollector(options: Record<string, RawOptionValue> = {}): DockerCollector {
  return dockerCollector.create({
    fs: new HostFs(DEFAULT_HOST_PATHS),
    logger: silentLogger(),
    options: buildOptions(dockerCollector.options ?? [], { host: sharedDockerHost(), ...options }),
  }) as DockerCollector;
}

const scrape = (c: DockerCollector): Promise<MetricFamily[]> =>
  c.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 10_000 });

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until the collector has the container live (its first scrape after start sees it). */
async function scrapeWith(c: DockerCollector, ct: TestContainer): Promise<MetricFamily[]> {
  let last: MetricFamily[] = [];
  await until(async () => {
    last = await scrape(c);
    return (
      family(last, 'hostscope_docker_up').samples.length > 0 && has(last, 'container_last_seen', ct.name)
    );
  }, `${ct.name} in the collector output`);
  return last;
}

function has(f: readonly MetricFamily[], name: string, container: string): boolean {
  return f.some((x) => x.name === name && x.samples.some((s) => s.labels.name === container));
}

const MIB = 1024 * 1024;

describeWithService('Docker Engine', hasDocker, 'docker collector against a real Docker Engine', () => {
  const containers = new TestContainers();
  let collector: DockerCollector;

  beforeAll(async () => {
    await ensureBusyboxImage();
    collector = makeCollector({ 'gone-grace': '4s', 'fs-usage-interval': '1s' });
  }, 120_000);

  afterAll(async () => {
    await collector?.close();
    await containers.cleanup();
  }, 120_000);

  it('CPU of a busy, throttled container agrees with the stats API', async () => {
    const ct = await containers.run('cpu', ['--cpus', '0.5'], ['sh', '-c', 'yes > /dev/null']);
    await new Promise((r) => setTimeout(r, 1500));
    const before = await scrapeWith(collector, ct);
    const api = await statsApi(ct.id);
    const after = await scrape(collector);
    const usage = obj(obj(api.cpu_stats).cpu_usage);
    const throttling = obj(obj(api.cpu_stats).throttling_data);
    const labels = { name: ct.name, cpu: 'total' };
    const bracket = (name: string, apiValue: number, l: Record<string, string> = { name: ct.name }): void => {
      const lo = valueOf(before, name, l);
      const hi = valueOf(after, name, l);
      expect(apiValue).toBeGreaterThanOrEqual(lo - 1e-3);
      expect(apiValue).toBeLessThanOrEqual(hi + 1e-3);
    };
    bracket('container_cpu_usage_seconds_total', num(usage.total_usage) / 1e9, labels);
    bracket('container_cpu_user_seconds_total', num(usage.usage_in_usermode) / 1e9);
    bracket('container_cpu_system_seconds_total', num(usage.usage_in_kernelmode) / 1e9);
    bracket('container_cpu_cfs_periods_total', num(throttling.periods));
    bracket('container_cpu_cfs_throttled_periods_total', num(throttling.throttled_periods));
    expect(valueOf(after, 'container_cpu_usage_seconds_total', labels)).toBeGreaterThan(0.3);
    expect(valueOf(after, 'container_cpu_cfs_throttled_periods_total', { name: ct.name })).toBeGreaterThan(0);
    expect(valueOf(after, 'container_spec_cpu_quota', { name: ct.name })).toBe(50000);
    expect(valueOf(after, 'container_spec_cpu_period', { name: ct.name })).toBe(100000);
    expect(valueOf(after, 'container_tasks_state', { name: ct.name, state: 'running' })).toBeLessThanOrEqual(
      1,
    );
    // cAdvisor's id label on the cgroupfs driver.
    const id = family(after, 'container_last_seen').samples.find((s) => s.labels.name === ct.name)?.labels.id;
    expect(id).toBe(`/docker/${ct.id}`);
  });

  it('memory of a limited container agrees with the stats API and docker stats (usage, working set, limit)', async () => {
    const ct = await containers.run(
      'mem',
      ['--memory', '48m', '--memory-reservation', '24m'],
      [
        'sh',
        '-c',
        'dd if=/dev/zero of=/dev/shm/fill bs=1M count=16 2>/dev/null; dd if=/dev/zero of=/f bs=1M count=8 2>/dev/null; exec sleep 100000',
      ],
    );
    const n = { name: ct.name };
    const usageOf = (f: readonly MetricFamily[]): number => valueOf(f, 'container_memory_usage_bytes', n);
    const wsOf = (f: readonly MetricFamily[]): number => valueOf(f, 'container_memory_working_set_bytes', n);
    // Filled, and settled: two readings half a second apart within 64 KiB.
    let previous = -1;
    await until(async () => {
      const u = usageOf(await scrapeWith(collector, ct));
      const settled = u > 20 * MIB && Math.abs(u - previous) <= 64 * 1024;
      previous = u;
      if (!settled) await new Promise((r) => setTimeout(r, 500));
      return settled;
    }, 'the container to fill its memory');
    // Memory is not monotonic: the API reading must lie within the two collector readings taken around it,
    // widened by 128 KiB (the kernel's per-CPU charge batching).
    const before = await scrape(collector);
    const api = await statsApi(ct.id);
    const [cli] = (await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', ct.id])).split('\n');
    const f = await scrape(collector);
    const mem = obj(api.memory_stats);
    const stats = obj(mem.stats);
    const within = (value: number, a: number, b: number, slack: number): void => {
      expect(value).toBeGreaterThanOrEqual(Math.min(a, b) - slack);
      expect(value).toBeLessThanOrEqual(Math.max(a, b) + slack);
    };
    within(num(mem.usage), usageOf(before), usageOf(f), 128 * 1024);
    within(num(mem.usage) - num(stats.total_inactive_file), wsOf(before), wsOf(f), 128 * 1024);
    expect(valueOf(f, 'container_spec_memory_limit_bytes', n)).toBe(num(mem.limit));
    expect(valueOf(f, 'container_spec_memory_limit_bytes', n)).toBe(48 * MIB);
    expect(valueOf(f, 'container_spec_memory_reservation_limit_bytes', n)).toBe(24 * MIB);
    expect(valueOf(f, 'container_memory_cache', n)).toBeGreaterThanOrEqual(16 * MIB);
    within(
      num(stats.total_rss),
      valueOf(before, 'container_memory_rss', n),
      valueOf(f, 'container_memory_rss', n),
      128 * 1024,
    );
    // docker stats prints "23.4MiB / 48MiB": the working set, rounded to 3 significant digits (1%).
    const m = /^([\d.]+)(KiB|MiB|GiB|B) \/ ([\d.]+)MiB$/.exec(cli ?? '');
    expect(m).not.toBeNull();
    const unit = { B: 1, KiB: 1024, MiB: MIB, GiB: 1024 * MIB }[(m as RegExpExecArray)[2] as 'B'];
    const cliUsage = Number((m as RegExpExecArray)[1]) * unit;
    within(cliUsage, wsOf(before), wsOf(f), 0.01 * cliUsage + 128 * 1024);
    expect(Number((m as RegExpExecArray)[3])).toBe(48);
  });

  it('hostile label values come out escaped and promtool accepts the output', async () => {
    const hostile = {
      'org.example.quote': 'say "hello"',
      'org.example.backslash': 'C:\\path\\to\\x',
      'org.example.newline': 'line one\nline two',
      'org.example.unicode': 'größe ✓ 日本 😀',
      'weird.key/with:chars-ü': 'v',
    };
    const args = Object.entries(hostile).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const ct = await containers.run('labels', args, ['sleep', '100000']);
    const f = await scrapeWith(collector, ct);
    const sample = family(f, 'container_memory_usage_bytes').samples.find((s) => s.labels.name === ct.name);
    expect(sample?.labels).toMatchObject({
      container_label_org_example_quote: 'say "hello"',
      container_label_org_example_backslash: 'C:\\path\\to\\x',
      container_label_org_example_newline: 'line one\nline two',
      container_label_org_example_unicode: 'größe ✓ 日本 😀',
      container_label_weird_key_with_chars__: 'v',
    });
    const text = encode(f);
    expect(text).toContain('container_label_org_example_newline="line one\\nline two"');
    expect(text).toContain('container_label_org_example_quote="say \\"hello\\""');
    expect(text).toContain('container_label_org_example_backslash="C:\\\\path\\\\to\\\\x"');
    if (!hasBinary('promtool')) throw new Error('promtool is required (Debian package prometheus)');
    const { code, output } = await promtool(text);
    // cAdvisor's own names break two lint rules (a gauge ending in _total, a counter without it); nothing
    // else may be reported, and a parse error would fail with "error while linting".
    const allowed = [
      'container_fs_inodes_total non-counter metrics should not have "_total" suffix',
      'container_memory_failcnt counter metrics should have "_total" suffix',
    ];
    const problems = output.split('\n').filter((l) => l.trim() !== '' && !allowed.includes(l.trim()));
    expect(problems).toEqual([]);
    expect([0, 3]).toContain(code);
  });

  it('a killed container keeps its series with container_last_seen frozen for the grace window, then goes', async () => {
    const ct = await containers.run('victim', [], ['sleep', '100000']);
    const live = await scrapeWith(collector, ct);
    const lastSeen = valueOf(live, 'container_last_seen', { name: ct.name });
    const seenAt = Date.now();
    await docker(['kill', ct.id]);
    await until(() => collector.knownContainer(ct.id)?.state === 'exited', 'the die event');
    const frozen = await scrape(collector);
    if (Date.now() - seenAt < 4000) {
      expect(valueOf(frozen, 'container_last_seen', { name: ct.name })).toBe(lastSeen);
      expect(valueOf(frozen, 'container_memory_usage_bytes', { name: ct.name })).toBe(
        valueOf(live, 'container_memory_usage_bytes', { name: ct.name }),
      );
    }
    expect(valueOf(frozen, 'hostscope_container_state', { name: ct.name, state: 'exited' })).toBe(1);
    expect(valueOf(frozen, 'hostscope_container_exit_code', { name: ct.name })).toBe(137);
    await new Promise((r) => setTimeout(r, Math.max(0, seenAt + 4500 - Date.now())));
    const gone = await scrape(collector);
    expect(has(gone, 'container_last_seen', ct.name)).toBe(false);
    expect(has(gone, 'container_memory_usage_bytes', ct.name)).toBe(false);
    // The engine still knows the exited container: its state stays visible.
    expect(valueOf(gone, 'hostscope_container_state', { name: ct.name, state: 'exited' })).toBe(1);
  });

  it('a paused container stays visible with its state', async () => {
    const ct = await containers.run('paused', [], ['sleep', '100000']);
    await scrapeWith(collector, ct);
    await docker(['pause', ct.id]);
    await until(() => collector.knownContainer(ct.id)?.state === 'paused', 'the pause event');
    const f = await scrape(collector);
    expect(valueOf(f, 'hostscope_container_state', { name: ct.name, state: 'paused' })).toBe(1);
    expect(has(f, 'container_memory_usage_bytes', ct.name)).toBe(true);
    await docker(['unpause', ct.id]);
  });

  it('network: --network none has no series (lo is ignored), --network host shows the host interfaces', async () => {
    const none = await containers.run('netnone', [], ['sleep', '100000']);
    const host = await containers.run('nethost', ['--network', 'host'], ['sleep', '100000']);
    await scrapeWith(collector, none);
    const before = hostNetDev();
    const f = await scrapeWith(collector, host);
    const after = hostNetDev();
    expect(has(f, 'container_network_receive_bytes_total', none.name)).toBe(false);
    const ifaces = family(f, 'container_network_receive_bytes_total')
      .samples.filter((s) => s.labels.name === host.name)
      .map((s) => s.labels.interface);
    expect(ifaces).not.toContain('lo');
    const [iface] = [...before.keys()].filter(
      (i) => i !== 'lo' && !i.startsWith('veth') && !i.startsWith('docker'),
    );
    expect(iface).toBeDefined();
    const v = valueOf(f, 'container_network_receive_bytes_total', {
      name: host.name,
      interface: iface as string,
    });
    expect(v).toBeGreaterThanOrEqual(before.get(iface as string) as number);
    expect(v).toBeLessThanOrEqual(after.get(iface as string) as number);
  });

  it('the stats API fallback gives the same figures as the cgroup files', async () => {
    const ct = await containers.run('fallback', ['--memory', '32m'], ['sleep', '100000']);
    const api = makeCollector({ 'stats-source': 'api', 'fs-usage-interval': '0' });
    try {
      const viaFiles1 = await scrapeWith(collector, ct);
      const viaApi = await scrapeWith(api, ct);
      const viaFiles2 = await scrape(collector);
      const n = { name: ct.name };
      expect(valueOf(viaApi, 'hostscope_docker_stats_api_fallback')).toBe(1);
      expect(valueOf(viaFiles2, 'hostscope_docker_stats_api_fallback')).toBe(0);
      const cpu = { ...n, cpu: 'total' };
      expect(valueOf(viaApi, 'container_cpu_usage_seconds_total', cpu)).toBeGreaterThanOrEqual(
        valueOf(viaFiles1, 'container_cpu_usage_seconds_total', cpu) - 1e-3,
      );
      expect(valueOf(viaApi, 'container_cpu_usage_seconds_total', cpu)).toBeLessThanOrEqual(
        valueOf(viaFiles2, 'container_cpu_usage_seconds_total', cpu) + 1e-3,
      );
      for (const name of [
        'container_spec_memory_limit_bytes',
        'container_spec_cpu_shares',
        'container_spec_memory_swap_limit_bytes',
      ]) {
        expect(valueOf(viaApi, name, n)).toBe(valueOf(viaFiles2, name, n));
      }
      // A just-started container's memory still moves; the API reading, taken between the two file
      // readings, must fall within their range, widened by 256 KiB.
      const m1 = valueOf(viaFiles1, 'container_memory_usage_bytes', n);
      const m2 = valueOf(viaFiles2, 'container_memory_usage_bytes', n);
      const mApi = valueOf(viaApi, 'container_memory_usage_bytes', n);
      expect(mApi).toBeGreaterThanOrEqual(Math.min(m1, m2) - 256 * 1024);
      expect(mApi).toBeLessThanOrEqual(Math.max(m1, m2) + 256 * 1024);
    } finally {
      await api.close();
    }
  });

  it('measures the writable layer for container_fs_usage_bytes', async () => {
    const ct = await containers.run(
      'fs',
      [],
      ['sh', '-c', 'dd if=/dev/zero of=/blob bs=1M count=4 2>/dev/null; exec sleep 100000'],
    );
    await until(async () => {
      const f = await scrapeWith(collector, ct);
      await collector.fsUsageSettled();
      return (
        has(f, 'container_fs_usage_bytes', ct.name) &&
        valueOf(f, 'container_fs_usage_bytes', { name: ct.name }) >= 4 * MIB
      );
    }, 'the writable layer to be measured');
    const f = await scrape(collector);
    const sample = family(f, 'container_fs_usage_bytes').samples.find((s) => s.labels.name === ct.name);
    expect(sample?.labels.device).toMatch(/^\/dev\//);
    expect(valueOf(f, 'container_fs_limit_bytes', { name: ct.name })).toBeGreaterThan(
      valueOf(f, 'container_fs_usage_bytes', { name: ct.name }),
    );
    expect(valueOf(f, 'container_fs_inodes_total', { name: ct.name })).toBeGreaterThan(
      valueOf(f, 'container_fs_inodes_free', { name: ct.name }),
    );
  });
});

function hostNetDev(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (name === undefined || rest === undefined) continue;
    out.set(name.trim(), Number(rest.trim().split(/\s+/)[0]));
  }
  return out;
}

function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c: Buffer) => (output += c.toString()));
    p.stderr.on('data', (c: Buffer) => (output += c.toString()));
    p.once('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}
