import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { PROMETHEUS } from '../../helpers/prometheus';
import { describeWithService, hasBinary } from '../../helpers/services';
import type { DaemonProcess } from '../../helpers/daemon';
import {
  decodeReadResponse,
  encodeReadRequest,
  encodeWriteRequest,
  type LabelMatcher,
  type MatcherType,
} from '../../../src/remote/prompb';
import { snappyDecode, snappyEncode } from '../../../src/remote/snappy';
import { prometheusWith, remoteSink, seriesKey, type RemoteSink } from './helpers';

const available = (): boolean => hasPostgres() && hasBinary(PROMETHEUS);

/** Values of label `a` on series `tm` (one series has no `a`, one has `b` too). */
const VALUES = [
  'x',
  'X',
  'xy',
  'x\ny',
  'foo.bar',
  'fooxbar',
  'é',
  '😀',
  'AbC',
  'a]b',
  '-',
  ' ',
  '\t',
  '\u00a0',
  '\r',
  '12',
  'x|y',
  'Σ',
  'σ',
];

/** Every case: [type, label, value]; each query also selects `__name__="tm"` unless it matches on the name. */
const CASES: [MatcherType, string, string][] = [
  ['=', 'a', 'x'],
  ['=', 'a', ''],
  ['!=', 'a', ''],
  ['!=', 'a', 'x'],
  ['=', 'b', '2'],
  ['!=', 'b', '2'],
  ['=~', 'a', 'x'],
  ['=~', 'a', ''],
  ['=~', 'a', '|x'],
  ['=~', 'a', 'x|'],
  ['=~', 'a', '.*'],
  ['=~', 'a', '.+'],
  ['=~', 'a', '.'],
  ['=~', 'a', 'x.y'],
  ['=~', 'a', 'x(?s:.)y'],
  ['=~', 'a', '(?s)x.y'],
  ['=~', 'a', '(?i:a)bC'],
  ['=~', 'a', 'A(?i)BC'],
  ['=~', 'a', '(?i:Σ)'],
  ['=~', 'a', '(?m)x$\\n^y'],
  ['=~', 'a', 'x$\\n^y'],
  ['=~', 'a', '(?s:x.y)|X'],
  ['!~', 'a', '.*'],
  ['!~', 'a', ''],
  ['!~', 'a', 'x|'],
  ['!~', 'a', '.+'],
  ['=~', 'a', '(?i)x'],
  ['=~', 'a', '(?i)abc'],
  ['=~', 'a', '(?i)σ'],
  ['=~', 'a', 'x*'],
  ['=~', 'a', 'x+y?'],
  ['=~', 'a', '[[:upper:]].*'],
  ['=~', 'a', '[[:alpha:]]+'],
  ['=~', 'a', '\\s'],
  ['=~', 'a', '\\S+'],
  ['=~', 'a', '\\w+'],
  ['=~', 'a', '\\W'],
  ['=~', 'a', '\\d+'],
  ['=~', 'a', '[\\d]+'],
  ['=~', 'a', 'foo\\.bar'],
  ['=~', 'a', 'foo.bar'],
  ['=~', 'a', 'a\\]b'],
  ['=~', 'a', 'a]b'],
  ['=~', 'a', '[^x]'],
  ['=~', 'a', '[]a]\\]b'],
  ['=~', 'a', '\\-'],
  ['=~', 'a', '[\\-]'],
  ['=~', 'a', '\\pL'],
  ['=~', 'a', '\\p{Greek}'],
  ['=~', 'a', '\\PL'],
  ['=~', 'a', '\\QAbC\\E'],
  ['=~', 'a', 'x\\|y'],
  ['=~', 'a', 'x{1}y{0,1}'],
  ['=~', 'a', '\\x41bC'],
  ['=~', 'a', '\\x{1F600}'],
  ['=~', 'a', '(x|X)'],
  ['=~', 'a', '(?P<n>x)y'],
  ['=~', 'a', '(?:a|b)\\]b'],
  ['=~', 'a', '^x$'],
  ['=~', 'a', '\\Ax\\z'],
  ['=~', 'a', '.{1}'],
  ['=~', 'a', 'x{'],
  ['=~', 'a', 'x\\b'],
  ['=~', 'a', '\\a|\\t'],
  ['=~', 'a', '[ \\t]'],
  ['!~', 'a', '(?i)x.*'],
  ['=~', '__name__', 't.'],
  ['=~', '__name__', 'tm|other'],
  ['!~', 'b', '1|2'],
  ['=~', 'b', '1|'],
  ['=~', 'a', '(?=x)'],
  ['=~', 'a', '(x)\\1'],
  ['=~', 'a', 'x**'],
  ['=~', 'a', 'x{1001}'],
  ['=~', 'a', '(x'],
  ['=~', 'a', '[[:foo:]]'],
  ['=~', 'a', '\\y'],
];

/**
 * The same series go to the real Prometheus (its remote-write receiver) and to the sink; every matcher
 * case must select the same series from both (Prometheus' /api/v1/series against the sink's remote
 * read), or be an error in both.
 */
describeWithService(
  'PostgreSQL and Prometheus',
  available,
  'remote read matchers against the real Prometheus',
  () => {
    let pg: PgServer;
    let sink: RemoteSink;
    let prom: DaemonProcess;
    const now = Date.now();

    beforeAll(async () => {
      pg = await startPostgres();
      sink = remoteSink(await freePort(), pg.url);
      await sink.start();
      prom = await prometheusWith('global:\n  scrape_interval: 1m\n', ['--web.enable-remote-write-receiver']);
      const timeseries = [
        ...VALUES.map((v) => ({
          labels: [
            ['__name__', 'tm'],
            ['a', v],
          ] as [string, string][],
          timestamps: [now],
          values: [1],
        })),
        { labels: [['__name__', 'tm']], timestamps: [now], values: [2] },
        {
          labels: [
            ['__name__', 'tm'],
            ['a', 'x'],
            ['b', '2'],
          ],
          timestamps: [now],
          values: [3],
        },
        {
          labels: [
            ['__name__', 'tm'],
            ['b', '1'],
          ],
          timestamps: [now],
          values: [4],
        },
        {
          labels: [
            ['__name__', 'other'],
            ['a', 'x'],
          ],
          timestamps: [now],
          values: [5],
        },
      ] as { labels: [string, string][]; timestamps: number[]; values: number[] }[];
      const body = snappyEncode(encodeWriteRequest({ timeseries }));
      for (const url of [`${prom.url}/api/v1/write`, `http://127.0.0.1:${sink.port}/api/v1/write`]) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' },
          body,
        });
        expect(res.status).toBe(204);
      }
    }, 120_000);

    afterAll(async () => {
      await prom?.stop();
      await sink?.stop();
      sink?.cleanup();
      await pg?.destroy();
    });

    const selector = (type: MatcherType, name: string, value: string): LabelMatcher[] =>
      name === '__name__'
        ? [
            { type, name, value },
            { type: '=~', name: 'a', value: 'x|' },
          ]
        : [
            { type: '=', name: '__name__', value: 'tm' },
            { type, name, value },
          ];

    const promql = (ms: LabelMatcher[]): string =>
      `{${ms.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(',')}}`;

    async function fromPrometheus(ms: LabelMatcher[]): Promise<string[] | 'error'> {
      const params = new URLSearchParams({
        'match[]': promql(ms),
        start: String((now - 60_000) / 1000),
        end: String((now + 60_000) / 1000),
      });
      const res = await fetch(`${prom.url}/api/v1/series?${params.toString()}`);
      const body = (await res.json()) as { status: string; data: Record<string, string>[] };
      if (body.status !== 'success') return 'error';
      return body.data.map((l) => seriesKey(l)).sort();
    }

    async function fromSink(ms: LabelMatcher[]): Promise<string[] | 'error'> {
      const res = await fetch(`http://127.0.0.1:${sink.port}/api/v1/read`, {
        method: 'POST',
        headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' },
        body: snappyEncode(
          encodeReadRequest({
            queries: [{ startMs: now - 60_000, endMs: now + 60_000, matchers: ms }],
            acceptedResponseTypes: ['samples'],
          }),
        ),
      });
      if (res.status === 400) return 'error';
      if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
      const series = decodeReadResponse(snappyDecode(Buffer.from(await res.arrayBuffer())))[0] ?? [];
      return series.map((s) => seriesKey(Object.fromEntries(s.labels))).sort();
    }

    it.each(CASES)('%s %s %j', async (type, name, value) => {
      const ms = selector(type, name, value);
      const expected = await fromPrometheus(ms);
      expect({ matchers: promql(ms), series: await fromSink(ms) }).toEqual({
        matchers: promql(ms),
        series: expected,
      });
    });
  },
);
