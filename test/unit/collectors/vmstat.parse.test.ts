import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseVmstat } from '../../../src/collectors/vmstat.parse';
import { DEFAULT_VMSTAT_FIELDS } from '../../../src/collectors/vmstat';

const FIXTURE = readFileSync(path.join(__dirname, '../../fixtures/host/proc/vmstat'), 'utf8');

describe('parseVmstat', () => {
  it('returns every field without a filter', () => {
    const fields = parseVmstat(FIXTURE);
    expect(fields).toHaveLength(16);
    expect(fields[0]).toEqual({ name: 'nr_free_pages', value: 1195288 });
  });

  it("keeps the fields node_exporter's default pattern selects", () => {
    expect(parseVmstat(FIXTURE, new RegExp(DEFAULT_VMSTAT_FIELDS)).map((f) => f.name)).toEqual([
      'pgpgin',
      'pgpgout',
      'pswpin',
      'pswpout',
      'pgfault',
      'pgmajfault',
      'oom_kill',
    ]);
  });

  it('fails on a malformed selected line but not on one that is filtered out', () => {
    const text = 'pgfault 12\nnr_bogus x\n';
    expect(parseVmstat(text, /^pg/)).toEqual([{ name: 'pgfault', value: 12 }]);
    expect(() => parseVmstat(text)).toThrow(/nr_bogus/);
  });

  it('reads lines of any spacing as whitespace-separated pairs, as the kernel format allows', () => {
    const text = 'a 1\n  b\t2  \nc   -3\nd 0x10\n\ne +4\n';
    expect(parseVmstat(text)).toEqual([
      { name: 'a', value: 1 },
      { name: 'b', value: 2 },
      { name: 'c', value: -3 },
      { name: 'd', value: 16 },
      { name: 'e', value: 4 },
    ]);
    expect(() => parseVmstat('a 1 2\n')).toThrow(/"a 1 2"/);
    expect(() => parseVmstat('a\n')).toThrow(/"a"/);
    expect(() => parseVmstat('9a 1\n')).toThrow(/9a/);
    expect(() => parseVmstat('a\tb 1\n')).toThrow(/a\\tb 1/);
    expect(parseVmstat('a\tb 1\nc 2', /^c/)).toEqual([{ name: 'c', value: 2 }]);
  });
});
