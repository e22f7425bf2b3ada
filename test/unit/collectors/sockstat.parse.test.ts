import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSockstat } from '../../../src/collectors/sockstat.parse';

const NET = path.join(__dirname, '../../fixtures/host/proc/net');

describe('parseSockstat', () => {
  it('reads sockets used and every protocol with the fields it has', () => {
    const stat = parseSockstat(readFileSync(path.join(NET, 'sockstat'), 'utf8'));
    expect(stat.used).toBe(229);
    expect(stat.protocols).toEqual([
      { protocol: 'TCP', values: { inuse: 12, orphan: 1, tw: 3, alloc: 15, mem: 7 } },
      { protocol: 'UDP', values: { inuse: 4, mem: 2 } },
      { protocol: 'UDPLITE', values: { inuse: 0 } },
      { protocol: 'RAW', values: { inuse: 1 } },
      { protocol: 'FRAG', values: { inuse: 0, memory: 0 } },
    ]);
  });

  it('reads sockstat6, which has no sockets line', () => {
    const stat = parseSockstat(readFileSync(path.join(NET, 'sockstat6'), 'utf8'));
    expect(stat.used).toBeUndefined();
    expect(stat.protocols.map((p) => p.protocol)).toEqual(['TCP6', 'UDP6', 'UDPLITE6', 'RAW6', 'FRAG6']);
  });

  it('defaults inuse to 0 and ignores unknown keys', () => {
    expect(parseSockstat('XDP: weird 5 mem 1\n').protocols).toEqual([
      { protocol: 'XDP', values: { inuse: 0, mem: 1 } },
    ]);
  });

  it('rejects short lines, odd key/value fields and non-integers', () => {
    expect(() => parseSockstat('TCP: inuse\n')).toThrow(/malformed sockstat line/);
    expect(() => parseSockstat('TCP: inuse 1 tw\n')).toThrow(/malformed sockstat line/);
    expect(() => parseSockstat('TCP: inuse one\n')).toThrow(/invalid value/);
  });
});
