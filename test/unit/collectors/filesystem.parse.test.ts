import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  FILESYSTEM_DEFAULT_FS_TYPES_EXCLUDE,
  FILESYSTEM_DEFAULT_MOUNT_POINTS_EXCLUDE,
} from '../../../src/collectors/filesystem';
import { parseMounts, selectMounts, type MountEntry } from '../../../src/collectors/filesystem.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/1/mounts');
const MOUNT_POINTS = new RegExp(FILESYSTEM_DEFAULT_MOUNT_POINTS_EXCLUDE);
const FS_TYPES = new RegExp(FILESYSTEM_DEFAULT_FS_TYPES_EXCLUDE);

const mount = (mountPoint: string, fsType = 'ext4', device = '/dev/sda1', readOnly = false): MountEntry => ({
  device,
  mountPoint,
  fsType,
  readOnly,
});

describe('parseMounts', () => {
  const mounts = parseMounts(readFileSync(FIXTURE, 'utf8'));

  it('reads device, mount point, type and read-only flag of every line', () => {
    expect(mounts).toHaveLength(21);
    expect(mounts[5]).toEqual({
      device: '/dev/mapper/vg0-root',
      mountPoint: '/',
      fsType: 'ext4',
      readOnly: false,
    });
    expect(mounts.find((m) => m.mountPoint === '/srv/data')?.readOnly).toBe(true);
    expect(mounts.find((m) => m.fsType === 'squashfs')?.readOnly).toBe(true);
  });

  it('does not take "ro" inside another option (errors=remount-ro) for read-only', () => {
    expect(mounts[5]?.readOnly).toBe(false);
  });

  it('decodes \\040 and \\011 in mount points, and only those escapes (as node_exporter 1.5)', () => {
    expect(mounts.map((m) => m.mountPoint)).toContain('/mnt/backup disk');
    expect(parseMounts('tmpfs /a\\011b\\134c tmpfs rw 0 0\n')[0]?.mountPoint).toBe('/a\tb\\134c');
  });

  it('skips blank lines and rejects lines with fewer than four fields', () => {
    expect(parseMounts('\n/dev/sda1 / ext4 rw 0 0\n\n')).toHaveLength(1);
    expect(() => parseMounts('/dev/sda1 / ext4\n')).toThrow(/malformed mount point information/);
  });
});

describe('selectMounts', () => {
  it('keeps the fixture mounts node_exporter 1.5 keeps by default, first duplicate wins', () => {
    const selected = selectMounts(parseMounts(readFileSync(FIXTURE, 'utf8')), MOUNT_POINTS, FS_TYPES);
    expect(selected.map((m) => m.mountPoint)).toEqual([
      '/run',
      '/',
      '/boot/efi',
      '/srv/data',
      '/mnt/backup disk',
      '/mnt/nas',
      '/run/user/1000',
    ]);
    expect(selected.find((m) => m.mountPoint === '/srv/data')?.readOnly).toBe(true);
  });

  it.each([
    ['/dev', true],
    ['/dev/shm', true],
    ['/device', false],
    ['/proc', true],
    ['/sys/fs/cgroup', true],
    ['/sysroot', false],
    ['/run', false],
    ['/run/credentials', false],
    ['/run/credentials/getty.service', true],
    ['/var/lib/docker', false],
    ['/var/lib/docker/overlay2/x/merged', true],
    ['/var/lib/containers/storage/overlay', true],
    ['/mnt', false],
    ['/media/usb', false],
  ])('default mount point exclude: %s excluded=%s', (mountPoint, excluded) => {
    expect(selectMounts([mount(mountPoint)], MOUNT_POINTS, undefined)).toHaveLength(excluded ? 0 : 1);
  });

  it.each([
    ['cgroup', true],
    ['cgroup2', true],
    ['overlay', true],
    ['squashfs', true],
    ['autofs', true],
    ['tmpfs', false],
    ['ext4', false],
    ['nfs4', false],
    ['fuse.sshfs', false],
  ])('default fs type exclude: %s excluded=%s', (fsType, excluded) => {
    expect(selectMounts([mount('/data', fsType)], undefined, FS_TYPES)).toHaveLength(excluded ? 0 : 1);
  });

  it('keeps mounts stacked on one path when device or type differ', () => {
    const selected = selectMounts(
      [
        mount('/data', 'ext4', '/dev/sda1', true),
        mount('/data', 'ext4', '/dev/sdb1'),
        mount('/data', 'ext4', '/dev/sda1'),
      ],
      undefined,
      undefined,
    );
    expect(selected.map((m) => [m.device, m.readOnly])).toEqual([
      ['/dev/sda1', true],
      ['/dev/sdb1', false],
    ]);
  });
});
