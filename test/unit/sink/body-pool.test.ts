import { BodyPool } from '../../../src/sink/body-pool';

describe('BodyPool', () => {
  it('hands a released body out again, once, and only what it handed out', () => {
    const pool = new BodyPool(1, 1024);
    const a = pool.acquire(4096);
    expect(a.length).toBe(4096);
    pool.release(a);
    expect(pool.freeBytes).toBe(4096);
    pool.release(a); // twice: ignored
    pool.release(Buffer.alloc(8192)); // not from the pool: ignored
    expect(pool.freeBytes).toBe(4096);
    const b = pool.acquire(3000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(3000);
    expect(pool.freeBytes).toBe(0);
    const c = pool.acquire(3000); // none free: a new one
    expect(c.buffer).not.toBe(a.buffer);
  });

  it('keeps at most maxFree buffers, the biggest, and allocates small bodies outside the pool', () => {
    const pool = new BodyPool(1, 1024);
    const small = pool.acquire(100);
    const x = pool.acquire(2048);
    const y = pool.acquire(8192);
    pool.release(small);
    pool.release(x);
    pool.release(y);
    expect(pool.freeBytes).toBe(8192);
    expect(pool.acquire(9000).buffer).not.toBe(y.buffer); // too small to reuse
  });
});
