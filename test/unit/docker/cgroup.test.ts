import * as path from 'node:path';
import {
  cgroupNameFromProc,
  derivedCgroupNames,
  detectCgroupLayout,
  expandSlice,
  resolveContainerCgroup,
} from '../../../src/collectors/docker/cgroup';
import { metaFromInspect, type ContainerMeta } from '../../../src/collectors/docker/engine.parse';
import { HostFs } from '../../../src/host/host-fs';
import { loadJson } from '../../helpers/docker-replay';

const FX = path.join(__dirname, '../../fixtures/docker');
const fsOf = (set: string): HostFs =>
  new HostFs({
    procfs: path.join(FX, set, 'proc'),
    sysfs: path.join(FX, set, 'sys'),
    rootfs: path.join(FX, set, 'rootfs'),
    udevData: path.join(FX, set, 'udev'),
  });
const meta = (set: string, name: string): ContainerMeta =>
  metaFromInspect(loadJson(set, `inspect-${name}.json`)) as ContainerMeta;

describe('cgroup layout and container cgroups', () => {
  it('detects v1 and v2 trees, and none', async () => {
    expect(await detectCgroupLayout(fsOf('v1'))).toMatchObject({ version: 1 });
    expect(await detectCgroupLayout(fsOf('v2'))).toMatchObject({ version: 2 });
    expect(await detectCgroupLayout(fsOf('nonexistent'))).toBeUndefined();
  });

  it('expands systemd slices', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    expect(expandSlice('custom')).toBe('/custom');
  });

  it('derives cgroupfs and systemd names, honouring the cgroup parent', () => {
    const m = { ...meta('v1', 'fx-db'), id: 'abc' };
    expect(derivedCgroupNames(m, undefined).slice(0, 2)).toEqual([
      '/docker/abc',
      '/system.slice/docker-abc.scope',
    ]);
    expect(
      derivedCgroupNames(m, {
        cgroupDriver: 'systemd',
        cgroupVersion: '2',
        dockerRootDir: '',
        serverVersion: '',
      })[0],
    ).toBe('/system.slice/docker-abc.scope');
    expect(derivedCgroupNames({ ...m, cgroupParent: '/ci' }, undefined)[0]).toBe('/ci/abc');
    expect(derivedCgroupNames({ ...m, cgroupParent: 'ci-jobs.slice' }, undefined)[1]).toBe(
      '/ci.slice/ci-jobs.slice/docker-abc.scope',
    );
  });

  it('refuses /proc/<pid>/cgroup paths outside the reader’s cgroup namespace', () => {
    expect(cgroupNameFromProc('0::/../../system.slice/docker-x.scope\n', 2)).toBeUndefined();
    expect(cgroupNameFromProc('0::/\n', 2)).toBeUndefined();
    expect(cgroupNameFromProc('4:memory:/docker/x\n0::/docker/x\n', 1)).toBe('/docker/x');
  });

  it('resolves a v1 container from its pid, and a v2 one from the systemd driver', async () => {
    const v1 = await resolveContainerCgroup(
      fsOf('v1'),
      { version: 1, root: path.join(FX, 'v1/sys/fs/cgroup') },
      meta('v1', 'fx-web'),
      undefined,
    );
    expect(v1?.name).toBe('/docker/65113ef10f7bc19b3bdf5647d5c3a18687b63df10044793ee636ce83740bd8de');
    expect(v1?.cpuacct).toBe(path.join(FX, 'v1/sys/fs/cgroup/cpuacct', v1?.name ?? ''));
    const noPid = { ...meta('v2', 'v2-app'), pid: 0 };
    const v2 = await resolveContainerCgroup(
      fsOf('v2'),
      { version: 2, root: path.join(FX, 'v2/sys/fs/cgroup') },
      noPid,
      undefined,
    );
    expect(v2?.name).toBe(
      '/system.slice/docker-9f2d7c41e8a34b6f0c5d2e1a7b3f8c9d0e4a6b2c1d7f3e5a8b9c0d1e2f3a4b5c.scope',
    );
    const missing = await resolveContainerCgroup(
      fsOf('v1'),
      { version: 1, root: path.join(FX, 'v1/sys/fs/cgroup') },
      { ...noPid, id: 'gone' },
      undefined,
    );
    expect(missing).toBeUndefined();
  });
});
