import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  coolingDeviceDirs,
  parseCoolingDevice,
  parseSysfsInt,
  parseThermalZone,
  thermalZoneDirs,
} from '../../../src/collectors/thermal_zone.parse';

const THERMAL = path.join(__dirname, '../../fixtures/host/sys/devices/virtual/thermal');
const read = (dir: string, file: string) => readFileSync(path.join(THERMAL, dir, file), 'utf8');

describe('thermal directory listing', () => {
  const entries = [
    'cooling_device1',
    'thermal_zone10',
    'thermal_zone2',
    'cooling_device0',
    'thermal_zone0',
    'uevent',
  ];

  it('keeps thermal_zone<digit>* entries sorted like Go filepath.Glob', () => {
    expect(thermalZoneDirs(entries)).toEqual(['thermal_zone0', 'thermal_zone10', 'thermal_zone2']);
  });

  it('keeps cooling_device<digit>* entries', () => {
    expect(coolingDeviceDirs(entries)).toEqual(['cooling_device0', 'cooling_device1']);
  });
});

describe('parseThermalZone', () => {
  it('reads the fixture zone: millidegrees to degrees, trimmed type', () => {
    expect(
      parseThermalZone('thermal_zone0', read('thermal_zone0', 'type'), read('thermal_zone0', 'temp')),
    ).toEqual({
      zone: '0',
      type: 'acpitz',
      tempCelsius: 27.8,
    });
  });

  it('accepts negative temperatures', () => {
    expect(parseThermalZone('thermal_zone7', 'soc_dts0\n', '-5000\n').tempCelsius).toBe(-5);
  });

  it('rejects a temperature that is not an integer, as procfs does', () => {
    expect(() => parseThermalZone('thermal_zone1', 'x86_pkg_temp\n', 'abc\n')).toThrow(/parsing "abc"/);
    expect(() => parseThermalZone('thermal_zone1', 'x86_pkg_temp\n', '45.5\n')).toThrow(/invalid syntax/);
  });
});

describe('parseCoolingDevice', () => {
  it('reads the fixture devices, including intel_powerclamp cur_state -1', () => {
    expect(
      parseCoolingDevice(
        'cooling_device1',
        read('cooling_device1', 'type'),
        read('cooling_device1', 'max_state'),
        read('cooling_device1', 'cur_state'),
      ),
    ).toEqual({ name: '1', type: 'intel_powerclamp', maxState: 50, curState: -1 });
  });

  it('rejects non-integer states', () => {
    expect(() => parseCoolingDevice('cooling_device0', 'Fan\n', '', '0\n')).toThrow(/max_state/);
  });
});

describe('parseSysfsInt', () => {
  it('parses signed and unsigned integers with surrounding white space', () => {
    expect(parseSysfsInt('f', ' +12\n')).toBe(12);
    expect(parseSysfsInt('f', '0\n', true)).toBe(0);
    expect(() => parseSysfsInt('f', '-1', true)).toThrow(/ParseUint/);
  });
});
