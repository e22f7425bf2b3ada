import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConntrackStat, parseUint } from '../../../src/collectors/conntrack.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/net/stat/nf_conntrack');
const HEADER =
  'entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop\n';

describe('parseConntrackStat', () => {
  it('sums the hex per-CPU columns by position', () => {
    expect(parseConntrackStat(readFileSync(FIXTURE, 'utf8'))).toEqual({
      found: 0x10 + 0x1,
      invalid: 0xa + 0x1,
      ignore: 0xff + 0x1,
      insert: 0x5 + 0x1,
      insertFailed: 0x1,
      drop: 0x2,
      earlyDrop: 0x3,
      searchRestart: 0x4 + 0x10,
    });
  });

  it('reads 16-column lines of old kernels with search_restart 0', () => {
    const line =
      '00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008 00000009 0000000a 0000000b 0000000c 0000000d 0000000e 0000000f 00000010\n';
    const stats = parseConntrackStat(HEADER + line);
    expect(stats.found).toBe(3);
    expect(stats.earlyDrop).toBe(12);
    expect(stats.searchRestart).toBe(0);
  });

  it('gives zeros for a header-only file', () => {
    expect(parseConntrackStat(HEADER).found).toBe(0);
  });

  it('rejects wrong widths and non-hex values', () => {
    expect(() => parseConntrackStat(`${HEADER}00000001 00000002\n`)).toThrow(/invalid number of fields: 2/);
    expect(() => parseConntrackStat(`${HEADER}0000000z ${'00000000 '.repeat(16)}\n`)).toThrow(
      /invalid nf_conntrack stat line/,
    );
  });
});

describe('parseUint', () => {
  it('reads a trimmed decimal and rejects anything else', () => {
    expect(parseUint('262144\n', 'nf_conntrack_max')).toBe(262144);
    expect(() => parseUint('-1\n', 'nf_conntrack_max')).toThrow(/invalid value in nf_conntrack_max/);
    expect(() => parseUint('', 'nf_conntrack_count')).toThrow(/invalid value/);
  });
});
