import * as os from 'node:os';
import { unameCollector } from '../../../src/collectors/uname';
import { DEFAULT_HOST_PATHS } from '../../../src/host/host-fs';
import { collectOnce, family } from '../../helpers/collect';

describe('uname collector', () => {
  it('reads the utsname fields from the fixture /proc/sys/kernel', async () => {
    const families = await collectOnce(unameCollector);
    expect(families).toHaveLength(1);
    const info = family(families, 'node_uname_info');
    expect(info.type).toBe('gauge');
    expect(info.help).toBe('Labeled system information as provided by the uname system call.');
    expect(info.samples).toEqual([
      {
        value: 1,
        labels: {
          domainname: '(none)',
          machine: os.machine(),
          nodename: 'db-01',
          release: '6.1.0-13-amd64',
          sysname: 'Linux',
          version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)',
        },
      },
    ]);
  });

  it('matches uname(2) on this machine (libuv reads it for os.type/release/version/hostname)', async () => {
    const families = await collectOnce(unameCollector, {}, DEFAULT_HOST_PATHS);
    const labels = family(families, 'node_uname_info').samples[0]?.labels;
    expect(labels).toMatchObject({
      sysname: os.type(),
      release: os.release(),
      version: os.version(),
      nodename: os.hostname(),
      machine: os.machine(),
    });
    expect(labels?.domainname).not.toMatch(/\n/);
  });

  it('fails when the kernel files are missing', async () => {
    await expect(
      collectOnce(unameCollector, {}, { ...DEFAULT_HOST_PATHS, procfs: '/nonexistent' }),
    ).rejects.toThrow(/ENOENT/);
  });
});
