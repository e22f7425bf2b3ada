import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hwmonCollector } from '../../../src/collectors/hwmon';
import { NoDataError } from '../../../src/errors';
import { encode } from '../../../src/exposition/encode';
import { collectOnce, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

/** node_exporter 1.5's output for the same fixture tree (see the fixture README). */
const ORACLE = path.join(__dirname, '../../fixtures/oracle/node_exporter-1.5');

/** A private copy of the fixture sysfs, to break in ways a committed fixture cannot. */
async function sysCopy(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-hwmon-'));
  await fsp.cp(path.join(FIXTURE_ROOT, 'sys'), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

describe('hwmon collector', () => {
  it('reports the fixture chips exactly as node_exporter 1.5 does', async () => {
    const families = await collectOnce(hwmonCollector);
    expect(encode(families)).toBe(readFileSync(path.join(ORACLE, 'hwmon.prom'), 'utf8'));
  });

  it('names chips after their device, reads sensors of device/ too, and converts units', async () => {
    const families = await collectOnce(hwmonCollector);
    // coretemp: device link -> platform/coretemp.0
    expect(
      valueOf(families, 'node_hwmon_temp_celsius', { chip: 'platform_coretemp_0', sensor: 'temp1' }),
    ).toBe(45);
    expect(
      valueOf(families, 'node_hwmon_temp_crit_celsius', { chip: 'platform_coretemp_0', sensor: 'temp1' }),
    ).toBe(100);
    expect(
      valueOf(families, 'node_hwmon_sensor_label', {
        chip: 'platform_coretemp_0',
        sensor: 'temp1',
        label: 'Package id 0',
      }),
    ).toBe(1);
    expect(
      valueOf(families, 'node_hwmon_chip_names', { chip: 'platform_coretemp_0', chip_name: 'coretemp' }),
    ).toBe(1);
    // nct6779 fan and voltage
    expect(valueOf(families, 'node_hwmon_fan_rpm', { chip: 'platform_nct6775_656', sensor: 'fan1' })).toBe(
      1200,
    );
    expect(valueOf(families, 'node_hwmon_in_volts', { chip: 'platform_nct6775_656', sensor: 'in0' })).toBe(
      1.04,
    );
    // acpitz: its device is the thermal zone, whose own `temp` file shows up as sensor temp0
    expect(
      valueOf(families, 'node_hwmon_temp_celsius', { chip: 'thermal_thermal_zone0', sensor: 'temp0' }),
    ).toBe(27.8);
    // no device link, no name file: named after the hwmonN directory, and no chip_names sample
    expect(valueOf(families, 'node_hwmon_power_average_watt', { chip: 'hwmon3', sensor: 'power1' })).toBe(
      15.5,
    );
    expect(() => valueOf(families, 'node_hwmon_chip_names', { chip: 'hwmon3' })).toThrow(/matched 0/);
    // old-style driver: every attribute lives in the device directory
    expect(valueOf(families, 'node_hwmon_fan_rpm', { chip: 'platform_w83627ehf_656', sensor: 'fan1' })).toBe(
      900,
    );
  });

  it('reports no data when /sys/class/hwmon does not exist (as on this VM)', async () => {
    const empty = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-hwmon-'));
    try {
      await expect(collectOnce(hwmonCollector, {}, { ...FIXTURE_PATHS, sysfs: empty })).rejects.toThrow(
        NoDataError,
      );
    } finally {
      await fsp.rm(empty, { recursive: true });
    }
  });

  it('reports no chips, successfully, for an empty /sys/class/hwmon', async () => {
    const sys = await fsp.mkdtemp(path.join(tmpdir(), 'hostscope-hwmon-'));
    try {
      await fsp.mkdir(path.join(sys, 'class/hwmon'), { recursive: true });
      expect(await collectOnce(hwmonCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).toEqual([]);
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });

  it('skips entries that are not directories', async () => {
    const sys = await sysCopy();
    try {
      await fsp.writeFile(path.join(sys, 'class/hwmon/README'), 'not a chip\n');
      const families = await collectOnce(hwmonCollector, {}, { ...FIXTURE_PATHS, sysfs: sys });
      expect(encode(families)).toBe(readFileSync(path.join(ORACLE, 'hwmon.prom'), 'utf8'));
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });

  it('fails on a dangling hwmonN link (node_exporter 1.5: "stat ...: no such file or directory")', async () => {
    const sys = await sysCopy();
    try {
      await fsp.symlink('../../devices/platform/gone/hwmon/hwmon9', path.join(sys, 'class/hwmon/hwmon9'));
      await expect(collectOnce(hwmonCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).rejects.toThrow(
        /ENOENT/,
      );
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });

  it('fails when a chip cannot be read (device link to a file: "not a directory")', async () => {
    const sys = await sysCopy();
    try {
      const chip = path.join(sys, 'devices/virtual/hwmon/hwmon5');
      await fsp.mkdir(chip);
      await fsp.writeFile(path.join(chip, 'devfile'), 'x\n');
      await fsp.symlink('devfile', path.join(chip, 'device'));
      await fsp.symlink('../../devices/virtual/hwmon/hwmon5', path.join(sys, 'class/hwmon/hwmon5'));
      await expect(collectOnce(hwmonCollector, {}, { ...FIXTURE_PATHS, sysfs: sys })).rejects.toThrow(
        /ENOTDIR/,
      );
    } finally {
      await fsp.rm(sys, { recursive: true });
    }
  });
});
