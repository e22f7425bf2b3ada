import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { dmiCollector } from '../../../src/collectors/dmi';
import { buildOptions } from '../../../src/collectors/options';
import { NoDataError } from '../../../src/errors';
import { encode } from '../../../src/exposition/encode';
import { HostFs } from '../../../src/host/host-fs';
import { silentLogger } from '../../../src/log/logger';
import { collectOnce, family, FIXTURE_PATHS } from '../../helpers/collect';

const ORACLE = path.join(__dirname, '../../fixtures/oracle/node_exporter-1.5');

describe('dmi collector', () => {
  it('reports node_dmi_info exactly as node_exporter 1.5 for the fixture', async () => {
    const families = await collectOnce(dmiCollector);
    expect(encode(families)).toBe(readFileSync(path.join(ORACLE, 'dmi.prom'), 'utf8'));
  });

  it('labels only the attributes present: product_version is absent, empty ones stay, chassis_type is not one', async () => {
    const labels = family(await collectOnce(dmiCollector), 'node_dmi_info').samples[0]?.labels ?? {};
    expect(Object.keys(labels)).toHaveLength(19);
    expect(labels).not.toHaveProperty('product_version');
    expect(labels).not.toHaveProperty('chassis_type');
    expect(labels).toMatchObject({
      board_asset_tag: '',
      system_vendor: 'Dell Inc.',
      product_name: 'PowerEdge R640',
    });
  });

  it('reports no data without /sys/class/dmi (as on this VM)', async () => {
    const sys = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-dmi-'));
    try {
      await expect(collectOnce(dmiCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).rejects.toThrow(
        NoDataError,
      );
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });

  it('reads DMI once: later changes are not seen until restart (it cannot change before a reboot)', async () => {
    const sys = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-dmi-'));
    try {
      const dir = path.join(sys, 'class/dmi/id');
      await fsp.mkdir(dir, { recursive: true });
      await fsp.writeFile(path.join(dir, 'sys_vendor'), 'QEMU\n');
      const collector = dmiCollector.create({
        fs: new HostFs({ ...FIXTURE_PATHS, sysfs: sys }),
        logger: silentLogger(),
        options: buildOptions([], {}),
      });
      const scrape = () =>
        collector.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 5000 });
      expect(family(await scrape(), 'node_dmi_info').samples[0]?.labels).toEqual({ system_vendor: 'QEMU' });
      await fsp.writeFile(path.join(dir, 'sys_vendor'), 'Other\n');
      expect(family(await scrape(), 'node_dmi_info').samples[0]?.labels).toEqual({ system_vendor: 'QEMU' });
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });
});
