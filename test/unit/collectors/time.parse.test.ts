import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  clockSourceDirs,
  evalPosixTz,
  lookupZone,
  parseClockSource,
  parseTzif,
  UTC_ZONE,
} from '../../../src/collectors/time.parse';

const FIXTURES = path.join(__dirname, '../../fixtures/host');
const zoneFile = (name: string) =>
  parseTzif(readFileSync(path.join(FIXTURES, 'rootfs/usr/share/zoneinfo', name)));
const clocksource = (f: string) =>
  readFileSync(path.join(FIXTURES, 'sys/devices/system/clocksource/clocksource0', f), 'utf8');

/** Unix seconds of a UTC date-time. */
const at = (iso: string) => Date.parse(`${iso}Z`) / 1000;

describe('parseClockSource', () => {
  it('splits the available list (trailing blank and newline included) and trims the current one', () => {
    expect(
      parseClockSource(clocksource('available_clocksource'), clocksource('current_clocksource')),
    ).toEqual({
      available: ['tsc', 'hpet', 'acpi_pm'],
      current: 'tsc',
    });
  });

  it('reports an empty list for an empty file', () => {
    expect(parseClockSource('\n', 'tsc\n')).toEqual({ available: [], current: 'tsc' });
  });
});

describe('clockSourceDirs', () => {
  it('keeps clocksource<digit>* entries in byte order, like Go filepath.Glob', () => {
    expect(
      clockSourceDirs(['uevent', 'clocksource2', 'power', 'clocksource10', 'clocksource0', 'clocksourcex']),
    ).toEqual(['clocksource0', 'clocksource10', 'clocksource2']);
  });
});

describe('parseTzif', () => {
  it('reads a version 2 file: types, abbreviations and the footer', () => {
    const utc = zoneFile('Etc/UTC');
    expect(utc.types).toEqual([{ offset: 0, isDst: false, name: 'UTC' }]);
    expect(utc.transitions).toEqual([]);
    expect(utc.extend).toBe('UTC0');
  });

  it('reads transitions from the 64-bit block', () => {
    const berlin = zoneFile('Europe/Berlin');
    expect(berlin.extend).toBe('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(berlin.types.map((t) => t.name)).toEqual(expect.arrayContaining(['LMT', 'CET', 'CEST']));
    // 64-bit times: the first transition is in 1893, before the 32-bit range's 1901 floor.
    expect(berlin.transitions[0]?.at).toBeLessThan(at('1901-12-13T20:45:52'));
  });

  it('reads a version 1 (32-bit only) file, which has no footer', () => {
    const header = (timecnt: number, typecnt: number, charcnt: number) => {
      const b = Buffer.alloc(44);
      b.write('TZif', 0, 'latin1');
      [0, 0, 0, timecnt, typecnt, charcnt].forEach((n, i) => b.writeUInt32BE(n, 20 + i * 4));
      return b;
    };
    const times = Buffer.alloc(4);
    times.writeInt32BE(1000);
    const types = Buffer.alloc(12);
    types.writeInt32BE(-18000, 0);
    types.writeUInt8(0, 4);
    types.writeUInt8(0, 5);
    types.writeInt32BE(-14400, 6);
    types.writeUInt8(1, 10);
    types.writeUInt8(4, 11);
    const zone = parseTzif(
      Buffer.concat([header(1, 2, 8), times, Buffer.from([1]), types, Buffer.from('EST\0EDT\0', 'latin1')]),
    );
    expect(zone).toEqual({
      types: [
        { offset: -18000, isDst: false, name: 'EST' },
        { offset: -14400, isDst: true, name: 'EDT' },
      ],
      transitions: [{ at: 1000, type: 1 }],
      extend: '',
    });
    expect(lookupZone(zone, 999)).toEqual({ name: 'EST', offset: -18000 });
    expect(lookupZone(zone, 1000)).toEqual({ name: 'EDT', offset: -14400 });
  });

  it('rejects what is not a TZif file, and a truncated one', () => {
    expect(() => parseTzif(Buffer.from('not a zone file, but long enough to hold a header......'))).toThrow(
      /not a TZif/,
    );
    expect(() =>
      parseTzif(readFileSync(path.join(FIXTURES, 'rootfs/usr/share/zoneinfo/Etc/UTC')).subarray(0, 60)),
    ).toThrow();
  });
});

describe('lookupZone', () => {
  // Expected abbreviations and offsets are glibc's (`TZ=<zone> date -d @<sec> +%Z%z`).
  it('follows the transitions around a DST switch (Europe/Berlin, 2024-03-31 01:00 UTC)', () => {
    const berlin = zoneFile('Europe/Berlin');
    expect(lookupZone(berlin, at('2024-03-31T00:59:59'))).toEqual({ name: 'CET', offset: 3600 });
    expect(lookupZone(berlin, at('2024-03-31T01:00:00'))).toEqual({ name: 'CEST', offset: 7200 });
    expect(lookupZone(berlin, at('2025-01-01T00:00:00'))).toEqual({ name: 'CET', offset: 3600 });
  });

  it('uses the footer rule after the last transition (year 2100)', () => {
    const berlin = zoneFile('Europe/Berlin');
    expect(lookupZone(berlin, at('2100-03-28T00:59:59'))).toEqual({ name: 'CET', offset: 3600 });
    expect(lookupZone(berlin, at('2100-03-28T01:00:00'))).toEqual({ name: 'CEST', offset: 7200 });
    expect(lookupZone(berlin, at('2100-10-31T00:59:59'))).toEqual({ name: 'CEST', offset: 7200 });
    expect(lookupZone(berlin, at('2100-10-31T01:00:00'))).toEqual({ name: 'CET', offset: 3600 });
  });

  it('handles southern-hemisphere rules, where DST spans the new year (Australia/Sydney)', () => {
    const sydney = zoneFile('Australia/Sydney');
    expect(lookupZone(sydney, at('2024-07-15T00:00:00'))).toEqual({ name: 'AEST', offset: 36000 });
    expect(lookupZone(sydney, at('2100-07-01T00:00:00'))).toEqual({ name: 'AEST', offset: 36000 });
    expect(lookupZone(sydney, at('2100-01-15T00:00:00'))).toEqual({ name: 'AEDT', offset: 39600 });
  });

  it('reports numeric abbreviations of <quoted> names (America/Sao_Paulo, no DST since 2019)', () => {
    const saoPaulo = zoneFile('America/Sao_Paulo');
    expect(saoPaulo.extend).toBe('<-03>3');
    expect(lookupZone(saoPaulo, at('2024-07-15T00:00:00'))).toEqual({ name: '-03', offset: -10800 });
    expect(lookupZone(saoPaulo, at('2100-01-01T00:00:00'))).toEqual({ name: '-03', offset: -10800 });
  });

  it('gives UTC for the fallback zone and for a zone file without transitions', () => {
    expect(lookupZone(UTC_ZONE, at('2024-07-15T00:00:00'))).toEqual({ name: 'UTC', offset: 0 });
    expect(lookupZone(zoneFile('Etc/UTC'), at('2024-07-15T00:00:00'))).toEqual({ name: 'UTC', offset: 0 });
  });

  it('uses the first standard type before the first transition', () => {
    const berlin = zoneFile('Europe/Berlin');
    expect(lookupZone(berlin, at('1800-01-01T00:00:00'))).toEqual({ name: 'LMT', offset: 3208 });
  });
});

describe('evalPosixTz', () => {
  it('applies the default US rules when a DST name has no rule (EST5EDT)', () => {
    expect(evalPosixTz('EST5EDT', at('2100-07-01T00:00:00'))).toEqual({ name: 'EDT', offset: -14400 });
    expect(evalPosixTz('EST5EDT', at('2100-01-01T00:00:00'))).toEqual({ name: 'EST', offset: -18000 });
  });

  it('parses minutes in offsets and zones without DST', () => {
    expect(evalPosixTz('<+0545>-5:45', 0)).toEqual({ name: '+0545', offset: 20700 });
    expect(evalPosixTz('JST-9', 0)).toEqual({ name: 'JST', offset: 32400 });
  });

  it('supports Julian (Jn) and zero-based day-of-year (n) rules', () => {
    // DST from 1 March (J60 / day 59 in a non-leap year) to 1 November, at 02:00 local.
    expect(evalPosixTz('XST0XDT,J60,J305', at('2101-02-28T12:00:00'))?.name).toBe('XST');
    expect(evalPosixTz('XST0XDT,J60,J305', at('2101-03-01T12:00:00'))?.name).toBe('XDT');
    expect(evalPosixTz('XST0XDT,59,304', at('2101-03-01T12:00:00'))?.name).toBe('XDT');
    expect(evalPosixTz('XST0XDT,59,304', at('2101-11-02T12:00:00'))?.name).toBe('XST');
  });

  it('rejects malformed strings', () => {
    for (const bad of [
      '',
      'AB1',
      'CET',
      'CET-1CEST,M13.1.0,M10.5.0',
      'CET-1CEST,M3.5.0',
      '<CET-1',
      'CET-1CEST,M3.5.0,M10.5.0x',
    ]) {
      expect(evalPosixTz(bad, 0)).toBeUndefined();
    }
  });
});
