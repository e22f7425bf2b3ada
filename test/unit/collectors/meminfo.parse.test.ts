import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseMemInfo } from '../../../src/collectors/meminfo.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/meminfo');

describe('parseMemInfo', () => {
  const fields = new Map(parseMemInfo(readFileSync(FIXTURE, 'utf8')).map((f) => [f.name, f.value]));

  it('converts kB fields to bytes and names them *_bytes', () => {
    expect(fields.get('MemTotal_bytes')).toBe(16301604 * 1024);
    expect(fields.get('VmallocTotal_bytes')).toBe(34359738367 * 1024);
  });

  it('turns (anon)/(file) into _anon/_file', () => {
    expect(fields.get('Active_anon_bytes')).toBe(190412 * 1024);
    expect(fields.get('Inactive_file_bytes')).toBe(2126056 * 1024);
    expect([...fields.keys()].some((k) => k.includes('('))).toBe(false);
  });

  it('keeps unit-less fields as counts without _bytes', () => {
    expect(fields.get('HugePages_Total')).toBe(64);
    expect(fields.get('HugePages_Rsvd')).toBe(2);
    expect(fields.has('HugePages_Total_bytes')).toBe(false);
  });

  it('reads every line of the fixture', () => {
    expect(fields.size).toBe(55);
  });

  it('skips blank lines', () => {
    expect(parseMemInfo('MemTotal: 1 kB\n\n   \nHugePages_Free: 3\n')).toEqual([
      { name: 'MemTotal_bytes', value: 1024 },
      { name: 'HugePages_Free', value: 3 },
    ]);
  });

  it('rejects a line with a bad value or shape', () => {
    expect(() => parseMemInfo('MemTotal: lots kB\n')).toThrow(/invalid value in meminfo/);
    expect(() => parseMemInfo('MemTotal:\n')).toThrow(/invalid line in meminfo/);
    expect(() => parseMemInfo('MemTotal: 1 kB extra\n')).toThrow(/invalid line in meminfo/);
    expect(() => parseMemInfo('MemTotal 1 kB\n')).toThrow(/invalid line in meminfo/);
  });
});
