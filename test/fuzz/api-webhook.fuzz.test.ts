import fc from 'fast-check';
import { occurrencesOf, parseWebhookBody } from '../../src/alerts/payload';
import {
  MAX_MATCHERS,
  MAX_POINTS,
  MAX_RANGE_SECONDS,
  MAX_TEXT_LENGTH,
  parseSeriesParams,
  parseTime,
} from '../../src/api/params';
import {
  corpus,
  fuzzParams,
  fuzzTimeout,
  mutatedBytes,
  nastyString,
  SYNC_HANG_MS,
  withinMs,
} from '../helpers/fuzz';
import { apiQuery, storable, webhookPayload } from './generators';

/**
 * Property-based fuzzing of the pure parts of the sink's JSON API and Alertmanager webhook: the query
 * string of `GET /api/v1/series` (src/api/params.ts) and the body of `POST /api/v1/alertmanager`
 * (src/alerts/payload.ts). Neither may throw, whatever comes in: a parsed request, or the problem to answer
 * 400 with. The endpoints themselves, over HTTP, are fuzzed in sink-endpoints.fuzz.test.ts.
 */

const NOW = 1_700_000_000;

/**
 * Equal label sets, but for a label named `__proto__`, which zod's record drops (a label name
 * Alertmanager never sends: names starting with `__` are reserved in Prometheus).
 */
function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const entries = (r: Readonly<Record<string, string>>): string =>
    JSON.stringify(
      Object.entries(r)
        .filter(([k]) => k !== '__proto__')
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
    );
  return entries(a) === entries(b);
}

describe('GET /api/v1/series parameters (fuzz)', () => {
  it(
    'any query string parses to a bounded query or names the bad parameter',
    () => {
      const queries = fc.oneof(apiQuery, fc.string({ unit: 'binary', maxLength: 200 }));
      fc.assert(
        fc.property(queries, (qs) => {
          const params = new URLSearchParams(qs);
          const r = withinMs(SYNC_HANG_MS, () => parseSeriesParams(params, NOW));
          if (!r.ok) {
            expect(typeof r.error.parameter).toBe('string');
            expect(r.error.message).not.toBe('');
            return;
          }
          const q = r.value;
          expect(q.metric).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
          expect(q.metric.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
          expect(Object.keys(q.match).length).toBeLessThanOrEqual(MAX_MATCHERS);
          for (const [k, v] of Object.entries(q.match)) {
            expect(k).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
            expect(v.length).toBeGreaterThan(0);
            expect(v.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
          }
          expect(Number.isFinite(q.from) && Number.isFinite(q.to)).toBe(true);
          expect(q.from).toBeGreaterThanOrEqual(0);
          expect(q.from).toBeLessThan(q.to);
          expect(q.to - q.from).toBeLessThanOrEqual(MAX_RANGE_SECONDS);
          // Times PostgreSQL's timestamp type can hold (to_timestamp fails past year 294276).
          expect(q.to).toBeLessThan(253_402_300_800);
          expect(Number.isInteger(q.points) && q.points >= 1 && q.points <= MAX_POINTS).toBe(true);
          expect(Number.isInteger(q.step) && q.step >= 1).toBe(true);
          // Never more buckets than asked for points (and one for a partial bucket).
          expect(Math.ceil((q.to - q.from) / q.step)).toBeLessThanOrEqual(q.points + 1);
          expect(['raw', 'hourly']).toContain(q.source);
        }),
        fuzzParams(3000, { examples: corpus('api-series').map((e): [string] => [e.bytes.toString('utf8')]) }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'parseTime: a finite number or undefined, for any text',
    () => {
      fc.assert(
        fc.property(fc.oneof(nastyString(4), fc.stringMatching(/^-?\d{1,400}(\.\d{0,20})?$/)), (text) => {
          const t = withinMs(SYNC_HANG_MS, () => parseTime(text));
          if (t !== undefined) expect(Number.isFinite(t)).toBe(true);
        }),
        fuzzParams(2000),
      );
    },
    fuzzTimeout(60_000),
  );
});

describe('POST /api/v1/alertmanager body (fuzz)', () => {
  const CORPUS = corpus('webhook');

  it(
    'any body parses to a payload or to a list of problems; never throws',
    () => {
      const bodies = fc.oneof(
        fc.uint8Array({ maxLength: 1024 }),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
        webhookPayload.map((p) => Buffer.from(JSON.stringify(p))),
        mutatedBytes(webhookPayload.map((p) => Buffer.from(JSON.stringify(p)))),
      );
      fc.assert(
        fc.property(bodies, (body) => {
          const r = withinMs(SYNC_HANG_MS, () => parseWebhookBody(Buffer.from(body)));
          if (r.ok) withinMs(SYNC_HANG_MS, () => occurrencesOf(r.payload));
          else expect(r.problems.length).toBeGreaterThan(0);
        }),
        fuzzParams(2000, { examples: CORPUS.map((e): [Uint8Array] => [e.bytes]) }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'a valid notification parses and keeps every label and annotation, unless PostgreSQL cannot store it',
    () => {
      fc.assert(
        fc.property(webhookPayload, (payload) => {
          const r = parseWebhookBody(Buffer.from(JSON.stringify(payload)));
          if (!storable(payload)) {
            expect(r.ok).toBe(false);
            return;
          }
          if (!r.ok) throw new Error(r.problems.join('\n'));
          const occurrences = occurrencesOf(r.payload);
          expect(occurrences.length).toBeLessThanOrEqual(payload.alerts.length);
          for (const o of occurrences) {
            const sent = payload.alerts.filter((a) => a.fingerprint === o.fingerprint);
            expect(sent.some((a) => sameLabels(a.labels, o.labels))).toBe(true);
          }
        }),
        fuzzParams(1000),
      );
    },
    fuzzTimeout(60_000),
  );
});
