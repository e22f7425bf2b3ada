import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const BUFFER = path.join(__dirname, '../../../dist/sink/buffer.js');

interface Outcome {
  readonly written: boolean;
  readonly dropped: boolean;
  readonly remaining: number;
}

/**
 * Runs in a child process with --expose-gc (a full, synchronous collection; no timing involved): after a
 * scrape was written (removed) or dropped, the buffer must no longer reach it. Holding written scrapes (each
 * a whole /metrics body and its parsed samples) until 1,024 of them had passed grew the sink by ~350 KB per
 * scrape, hours on end.
 */
function collected(): Outcome {
  const script = `
    const { ScrapeBuffer } = require(${JSON.stringify(BUFFER)});
    const scrape = (n) => ({ target: {}, timeMs: n, families: [], sampleCount: 10, containerUsage: [] });
    const buffer = new ScrapeBuffer(1000);
    const refs = (() => {
      const a = scrape(1), b = scrape(2), c = scrape(3);
      buffer.push(a);
      buffer.push(b);
      buffer.push(c);
      buffer.remove([a]);
      return { written: new WeakRef(a), lastDropped: new WeakRef(c) };
    })();
    const drop = (() => {
      const big = { ...scrape(4), sampleCount: 995 };
      const ref = new WeakRef(buffer.peek(1)[0]);
      buffer.push(big); // past maxSamples: the oldest (b, then c) are dropped
      return ref;
    })();
    setImmediate(() => {
      global.gc();
      process.stdout.write(JSON.stringify({
        written: refs.written.deref() === undefined,
        dropped: drop.deref() === undefined && refs.lastDropped.deref() === undefined,
        remaining: buffer.scrapes,
      }));
    });`;
  return JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }),
  ) as Outcome;
}

describe('ScrapeBuffer', () => {
  it('does not keep written or dropped scrapes reachable', () => {
    expect(collected()).toEqual({ written: true, dropped: true, remaining: 1 });
  });
});
