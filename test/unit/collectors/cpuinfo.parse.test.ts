import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCpuInfo } from '../../../src/collectors/cpuinfo.parse';

const FIXTURE = readFileSync(path.join(__dirname, '../../fixtures/host/proc/cpuinfo'), 'utf8');

describe('parseCpuInfo', () => {
  it('returns one entry per processor block with the labelled fields', () => {
    const cpus = parseCpuInfo(FIXTURE);
    expect(cpus.map((c) => c.processor)).toEqual(['0', '1', '3']);
    expect(cpus[2]).toMatchObject({
      vendorId: 'AuthenticAMD',
      cpuFamily: '25',
      model: '17',
      modelName: 'AMD EPYC 9454P 48-Core Processor',
      stepping: '1',
      microcode: '0x1000065',
      cacheSize: '1024 KB',
      physicalId: '1',
      coreId: '0',
    });
  });

  it('splits flags and bugs into words', () => {
    const [first] = parseCpuInfo(FIXTURE);
    expect(first?.flags.slice(0, 3)).toEqual(['fpu', 'vme', 'de']);
    expect(first?.flags).toContain('avx512dq');
    expect(first?.bugs).toEqual([
      'sysret_ss_attrs',
      'null_seg',
      'spectre_v1',
      'spectre_v2',
      'spec_store_bypass',
    ]);
  });

  it('leaves fields the file lacks empty and ignores lines without ": "', () => {
    const cpus = parseCpuInfo('\nprocessor\t: 7\nbugs\t\t:\npower management:\n');
    expect(cpus).toEqual([
      {
        processor: '7',
        vendorId: '',
        cpuFamily: '',
        model: '',
        modelName: '',
        stepping: '',
        microcode: '',
        cacheSize: '',
        physicalId: '',
        coreId: '',
        flags: [],
        bugs: [],
      },
    ]);
  });

  it('rejects a file that does not start with a processor line, or a bad processor number', () => {
    expect(() => parseCpuInfo('vendor_id\t: GenuineIntel\n')).toThrow(/invalid cpuinfo file/);
    expect(() => parseCpuInfo('processor\t: zero\n')).toThrow(/processor/);
  });
});
