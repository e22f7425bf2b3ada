import fc from 'fast-check';
import { nastyString } from '../helpers/fuzz';

/** Generators shared by the fuzz tests of the sink's API and webhook (pure and over HTTP). */

const TIMES = [
  '0',
  '-1',
  '-0',
  '1700000000',
  '1700000000.5',
  '1699996400',
  '99999999999999999999',
  '1e9',
  'now',
  '253402300799',
  '253402300800',
  '9223372036854775807',
  '2023-11-14T22:13:20Z',
  '2023-11-14T22:13:20.123456789+14:00',
  '2024-02-30T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '',
];

const KEYS = [
  'metric',
  'from',
  'to',
  'points',
  'source',
  'match[job]',
  'match[instance]',
  'match[__name__]',
  'match[]',
  'match[a-b]',
  'match[' + 'x'.repeat(5000) + ']',
  'match',
  'step',
  'Metric',
];

const VALUES = [
  'up',
  'node_load1',
  'hostscope_sink_samples_written_total',
  'a:b:c',
  '1up',
  'raw',
  'hourly',
  'auto',
  '1',
  '5000',
  '5001',
  '0',
  '999999999',
  '1e3',
  'x'.repeat(5000),
  ...TIMES,
];

/** Percent-encoding, sometimes broken on purpose (a lone `%`, `%zz`, overlong UTF-8). */
const encoded = (s: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: s.map((v) => encodeURIComponent(Buffer.from(v, 'utf8').toString('utf8'))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%zz', '%C0%80', '%FF%FE', '%00', '%2', '+', '&', '=', '#'),
    },
  );

/** A query string (without `?`) for `GET /api/v1/series`: mostly plausible, sometimes broken. */
export const apiQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      encoded(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...KEYS) },
          { weight: 1, arbitrary: nastyString(2) },
        ),
      ),
      encoded(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
          { weight: 1, arbitrary: nastyString(3) },
        ),
      ),
      fc.boolean(),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => pairs.map(([k, v, bare]) => (bare && v === '' ? k : `${k}=${v}`)).join('&'));

const labelSet = fc.dictionary(
  fc.oneof(fc.constantFrom('alertname', 'instance', 'job', 'severity'), nastyString(3)),
  nastyString(4),
  { maxKeys: 5 },
);

/** An RFC 3339 time within years 0001..9999, or Go's zero time. */
const time = fc.oneof(
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constant('0001-01-01T00:00:00Z'),
  fc.constant('2024-05-01T12:00:00.123456789+02:00'),
);

const status = fc.constantFrom('firing' as const, 'resolved' as const);

export interface PostedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint: string;
}

export interface PostedNotification {
  version: '4';
  groupKey: string;
  truncatedAlerts?: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels?: Record<string, string>;
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  externalURL?: string;
  alerts: PostedAlert[];
}

/** A valid Alertmanager webhook notification (version 4) with arbitrary strings everywhere. */
export const webhookPayload: fc.Arbitrary<PostedNotification> = fc.record(
  {
    version: fc.constant('4' as const),
    groupKey: nastyString(4),
    truncatedAlerts: fc.nat(1000),
    status,
    receiver: nastyString(3),
    groupLabels: labelSet,
    commonLabels: labelSet,
    commonAnnotations: labelSet,
    externalURL: nastyString(3),
    alerts: fc.array(
      fc.record(
        {
          status,
          labels: labelSet,
          annotations: labelSet,
          startsAt: time,
          endsAt: time,
          generatorURL: nastyString(3),
          fingerprint: fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }),
        },
        { requiredKeys: ['status', 'labels', 'annotations', 'startsAt', 'fingerprint'] },
      ),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: ['version', 'groupKey', 'status', 'receiver', 'alerts'] },
);

/**
 * False when a string of the notification (key or value) holds a NUL or an unpaired surrogate, which
 * PostgreSQL's jsonb cannot store: the sink refuses such a notification with 400.
 */
export function storable(json: unknown): boolean {
  const ok = (s: string): boolean => !s.includes('\u0000') && Buffer.from(s, 'utf8').toString('utf8') === s;
  if (typeof json === 'string') return ok(json);
  if (typeof json !== 'object' || json === null) return true;
  return Object.entries(json).every(([k, v]) => ok(k) && storable(v));
}
