import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { thermalZoneCollector } from '../../../src/collectors/thermal_zone';
import { encode } from '../../../src/exposition/encode';
import { collectOnce, FIXTURE_PATHS, FIXTURE_ROOT } from '../../helpers/collect';

const ORACLE = path.join(__dirname, '../../fixtures/oracle/node_exporter-1.5');

async function sysCopy(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-thermal-'));
  await fsp.cp(path.join(FIXTURE_ROOT, 'sys'), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

describe('thermal_zone collector', () => {
  it('reports zones (disabled ones too) and cooling devices exactly as node_exporter 1.5', async () => {
    const families = await collectOnce(thermalZoneCollector);
    expect(encode(families)).toBe(readFileSync(path.join(ORACLE, 'thermal_zone.prom'), 'utf8'));
  });

  it('succeeds with no metrics when the thermal class is empty or absent (as on this VM)', async () => {
    const sys = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-thermal-'));
    try {
      expect(await collectOnce(thermalZoneCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).toEqual([]);
      await fsp.mkdir(path.join(sys, 'class/thermal'), { recursive: true });
      expect(await collectOnce(thermalZoneCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).toEqual([]);
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });

  it.each([
    ['a zone without its required policy file', 'thermal_zone1/policy', undefined, /ENOENT.*policy/],
    ['a zone with a non-integer temp', 'thermal_zone1/temp', 'abc\n', /parsing "abc"/],
    ['a zone with a malformed passive', 'thermal_zone0/passive', 'x\n', /ParseUint/],
    ['a cooling device with a malformed max_state', 'cooling_device0/max_state', 'ten\n', /parsing "ten"/],
  ])('fails on %s, like node_exporter 1.5', async (_what, file, content, message) => {
    const sys = await sysCopy();
    try {
      const target = path.join(sys, 'devices/virtual/thermal', file);
      if (content === undefined) await fsp.rm(target);
      else await fsp.writeFile(target, content);
      await expect(collectOnce(thermalZoneCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).rejects.toThrow(
        message,
      );
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });

  it('does not need the optional mode and passive files', async () => {
    const sys = await sysCopy();
    try {
      await fsp.rm(path.join(sys, 'devices/virtual/thermal/thermal_zone0/mode'));
      await fsp.rm(path.join(sys, 'devices/virtual/thermal/thermal_zone0/passive'));
      const families = await collectOnce(thermalZoneCollector, {}, { ...FIXTURE_PATHS, sysfs: sys });
      expect(encode(families)).toBe(readFileSync(path.join(ORACLE, 'thermal_zone.prom'), 'utf8'));
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });
});
