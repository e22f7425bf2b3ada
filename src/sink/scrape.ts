import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { countSamples, parseExposition, parseExpositionSliced, type ParseCache } from '../expfmt/parse';
import type { InputFormat, ParsedFamily } from '../expfmt/types';
import { describe } from '../errors';
import type { BodyPool } from './body-pool';
import type { Target } from './types';

export const ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Prometheus follows at most 10 redirects. */
const MAX_REDIRECTS = 10;

export interface ScrapeOutcome {
  readonly target: Target;
  readonly timeMs: number;
  readonly durationSeconds: number;
  /** Undefined when the scrape failed. */
  readonly families?: readonly ParsedFamily[];
  readonly error?: string;
  /** The body as received, with its format, when it parsed: what the disk buffer keeps of a scrape. */
  readonly body?: Buffer;
  readonly format?: InputFormat;
}

export function formatOf(contentType: string | null | undefined): InputFormat {
  return typeof contentType === 'string' && /application\/openmetrics-text/i.test(contentType)
    ? 'openmetrics'
    : 'text';
}

interface Body {
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
}

/** One GET; resolves with the response (any status) or rejects on a connection error or abort. */
function get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send =
      url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (send === undefined) {
      reject(new Error(`unsupported URL scheme ${url.protocol}`));
      return;
    }
    const req = send(url, {
      headers: {
        Accept: ACCEPT_HEADER,
        'Accept-Encoding': 'gzip',
        'User-Agent': 'hostscope-sink',
      },
      signal,
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

/**
 * Reads a body into one buffer. node:http rather than fetch: fetch's web streams
 * cost about 3 us per KiB here (1.2-1.9 s for a 35 MiB body under load, past a 1 s scrape timeout),
 * node:http a fraction of that. With a Content-Length the chunks are copied straight into their place.
 */
async function readBody(
  res: IncomingMessage,
  limitBytes: number,
  pool: BodyPool | undefined,
): Promise<Buffer> {
  const encoding = (res.headers['content-encoding'] ?? '').toLowerCase();
  let stream: Readable = res;
  let expected = -1;
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(createGunzip());
  else if (encoding === 'deflate') stream = res.pipe(createInflate());
  else if (encoding !== '' && encoding !== 'identity')
    throw new Error(`unsupported Content-Encoding ${JSON.stringify(encoding)}`);
  else expected = Number(res.headers['content-length'] ?? -1);
  if (limitBytes > 0 && expected > limitBytes) {
    res.destroy();
    throw new Error(`body larger than the limit of ${limitBytes} bytes`);
  }
  // With a Content-Length the body goes into a pooled buffer of that size (see BodyPool).
  let buf = expected >= 0 && pool !== undefined ? pool.acquire(expected) : Buffer.allocUnsafe(1 << 16);
  const first = buf;
  let size = 0;
  try {
    for await (const chunk of stream) {
      const c = chunk as Buffer;
      if (limitBytes > 0 && size + c.length > limitBytes)
        throw new Error(`body larger than the limit of ${limitBytes} bytes`);
      if (size + c.length > buf.length) {
        const next = Buffer.allocUnsafe(Math.max(buf.length * 2, size + c.length));
        buf.copy(next, 0, 0, size);
        buf = next;
      }
      c.copy(buf, size);
      size += c.length;
    }
  } catch (err) {
    pool?.release(first);
    throw err;
  } finally {
    if (stream !== res) res.destroy();
  }
  if (buf !== first) pool?.release(first);
  return buf.subarray(0, size);
}

/** GET with redirects; rejects on connection errors, non-2xx status, the time limit or the size limit. */
async function fetchBody(
  url: string,
  limitBytes: number,
  signal: AbortSignal,
  pool: BodyPool | undefined,
): Promise<Body> {
  let current = new URL(url);
  for (let hops = 0; ; hops++) {
    const res = await get(current, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location !== undefined && hops < MAX_REDIRECTS) {
      res.resume();
      current = new URL(location, current);
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw new Error(`server returned HTTP status ${status} ${res.statusMessage ?? ''}`.trimEnd());
    }
    return { bytes: await readBody(res, limitBytes, pool), contentType: res.headers['content-type'] };
  }
}

/**
 * Scrapes one target like Prometheus: negotiated format, gzip, redirects, a time limit for the whole
 * request, a body size limit, and a non-2xx status or a body that does not parse counts as a failure.
 * Never throws.
 */
export async function scrapeTarget(
  target: Target,
  options: {
    timeoutMs: number;
    bodyLimitBytes: number;
    nowMs?: number;
    /** This target's parse cache: repeated lines reuse the last scrape's names and labels. */
    cache?: ParseCache;
    /** Where big bodies are read into; the outcome's body then has one holder, its receiver. */
    pool?: BodyPool;
  },
): Promise<ScrapeOutcome> {
  const timeMs = options.nowMs ?? Date.now();
  const started = performance.now();
  const signal = AbortSignal.timeout(options.timeoutMs);
  const done = (
    extra: Partial<Pick<ScrapeOutcome, 'families' | 'error' | 'body' | 'format'>>,
  ): ScrapeOutcome => ({
    target,
    timeMs,
    durationSeconds: (performance.now() - started) / 1000,
    ...extra,
  });
  let bytes: Buffer | undefined;
  try {
    const { cache, pool } = options;
    const body = await fetchBody(target.url, options.bodyLimitBytes, signal, pool);
    bytes = body.bytes;
    const format = formatOf(body.contentType);
    const families =
      cache === undefined
        ? parseExposition(bytes, format)
        : await parseExpositionSliced(bytes, format, cache);
    // The receiver keeps the body for the disk buffer, should the scrape have to wait there.
    return done({ families, body: bytes, format });
  } catch (err) {
    options.pool?.release(bytes);
    const message = signal.aborted ? `scrape timed out after ${options.timeoutMs} ms` : describe(err);
    return done({ error: message });
  }
}

/** Prometheus' synthetic per-scrape series, added to every scrape (failed or not). */
export function syntheticFamilies(outcome: ScrapeOutcome): ParsedFamily[] {
  const up = outcome.families === undefined ? 0 : 1;
  const scraped = countSamples(outcome.families ?? []);
  const gauge = (name: string, help: string, value: number): ParsedFamily => ({
    name,
    type: 'gauge',
    help,
    samples: [{ name, labels: {}, value }],
  });
  return [
    gauge('up', '1 if the target was scraped and parsed successfully, else 0.', up),
    gauge('scrape_duration_seconds', 'Duration of the scrape.', outcome.durationSeconds),
    gauge('scrape_samples_scraped', 'Number of samples the target exposed.', scraped),
  ];
}
