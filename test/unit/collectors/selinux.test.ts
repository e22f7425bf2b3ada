import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { selinuxCollector } from '../../../src/collectors/selinux';
import { collectOnce, valueOf } from '../../helpers/collect';

describe('selinux collector', () => {
  it('reports enabled, the configured and the current mode from the fixture tree', async () => {
    const families = await collectOnce(selinuxCollector);
    expect(valueOf(families, 'node_selinux_enabled')).toBe(1);
    expect(valueOf(families, 'node_selinux_config_mode')).toBe(0); // SELINUX=permissive
    expect(valueOf(families, 'node_selinux_current_mode')).toBe(1); // enforce = 1
  });

  it('reports only enabled 0 where selinuxfs is absent', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'selinux-'));
    const families = await collectOnce(
      selinuxCollector,
      {},
      {
        procfs: path.join(empty, 'proc'),
        sysfs: path.join(empty, 'sys'),
        rootfs: empty,
        udevData: path.join(empty, 'udev'),
      },
    );
    expect(families.map((f) => f.name)).toEqual(['node_selinux_enabled']);
    expect(valueOf(families, 'node_selinux_enabled')).toBe(0);
  });
});
