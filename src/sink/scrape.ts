import { parseExposition } from '../expfmt/parse';
import type { InputFormat, ParsedFamily } from '../expfmt/types';
import { describe } from '../errors';
import type { Target } from './types';

export const ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export interface ScrapeOutcome {
  readonly target: Target;
  readonly timeMs: number;
  readonly durationSeconds: number;
  /** Undefined when the scrape failed. */
  readonly families?: readonly ParsedFamily[];
  readonly error?: string;
  /** The body as received, with its format, when it parsed: what the disk buffer keeps of a scrape. */
  readonly body?: string;
  readonly format?: InputFormat;
}

export function formatOf(contentType: string | null): InputFormat {
  return contentType !== null && /application\/openmetrics-text/i.test(contentType) ? 'openmetrics' : 'text';
}

async function readLimited(res: Response, limitBytes: number, signal: AbortSignal): Promise<string> {
  const body = res.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    if (signal.aborted) throw new Error('scrape timed out');
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (limitBytes > 0 && size > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`body larger than the limit of ${limitBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Scrapes one target like Prometheus: negotiated format, a time limit for the whole request, a body size
 * limit, and a non-2xx status or a body that does not parse counts as a failure. Never throws.
 */
export async function scrapeTarget(
  target: Target,
  options: { timeoutMs: number; bodyLimitBytes: number; nowMs?: number },
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
  try {
    const res = await fetch(target.url, {
      headers: { Accept: ACCEPT_HEADER, 'User-Agent': 'hostscope-sink' },
      signal,
      redirect: 'follow',
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return done({ error: `server returned HTTP status ${res.status} ${res.statusText}` });
    }
    const text = await readLimited(res, options.bodyLimitBytes, signal);
    const format = formatOf(res.headers.get('content-type'));
    return done({ families: parseExposition(text, format), body: text, format });
  } catch (err) {
    const message =
      signal.aborted || (err instanceof Error && err.name === 'TimeoutError')
        ? `scrape timed out after ${options.timeoutMs} ms`
        : describe(
            err instanceof Error && err.cause instanceof Error && err.message === 'fetch failed'
              ? err.cause
              : err,
          );
    return done({ error: message });
  }
}

/** Prometheus' synthetic per-scrape series, added to every scrape (failed or not). */
export function syntheticFamilies(outcome: ScrapeOutcome): ParsedFamily[] {
  const up = outcome.families === undefined ? 0 : 1;
  let scraped = 0;
  for (const f of outcome.families ?? []) scraped += f.samples.length;
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
