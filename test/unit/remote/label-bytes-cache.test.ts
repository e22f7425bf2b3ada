import { hashBytes, LabelBytesCache } from '../../../src/remote/label-bytes-cache';

describe('LabelBytesCache', () => {
  it('finds ids by key bytes anywhere in a buffer, and tells keys with the same hash apart', () => {
    const cache = new LabelBytesCache(10);
    const a = Buffer.from('xxAAAAyy');
    cache.set(7, a, 2, 6, 1);
    cache.set(7, Buffer.from('BBBB'), 0, 4, 2); // same hash, other bytes
    expect(cache.get(7, Buffer.from('AAAA'), 0, 4)).toBe(1);
    expect(cache.get(7, Buffer.from('zBBBB'), 1, 5)).toBe(2);
    expect(cache.get(7, Buffer.from('AAA'), 0, 3)).toBe(-1);
    expect(cache.get(8, Buffer.from('AAAA'), 0, 4)).toBe(-1);
    a.fill(0); // the key was copied in
    expect(cache.get(7, Buffer.from('AAAA'), 0, 4)).toBe(1);
    expect(cache.size).toBe(2);
  });

  it('starts over past its bound', () => {
    const cache = new LabelBytesCache(2);
    for (let i = 0; i < 3; i++) {
      const b = Buffer.from(`k${i}`);
      cache.set(hashBytes(b, 0, b.length), b, 0, b.length, i);
    }
    expect(cache.size).toBe(1);
    const k2 = Buffer.from('k2');
    expect(cache.get(hashBytes(k2, 0, 2), k2, 0, 2)).toBe(2);
  });
});
