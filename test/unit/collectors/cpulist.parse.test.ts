import { parseCpuList } from '../../../src/collectors/cpulist.parse';

describe('parseCpuList', () => {
  it('expands single CPUs and inclusive ranges', () => {
    expect(parseCpuList('0-2,5,8-9\n')).toEqual([0, 1, 2, 5, 8, 9]);
  });

  it('returns no CPU for an empty file', () => {
    expect(parseCpuList('\n')).toEqual([]);
  });

  it('rejects malformed entries', () => {
    expect(() => parseCpuList('1-2-3')).toThrow(/invalid cpu range/);
    expect(() => parseCpuList('a')).toThrow(/invalid cpu number/);
  });
});
