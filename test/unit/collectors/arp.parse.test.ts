import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArpEntries } from '../../../src/collectors/arp.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/net/arp');
const HEADER = 'IP address       HW type     Flags       HW address            Mask     Device\n';

describe('parseArpEntries', () => {
  it('counts entries per device, incomplete ones included', () => {
    expect([...parseArpEntries(readFileSync(FIXTURE, 'utf8'))]).toEqual([
      ['eth0', 3],
      ['wlan0', 1],
      ['docker0', 1],
    ]);
  });

  it('gives an empty map for an empty table', () => {
    expect(parseArpEntries(HEADER).size).toBe(0);
  });

  it('rejects lines of an unexpected width', () => {
    expect(() => parseArpEntries(`${HEADER}10.0.0.1 0x1 0x2 aa:bb:cc:dd:ee:ff eth0\n`)).toThrow(/5 columns/);
  });
});
