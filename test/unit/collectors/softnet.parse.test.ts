import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSoftnet } from '../../../src/collectors/softnet.parse';

const FIXTURE = readFileSync(path.join(__dirname, '../../fixtures/host/proc/net/softnet_stat'), 'utf8');

describe('parseSoftnet', () => {
  it('decodes the hexadecimal counters and takes the CPU id from the 13th column', () => {
    expect(parseSoftnet(FIXTURE)).toEqual([
      { cpu: '0', processed: 0x57, dropped: 0, timeSqueezed: 0 },
      { cpu: '1', processed: 0x2731, dropped: 2, timeSqueezed: 10 },
      { cpu: '3', processed: 123456, dropped: 17, timeSqueezed: 5 },
    ]);
  });

  it('falls back to the row number on kernels that print no CPU id (9 or 11 columns)', () => {
    const nine = '0000000a 00000001 00000002 0 0 0 0 0 0\n';
    const eleven = '0000000b 00000000 00000000 0 0 0 0 0 0 0 0\n';
    expect(parseSoftnet(nine + eleven).map((r) => [r.cpu, r.processed])).toEqual([
      ['0', 10],
      ['1', 11],
    ]);
  });

  it('rejects short rows and non-hex counters', () => {
    expect(() => parseSoftnet('00000001 00000000 00000000 0 0 0 0 0\n')).toThrow(
      /8 columns were detected, but at least 9 were expected/,
    );
    expect(() => parseSoftnet('zz 0 0 0 0 0 0 0 0\n')).toThrow(/hexadecimal/);
  });
});
