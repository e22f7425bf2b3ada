import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseDiskStats, parseUdevProperties } from '../../../src/collectors/diskstats.parse';

const FIXTURES = path.join(__dirname, '../../fixtures/host');

describe('parseDiskStats', () => {
  const disks = parseDiskStats(readFileSync(path.join(FIXTURES, 'proc/diskstats'), 'utf8'));
  const byName = new Map(disks.map((d) => [d.device, d]));

  it('keeps every line with at least 14 fields and drops shorter ones (nbd0)', () => {
    expect(disks.map((d) => d.device)).toEqual([
      'ram0',
      'loop0',
      'nvme0n1',
      'nvme0n1p1',
      'sda',
      'sda1',
      'sdb',
      'dm-0',
      'sr0',
      'md0',
    ]);
  });

  it('reads major, minor and the counters of 20-, 18- and 14-field lines', () => {
    expect(byName.get('nvme0n1')).toEqual({
      major: 259,
      minor: 0,
      device: 'nvme0n1',
      stats: [
        1472319, 403112, 97534856, 341876, 8764310, 5541893, 453091528, 6019813, 0, 3261984, 6729541, 254388,
        12, 193447416, 95321, 863211, 272531,
      ],
    });
    expect(byName.get('sda')?.stats).toHaveLength(15);
    expect(byName.get('sda')?.stats[6]).toBe(8612607480); // above 2^32
    expect(byName.get('sdb')?.stats).toEqual([
      76101, 2093, 6291970, 1043616, 31220, 80143, 13574632, 3366412, 0, 549600, 4410028,
    ]);
  });

  it('ignores fields beyond the 20th', () => {
    const [disk] = parseDiskStats(`8 0 sda ${Array.from({ length: 19 }, (_, i) => i + 1).join(' ')}\n`);
    expect(disk?.stats).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
  });

  it('rejects a non-numeric counter', () => {
    expect(() => parseDiskStats('8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n')).toThrow(/invalid field "x"/);
    expect(() => parseDiskStats('8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n')).toThrow(/invalid field "-11"/);
  });

  it('returns nothing for an empty file', () => {
    expect(parseDiskStats('')).toEqual([]);
  });
});

describe('parseUdevProperties', () => {
  it('reads the E: properties of a udev database file', () => {
    const props = parseUdevProperties(readFileSync(path.join(FIXTURES, 'udev/data/b8:0'), 'utf8'));
    expect(props.get('ID_SERIAL_SHORT')).toBe('S3Z1NB0K612345A');
    expect(props.get('ID_PATH')).toBe('pci-0000:00:17.0-ata-1.0');
    expect(props.get('ID_ATA_ROTATION_RATE_RPM')).toBe('0');
    expect([...props.keys()].every((k) => /^[A-Z_0-9]+$/.test(k))).toBe(true);
  });

  it('ignores other records and E: lines without "=", keeps "=" inside values', () => {
    const props = parseUdevProperties('S:disk/by-id/x\nI:123\nE:BROKEN\nE:A=b=c\nE:EMPTY=\nG:systemd\n');
    expect([...props.entries()]).toEqual([
      ['A', 'b=c'],
      ['EMPTY', ''],
    ]);
  });
});
