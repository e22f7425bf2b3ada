import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ParseCache } from '../../src/expfmt/parse';
import { scrapeTarget } from '../../src/sink/scrape';
import { corpus, fuzzParams, fuzzTimeout, mutatedBytes } from '../helpers/fuzz';

/**
 * The sink's scraper (src/sink/scrape.ts) against a hostile target: any status, Content-Type and
 * Content-Encoding, bodies that are garbage, truncated or corrupt gzip, gzip and deflate bombs far over
 * the body size limit once inflated, redirect loops and bodies that stall. Properties: scrapeTarget
 * never throws; it gives families or an error message; a body over the limit (as sent or inflated) is
 * an error, never read whole; and a stalled body ends at the scrape timeout. Corpus: expfmt/.
 */

const LIMIT = 256 * 1024;
const TIMEOUT_MS = 1_000;

interface Answer {
  status: number;
  contentType: string;
  encoding: 'identity' | 'gzip' | 'deflate' | 'br' | 'none';
  body: Buffer;
  stall: boolean;
  redirectLoop: boolean;
}

let server: Server;
let base: string;
let current: Answer;

beforeAll(async () => {
  server = createServer((req, res) => {
    const a = current;
    if (a.redirectLoop) {
      res.writeHead(302, { Location: req.url ?? '/' });
      res.end();
      return;
    }
    const headers: Record<string, string> = { 'Content-Type': a.contentType };
    if (a.encoding !== 'none') headers['Content-Encoding'] = a.encoding;
    res.writeHead(a.status, headers);
    if (a.stall) {
      res.write(a.body.subarray(0, a.body.length >> 1));
      return; // never ends: the scrape must time out
    }
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const exposition = fc.constantFrom(
  ...corpus('expfmt').map((e) => e.bytes),
  Buffer.from('# TYPE up gauge\nup 1\n'),
  Buffer.from('# TYPE up gauge\nup 1\n# EOF\n'),
);

const body = fc.oneof(
  exposition,
  mutatedBytes(exposition),
  fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)),
  // Over the limit as sent.
  fc.integer({ min: LIMIT + 1, max: LIMIT * 2 }).map((n) => Buffer.alloc(n, 0x61)),
);

const answer: fc.Arbitrary<Answer> = fc.record({
  status: fc.constantFrom(200, 200, 200, 204, 206, 301, 404, 500),
  contentType: fc.constantFrom(
    'text/plain; version=0.0.4',
    'application/openmetrics-text; version=1.0.0',
    'application/json',
    '',
    'text/html; charset=latin1',
  ),
  encoding: fc.constantFrom(
    'identity' as const,
    'gzip' as const,
    'deflate' as const,
    'br' as const,
    'none' as const,
  ),
  body,
  stall: fc.constant(false),
  redirectLoop: fc.constantFrom(false, false, false, false, true),
});

/** Encodes the body as the Content-Encoding says (sometimes corrupting it). */
function encoded(a: Answer, corrupt: boolean): Answer {
  let b = a.body;
  if (a.encoding === 'gzip') b = gzipSync(b);
  else if (a.encoding === 'deflate') b = deflateSync(b);
  if (corrupt && b.length > 4) b = b.subarray(0, b.length - 3);
  return { ...a, body: b };
}

describe('sink scraper against a hostile target (fuzz)', () => {
  it(
    'never throws: families or an error, within the timeout and the body size limit',
    async () => {
      await fc.assert(
        fc.asyncProperty(answer, fc.boolean(), async (a, corrupt) => {
          current = encoded(a, corrupt);
          const target = { url: `${base}/metrics`, instance: 'x', job: 'y' };
          const outcome = await scrapeTarget(target, {
            timeoutMs: TIMEOUT_MS,
            bodyLimitBytes: LIMIT,
            cache: new ParseCache(),
          });
          expect(outcome.families !== undefined || typeof outcome.error === 'string').toBe(true);
          if (outcome.body !== undefined) expect(outcome.body.length).toBeLessThanOrEqual(LIMIT);
          if (a.body.length > LIMIT && !corrupt && a.status === 200 && !a.redirectLoop && a.encoding !== 'br')
            expect(outcome.error).toMatch(/larger than the limit/);
        }),
        fuzzParams(300, { plugins: [fc.timeout(TIMEOUT_MS * 5)] }),
      );
    },
    fuzzTimeout(120_000),
  );

  it('refuses gzip and deflate bombs once inflated past the limit, without inflating them whole', async () => {
    for (const encoding of ['gzip', 'deflate'] as const) {
      // 1 GiB of zeros is about 1 MiB compressed; only LIMIT bytes of it may ever be inflated.
      const zeros = Buffer.alloc(64 * 1024 * 1024);
      const once = encoding === 'gzip' ? gzipSync(zeros) : deflateSync(zeros);
      current = {
        status: 200,
        contentType: 'text/plain',
        encoding,
        body: once,
        stall: false,
        redirectLoop: false,
      };
      const before = process.memoryUsage().arrayBuffers;
      const outcome = await scrapeTarget(
        { url: `${base}/metrics`, instance: 'x', job: 'y' },
        { timeoutMs: 10_000, bodyLimitBytes: LIMIT },
      );
      expect(outcome.error).toMatch(/larger than the limit/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    }
  });

  it('a body that stalls ends at the scrape timeout, as an error', async () => {
    current = {
      status: 200,
      contentType: 'text/plain',
      encoding: 'none',
      body: Buffer.from('up 1\n'.repeat(1000)),
      stall: true,
      redirectLoop: false,
    };
    const outcome = await scrapeTarget(
      { url: `${base}/metrics`, instance: 'x', job: 'y' },
      { timeoutMs: TIMEOUT_MS, bodyLimitBytes: LIMIT },
    );
    expect(outcome.error).toMatch(/timed out/);
  });
});
