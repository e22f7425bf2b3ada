import { mountFor, parseMountinfo } from '../../../src/collectors/docker/fs-usage.parse';

const MOUNTINFO = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '40 27 254:16 / /var/lib/docker rw,relatime shared:20 - xfs /dev/vdb1 rw',
  '41 40 0:50 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/x',
  '42 27 0:51 / /mnt/with\\040space rw - tmpfs tmp\\040fs rw',
].join('\n');

describe('mountinfo', () => {
  it('parses mount points, sources and types, unescaping octal escapes', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(5);
    expect(m[4]).toEqual({ mountPoint: '/mnt/with space', source: 'tmp fs', fsType: 'tmpfs' });
  });

  it('finds the mount holding a path by whole path components', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(mountFor(m, '/var/lib/docker/overlay2/abc/diff')?.source).toBe('/dev/vdb1');
    expect(mountFor(m, '/var/lib/docker2/x')?.source).toBe('/dev/vda');
    expect(mountFor(m, '/var/lib/docker/overlay2/abc/merged/etc')?.fsType).toBe('overlay');
    expect(mountFor([], '/x')).toBeUndefined();
  });
});
