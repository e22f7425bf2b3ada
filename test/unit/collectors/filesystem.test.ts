import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildOptions, type RawOptionValue } from '../../../src/collectors/options';
import {
  createFilesystemCollector,
  filesystemCollector,
  type StatFsFunction,
  type StatFsResult,
} from '../../../src/collectors/filesystem';
import type { Collector } from '../../../src/collectors/types';
import { HostFs, type HostPaths } from '../../../src/host/host-fs';
import { silentLogger } from '../../../src/log/logger';
import type { MetricFamily } from '../../../src/metrics/types';
import { collectOnce, family, FIXTURE_PATHS, valueOf } from '../../helpers/collect';
import { canonicalFamilies, canonicalLines, readGolden } from '../../helpers/node-exporter-golden';

const SIZE_FAMILIES = [
  'node_filesystem_size_bytes',
  'node_filesystem_free_bytes',
  'node_filesystem_avail_bytes',
  'node_filesystem_files',
  'node_filesystem_files_free',
];

const STATS: StatFsResult = { bsize: 4096, blocks: 1000, bfree: 600, bavail: 500, files: 64, ffree: 60 };

function mountPoints(families: readonly MetricFamily[], name = 'node_filesystem_device_error'): string[] {
  return family(families, name)
    .samples.map((s) => s.labels.mountpoint ?? '')
    .sort();
}

/** A collector instance kept across updates (collectOnce makes a new one each time). */
function instance(
  statfs: StatFsFunction,
  options: Record<string, RawOptionValue> = {},
  paths = FIXTURE_PATHS,
): Collector {
  const def = createFilesystemCollector(statfs);
  return def.create({
    fs: new HostFs(paths),
    logger: silentLogger(),
    options: buildOptions(def.options ?? [], options),
  });
}

const update = (c: Collector): Promise<MetricFamily[]> =>
  c.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 60_000 });

function tempProc(files: Record<string, string>): HostPaths {
  const procfs = mkdtempSync(path.join(tmpdir(), 'hostscope-fs-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(procfs, name)), { recursive: true });
    writeFileSync(path.join(procfs, name), text);
  }
  return { ...FIXTURE_PATHS, procfs };
}

describe('filesystem collector on the fixture tree (real statfs)', () => {
  it('has node_exporter 1.5 names, help, types and label sets; device_error and readonly values', async () => {
    // Sizes come from the real filesystem holding the fixture, so they are masked.
    const families = await collectOnce(filesystemCollector);
    expect(canonicalFamilies(families, SIZE_FAMILIES)).toEqual(
      canonicalLines(readGolden('filesystem'), SIZE_FAMILIES),
    );
  });

  it('reports the missing mount point as a device error without other series', async () => {
    const families = await collectOnce(filesystemCollector);
    const nas = { mountpoint: '/mnt/nas', device: 'nas.example.org:/export/media', fstype: 'nfs4' };
    expect(valueOf(families, 'node_filesystem_device_error', nas)).toBe(1);
    expect(mountPoints(families, 'node_filesystem_readonly')).not.toContain('/mnt/nas');
    expect(mountPoints(families, 'node_filesystem_size_bytes')).not.toContain('/mnt/nas');
    expect(valueOf(families, 'node_filesystem_size_bytes', { mountpoint: '/' })).toBeGreaterThan(0);
  });

  it('applies custom excludes, unanchored like Go regexps', async () => {
    const families = await collectOnce(filesystemCollector, {
      'mount-points-exclude': 'run|mnt|^/(dev|proc|sys|var|snap)',
      'fs-types-exclude': 'vfat',
    });
    expect(mountPoints(families)).toEqual(['/', '/srv/data']);
  });

  it('strips the rootfs prefix from mount points of a host mounted under --path.rootfs', async () => {
    const root = FIXTURE_PATHS.rootfs;
    const paths = tempProc({
      '1/mounts': `/dev/sda1 ${root}/srv/data xfs rw 0 0\ntmpfs ${root} tmpfs ro 0 0\n`,
    });
    const families = await collectOnce(filesystemCollector, {}, paths);
    expect(mountPoints(families)).toEqual(['/', '/srv/data']);
    expect(valueOf(families, 'node_filesystem_device_error', { mountpoint: '/srv/data' })).toBe(0);
    expect(valueOf(families, 'node_filesystem_readonly', { mountpoint: '/' })).toBe(1);
  });

  it('falls back to <procfs>/mounts when <procfs>/1/mounts is hidden', async () => {
    const families = await collectOnce(
      filesystemCollector,
      {},
      tempProc({ mounts: '/dev/sdz9 /boot/efi vfat rw 0 0\n' }),
    );
    expect(family(families, 'node_filesystem_device_error').samples).toEqual([
      { labels: { device: '/dev/sdz9', mountpoint: '/boot/efi', fstype: 'vfat' }, value: 0 },
    ]);
  });

  it('fails when no mount table can be read', async () => {
    await expect(collectOnce(filesystemCollector, {}, tempProc({}))).rejects.toThrow(/ENOENT/);
  });
});

describe('filesystem collector with an injected statfs', () => {
  const root = (mountPoint: string): string => path.join(FIXTURE_PATHS.rootfs, mountPoint);

  it('computes bytes from blocks times block size', async () => {
    const families = await update(instance(() => Promise.resolve(STATS)));
    const labels = { mountpoint: '/boot/efi' };
    expect(valueOf(families, 'node_filesystem_size_bytes', labels)).toBe(4096000);
    expect(valueOf(families, 'node_filesystem_free_bytes', labels)).toBe(600 * 4096);
    expect(valueOf(families, 'node_filesystem_avail_bytes', labels)).toBe(500 * 4096);
    expect(valueOf(families, 'node_filesystem_files', labels)).toBe(64);
    expect(valueOf(families, 'node_filesystem_files_free', labels)).toBe(60);
  });

  it('reports a statfs error (EACCES) as a device error', async () => {
    const statfs: StatFsFunction = (p) =>
      p === root('/run/user/1000')
        ? Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))
        : Promise.resolve(STATS);
    const families = await update(instance(statfs));
    expect(valueOf(families, 'node_filesystem_device_error', { mountpoint: '/run/user/1000' })).toBe(1);
    expect(valueOf(families, 'node_filesystem_device_error', { mountpoint: '/run' })).toBe(0);
    expect(mountPoints(families, 'node_filesystem_files')).not.toContain('/run/user/1000');
  });

  describe('a stuck mount', () => {
    // Only setTimeout is faked: the mount timeout passes when the test says so, and an update that waited
    // on it again would never finish (the test would time out).
    beforeEach(() => {
      jest.useFakeTimers({
        doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'hrtime', 'performance'],
      });
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

    it('does not hang the scrape, and is not called again until its call returns', async () => {
      let release: (stats: StatFsResult) => void = () => undefined;
      const hung = new Promise<StatFsResult>((resolve) => {
        release = resolve;
      });
      const calls = new Map<string, number>();
      const statfs: StatFsFunction = (p) => {
        calls.set(p, (calls.get(p) ?? 0) + 1);
        return p === root('/srv/data') && calls.get(p) === 1 ? hung : Promise.resolve(STATS);
      };
      const collector = instance(statfs, { 'mount-timeout': '5s' });
      const stuck = { mountpoint: '/srv/data' };

      const pending = update(collector);
      while (calls.get(root('/srv/data')) === undefined) await tick();
      jest.advanceTimersByTime(5000);
      const first = await pending;
      expect(valueOf(first, 'node_filesystem_device_error', stuck)).toBe(1);
      expect(mountPoints(first, 'node_filesystem_size_bytes')).not.toContain('/srv/data');
      expect(valueOf(first, 'node_filesystem_device_error', { mountpoint: '/' })).toBe(0);

      // No timer is advanced now: this update must not wait for the stuck mount.
      const second = await update(collector);
      expect(valueOf(second, 'node_filesystem_device_error', stuck)).toBe(1);
      expect(calls.get(root('/srv/data'))).toBe(1);
      expect(calls.get(root('/'))).toBe(2);

      release(STATS);
      await hung;
      await tick();

      const third = await update(collector);
      expect(calls.get(root('/srv/data'))).toBe(2);
      expect(valueOf(third, 'node_filesystem_device_error', stuck)).toBe(0);
      expect(valueOf(third, 'node_filesystem_size_bytes', stuck)).toBe(4096000);
    }, 10_000);
  });

  it('makes one statfs call for mounts stacked on the same path', async () => {
    const calls: string[] = [];
    const statfs: StatFsFunction = (p) => {
      calls.push(p);
      return Promise.resolve(STATS);
    };
    const paths = tempProc({ '1/mounts': '/dev/sda1 /data ext4 rw 0 0\n/dev/sdb1 /data xfs rw 0 0\n' });
    const families = await update(instance(statfs, {}, paths));
    expect(calls).toEqual([root('/data')]);
    expect(family(families, 'node_filesystem_size_bytes').samples).toHaveLength(2);
  });
});
