import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import {
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  encodeWriteRequest,
  type LabelMatcher,
  type MetricMetadata,
} from '../../../src/remote/prompb';
import { ProtoReader, ProtoWriter } from '../../../src/remote/protobuf';
import { snappyDecode, snappyEncode } from '../../../src/remote/snappy';
import { decodeXorChunk } from '../../../src/remote/xor-chunk';
import { eventually, query, runCli } from '../sink/harness';
import { metricValue, remoteSink, type RemoteSink } from './helpers';

const HOUR = 3_600_000;

type Series = { labels: [string, string][]; timestamps: number[]; values: number[] };

function series(name: string, labels: Record<string, string>, points: [number, number][]): Series {
  return {
    labels: [['__name__', name], ...Object.entries(labels)],
    timestamps: points.map((p) => p[0]),
    values: points.map((p) => p[1]),
  };
}

async function write(
  port: number,
  timeseries: Series[],
  metadata: MetricMetadata[] = [],
): Promise<{ status: number; text: string }> {
  return post(port, '/api/v1/write', snappyEncode(encodeWriteRequest({ timeseries, metadata })));
}

async function post(
  port: number,
  path: string,
  body: Buffer,
  headers: Record<string, string> = { 'Content-Encoding': 'snappy' },
): Promise<{ status: number; text: string; body: Buffer; type: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      ...headers,
    },
    body,
  });
  const buf = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    text: buf.toString('utf8'),
    body: buf,
    type: res.headers.get('content-type') ?? '',
  };
}

async function read(
  port: number,
  startMs: number,
  endMs: number,
  matchers: LabelMatcher[],
): Promise<Record<string, [number, number][]>> {
  const res = await post(
    port,
    '/api/v1/read',
    snappyEncode(
      encodeReadRequest({ queries: [{ startMs, endMs, matchers }], acceptedResponseTypes: ['samples'] }),
    ),
  );
  if (res.status !== 200) throw new Error(`read: ${res.status} ${res.text}`);
  const out: Record<string, [number, number][]> = {};
  for (const s of decodeReadResponse(snappyDecode(res.body))[0] ?? [])
    out[JSON.stringify(s.labels)] = s.timestamps.map((t, i) => [t, s.values[i] as number]);
  return out;
}

/** The same query as STREAMED_XOR_CHUNKS, decoded back to samples. */
async function readStreamed(
  port: number,
  startMs: number,
  endMs: number,
  matchers: LabelMatcher[],
): Promise<Record<string, [number, number][]>> {
  const res = await post(
    port,
    '/api/v1/read',
    snappyEncode(
      encodeReadRequest({
        queries: [{ startMs, endMs, matchers }],
        acceptedResponseTypes: ['streamed_xor_chunks'],
      }),
    ),
  );
  if (res.status !== 200) throw new Error(`read: ${res.status} ${res.text}`);
  expect(res.type).toBe('application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse');
  const out: Record<string, [number, number][]> = {};
  let pos = 0;
  while (pos < res.body.length) {
    const r = new ProtoReader(res.body, pos);
    const len = r.varint();
    const msg = res.body.subarray(r.pos + 4, r.pos + 4 + len);
    pos = r.pos + 4 + len;
    for (const s of decodeChunkedReadResponse(msg).series) {
      const pts: [number, number][] = [];
      for (const c of s.chunks) {
        const d = decodeXorChunk(c.data);
        d.timestamps.forEach((t, i) => pts.push([t, d.values[i] as number]));
      }
      out[JSON.stringify(s.labels)] = pts;
    }
  }
  return out;
}

const count = async (url: string, sql: string, params: unknown[] = []): Promise<number> =>
  Number((await query<{ n: string }>(url, sql, params))[0]?.n ?? NaN);

describeWithService('PostgreSQL', hasPostgres, 'remote write receiver and remote read (sink process)', () => {
  let pg: PgServer;
  let sink: RemoteSink;
  const now = Date.now();
  const rawCount = (): Promise<number> => count(pg.url, 'SELECT count(*) AS n FROM hostscope.samples');

  beforeAll(async () => {
    pg = await startPostgres();
    sink = remoteSink(await freePort(), pg.url, [
      '--remote-write.max-body-bytes=4096',
      '--remote-read.max-samples=1000',
      '--retention.raw=2d',
    ]);
    await sink.start();
  }, 120_000);

  afterAll(async () => {
    await sink?.stop();
    sink?.cleanup();
    await pg?.destroy();
  });

  it('answers 400 to malformed bodies, stores nothing, and says why', async () => {
    const good = encodeWriteRequest({ timeseries: [series('bad_metric', {}, [[now, 1]])] });
    const cases: [string, Buffer, RegExp][] = [
      ['not snappy', Buffer.from('\xff\xff\xff\xff\xff\xff'), /malformed remote write body/],
      ['snappy of garbage protobuf', snappyEncode(Buffer.from([0x0a, 0x05, 0x0a, 0x03])), /malformed/],
      ['truncated snappy', snappyEncode(good).subarray(0, 10), /malformed/],
      [
        'a series without a metric name',
        snappyEncode(
          encodeWriteRequest({ timeseries: [{ labels: [['a', 'b']], timestamps: [now], values: [1] }] }),
        ),
        /without a metric name/,
      ],
      [
        'an invalid label name',
        snappyEncode(
          encodeWriteRequest({
            timeseries: [
              {
                labels: [
                  ['__name__', 'x'],
                  ['a-b', 'c'],
                ],
                timestamps: [now],
                values: [1],
              },
            ],
          }),
        ),
        /invalid label name/,
      ],
    ];
    for (const [what, body, message] of cases) {
      const res = await post(sink.port, '/api/v1/write', body);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect(res.text).toMatch(message);
    }
    const plain = await post(sink.port, '/api/v1/write', good, { 'Content-Encoding': 'identity' });
    expect(plain.status).toBe(415);
    await sink.proc.waitFor(/remote write request rejected/);
    // No request here reached the database: the schema comes from the migrations the sink starts with,
    // which a loaded machine may not have finished yet.
    await eventually(
      async () =>
        (await count(
          pg.url,
          "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'hostscope' AND tablename = 'metrics'",
        )) === 1,
      'the schema',
    );
    expect(
      await count(pg.url, 'SELECT count(*) AS n FROM hostscope.metrics WHERE name = $1', ['bad_metric']),
    ).toBe(0);
    const m = await (await fetch(`http://127.0.0.1:${sink.port}/metrics`)).text();
    expect(metricValue(m, 'hostscope_sink_remote_write_requests_total', 'code="400"')).toBe(cases.length);
  });

  it('answers 413 over --remote-write.max-body-bytes and stores nothing', async () => {
    const big = Array.from({ length: 400 }, (_, i) =>
      series('big_metric', { i: String(i), pad: `${i}`.repeat(20) }, [[now, Math.random()]]),
    );
    const body = snappyEncode(encodeWriteRequest({ timeseries: big }));
    expect(body.length).toBeGreaterThan(4096);
    const res = await post(sink.port, '/api/v1/write', body);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/--remote-write.max-body-bytes/);
    expect(await count(pg.url, "SELECT count(*) AS n FROM hostscope.metrics WHERE name = 'big_metric'")).toBe(
      0,
    );
  });

  it('stores a retried request once (idempotent), with job and instance from the labels', async () => {
    const batch = [
      series('retry_total', { job: 'j', instance: 'h:1', mode: 'a' }, [
        [now - 2000, 1],
        [now - 1000, 2],
      ]),
      series('retry_total', { job: 'j', instance: 'h:2', mode: 'a' }, [[now - 1000, 5]]),
    ];
    expect((await write(sink.port, batch)).status).toBe(204);
    expect((await write(sink.port, batch)).status).toBe(204);
    // A retry that overlaps partly: the old samples are kept once, the new one is added.
    const overlap = [
      series('retry_total', { job: 'j', instance: 'h:1', mode: 'a' }, [
        [now - 1000, 2],
        [now, 3],
      ]),
    ];
    expect((await write(sink.port, overlap)).status).toBe(204);
    const rows = await query<{ labels: Record<string, string>; v: number[] }>(
      pg.url,
      `SELECT labels, array_agg(value ORDER BY time) AS v FROM hostscope.samples WHERE metric = 'retry_total'
        GROUP BY labels ORDER BY labels->>'instance'`,
    );
    expect(rows).toEqual([
      { labels: { instance: 'h:1', job: 'j', mode: 'a' }, v: [1, 2, 3] },
      { labels: { instance: 'h:2', job: 'j', mode: 'a' }, v: [5] },
    ]);
  });

  it('stores a scrape cut into requests as block rows once, also when it is sent again cut elsewhere', async () => {
    // 300 series at one time: more than two block rows' worth. Prometheus cuts a scrape into requests by
    // count, so a block row gets its samples from two requests; after a restart it replays its WAL in
    // batches cut elsewhere. Neither may store a sample twice or lose one.
    const t = now - 10_000;
    const all = Array.from({ length: 300 }, (_, i) =>
      series('cut_gauge', { job: 'cut', instance: 'h:1', n: String(i).padStart(3, '0') }, [[t, i]]),
    );
    // New series are created request by request: create them first, so the second round's cuts split
    // block rows as they do in steady state.
    expect(
      (
        await write(
          sink.port,
          all.map((x) => ({ ...x, timestamps: [t - 1000] })),
        )
      ).status,
    ).toBe(204);
    const statuses = await Promise.all([
      write(sink.port, all.slice(0, 150)),
      write(sink.port, all.slice(150, 250)),
      write(sink.port, all.slice(250)),
    ]);
    expect(statuses.map((r) => r.status)).toEqual([204, 204, 204]);
    // The replay: other cuts, other values (the stored ones win, as for a retry).
    const replay = all.map((x) => ({ ...x, values: [-1] }));
    for (const part of [replay.slice(0, 70), replay.slice(70, 200), replay.slice(200)])
      expect((await write(sink.port, part)).status).toBe(204);
    const rows = await query<{ n: number; v: number[]; d: number }>(
      pg.url,
      `SELECT count(*)::int AS n, array_agg(value ORDER BY labels->>'n') AS v,
              count(DISTINCT labels->>'n')::int AS d
         FROM hostscope.samples WHERE metric = 'cut_gauge' AND time = $1`,
      [new Date(t).toISOString()],
    );
    expect(rows).toEqual([{ n: 300, v: all.map((_, i) => i), d: 300 }]);
    // Stored as block rows, one per block of 128 series and time whatever the cuts (300 series span 3 or
    // 4 blocks), not as one row per sample.
    const blockRows = await count(
      pg.url,
      `SELECT count(*) AS n FROM hostscope.samples_blocks b
          WHERE b.time = $1 AND b.block IN (SELECT s.id / 128 FROM hostscope.series s
                                              JOIN hostscope.metrics m ON m.id = s.metric_id
                                             WHERE m.name = 'cut_gauge')`,
      [new Date(t).toISOString()],
    );
    expect(blockRows).toBeGreaterThanOrEqual(3);
    expect(blockRows).toBeLessThanOrEqual(4);
  });

  it('accepts out-of-order samples within the raw retention and skips older ones', async () => {
    const key = { job: 'ooo' };
    expect((await write(sink.port, [series('ooo_gauge', key, [[now, 10]])])).status).toBe(204);
    expect(
      (
        await write(sink.port, [
          series('ooo_gauge', key, [
            [now - 30 * 60_000, 7],
            [now - 5 * HOUR, 6],
            [now - 3 * 86_400_000, 1],
          ]),
        ])
      ).status,
    ).toBe(204);
    const v = await query<{ v: number[] }>(
      pg.url,
      "SELECT array_agg(value ORDER BY time) AS v FROM hostscope.samples WHERE metric = 'ooo_gauge'",
    );
    expect(v[0]?.v).toEqual([6, 7, 10]);
    const m = await (await fetch(`http://127.0.0.1:${sink.port}/metrics`)).text();
    expect(metricValue(m, 'hostscope_sink_remote_write_samples_skipped_total')).toBeGreaterThanOrEqual(1);
  });

  it('sets the counter flag from metadata so that hourly increase works', async () => {
    const base = Math.floor(now / HOUR) * HOUR - 2 * HOUR;
    const pts: [number, number][] = Array.from({ length: 12 }, (_, i) => [base + i * 5 * 60_000, i * 10]);
    // Samples first (no _total suffix: nothing says counter yet), then the metadata, as Prometheus sends.
    expect((await write(sink.port, [series('jobs_done', { job: 'meta' }, pts)])).status).toBe(204);
    expect(
      (await write(sink.port, [], [{ type: 'counter', family: 'jobs_done', help: 'Jobs done.', unit: '' }]))
        .status,
    ).toBe(204);
    const meta = await query<{ type: string; is_counter: boolean; help: string }>(
      pg.url,
      "SELECT type, is_counter, help FROM hostscope.metrics WHERE name = 'jobs_done'",
    );
    expect(meta).toEqual([{ type: 'counter', is_counter: true, help: 'Jobs done.' }]);
    const maintain = runCli(['maintain', `--database.url=${pg.url}`, '--retention.raw=2d']);
    expect(await maintain.exited).toBe(0);
    const hourly = await query<{ increase: number }>(
      pg.url,
      "SELECT increase FROM hostscope.samples_hourly WHERE metric = 'jobs_done' AND time = $1",
      [new Date(base).toISOString()],
    );
    expect(hourly).toEqual([{ increase: 110 }]);
  });

  it('reads head and compacted samples back, merging a late retry into a compacted hour', async () => {
    const base = Math.floor(now / HOUR) * HOUR - 3 * HOUR;
    const old: [number, number][] = Array.from({ length: 60 }, (_, i) => [base + i * 60_000, i]);
    const recent: [number, number][] = [[now - 1000, 100]];
    const labels = { job: 'compact', instance: 'c:1' };
    expect((await write(sink.port, [series('compact_gauge', labels, [...old, ...recent])])).status).toBe(204);
    const maintain = runCli(['maintain', `--database.url=${pg.url}`, '--retention.raw=2d']);
    expect(await maintain.exited).toBe(0);
    const inChunks = (): Promise<number> =>
      count(
        pg.url,
        `SELECT coalesce(sum(c.count), 0) AS n FROM hostscope.chunks c JOIN hostscope.series s ON s.id = c.series_id
          JOIN hostscope.metrics m ON m.id = s.metric_id WHERE m.name = 'compact_gauge'`,
      );
    expect(await inChunks()).toBe(60);
    // A retry of compacted samples plus a late one into the same hour: in the head until compaction.
    const late: [number, number][] = [old[10] as [number, number], [base + 30_000, 0.5]];
    expect((await write(sink.port, [series('compact_gauge', labels, late)])).status).toBe(204);
    const matchers: LabelMatcher[] = [
      { type: '=', name: '__name__', value: 'compact_gauge' },
      { type: '=', name: 'job', value: 'compact' },
    ];
    const expected = [...old.slice(0, 1), [base + 30_000, 0.5], ...old.slice(1), ...recent];
    const key = JSON.stringify([
      ['__name__', 'compact_gauge'],
      ['instance', 'c:1'],
      ['job', 'compact'],
    ]);
    expect(await read(sink.port, base - HOUR, now, matchers)).toEqual({ [key]: expected });
    expect(await readStreamed(sink.port, base - HOUR, now, matchers)).toEqual({ [key]: expected });
    const again = runCli(['maintain', `--database.url=${pg.url}`, '--retention.raw=2d']);
    expect(await again.exited).toBe(0);
    expect(await inChunks()).toBe(61);
    expect(await read(sink.port, base - HOUR, now, matchers)).toEqual({ [key]: expected });
    // Bounds are inclusive on both ends.
    expect(await read(sink.port, base + 60_000, base + 120_000, matchers)).toEqual({
      [key]: [
        [base + 60_000, 1],
        [base + 120_000, 2],
      ],
    });
    expect(await rawCount()).toBeGreaterThan(0);
  });

  it('fails a read over --remote-read.max-samples with a clear 413, and a bad regex with 400', async () => {
    const pts: [number, number][] = Array.from({ length: 1200 }, (_, i) => [now - 1_300_000 + i * 1000, i]);
    expect((await write(sink.port, [series('many', {}, pts.slice(0, 200))])).status).toBe(204);
    for (let i = 200; i < pts.length; i += 200)
      expect((await write(sink.port, [series('many', {}, pts.slice(i, i + 200))])).status).toBe(204);
    const req = (matchers: LabelMatcher[]): Buffer =>
      snappyEncode(
        encodeReadRequest({
          queries: [{ startMs: now - HOUR, endMs: now, matchers }],
          acceptedResponseTypes: [],
        }),
      );
    const over = await post(sink.port, '/api/v1/read', req([{ type: '=', name: '__name__', value: 'many' }]));
    expect(over.status).toBe(413);
    expect(over.text).toMatch(/more than 1000 samples \(--remote-read.max-samples\)/);
    const bad = await post(
      sink.port,
      '/api/v1/read',
      req([{ type: '=~', name: '__name__', value: '(?=x)' }]),
    );
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/lookaround/);
  });

  it('keeps staleness markers: remote read returns their exact NaN bits', async () => {
    const staleLe = Buffer.from('020000000000f07f', 'hex');
    const label = new ProtoWriter().string(1, '__name__').string(2, 'stale_gauge');
    const sample = (t: number, value: Buffer | number): ProtoWriter => {
      const w = new ProtoWriter();
      if (typeof value === 'number') w.double(1, value);
      else w.fixed64Bytes(1, value);
      return w.varint(2, t);
    };
    const ts = new ProtoWriter()
      .message(1, label)
      .message(2, sample(now - 2000, 1))
      .message(2, sample(now - 1000, staleLe));
    const res = await post(
      sink.port,
      '/api/v1/write',
      snappyEncode(new ProtoWriter().message(1, ts).finish()),
    );
    expect(res.status).toBe(204);
    const matchers: LabelMatcher[] = [{ type: '=', name: '__name__', value: 'stale_gauge' }];
    const samples = await post(
      sink.port,
      '/api/v1/read',
      snappyEncode(
        encodeReadRequest({
          queries: [{ startMs: now - 5000, endMs: now, matchers }],
          acceptedResponseTypes: [],
        }),
      ),
    );
    expect(snappyDecode(samples.body).includes(staleLe)).toBe(true);
    const streamed = await post(
      sink.port,
      '/api/v1/read',
      snappyEncode(
        encodeReadRequest({
          queries: [{ startMs: now - 5000, endMs: now, matchers }],
          acceptedResponseTypes: ['streamed_xor_chunks'],
        }),
      ),
    );
    const r = new ProtoReader(streamed.body);
    const len = r.varint();
    const chunk = decodeChunkedReadResponse(streamed.body.subarray(r.pos + 4, r.pos + 4 + len)).series[0]
      ?.chunks[0];
    expect(decodeXorChunk(chunk?.data ?? Buffer.alloc(2)).stale).toEqual([false, true]);
  });

  it('answers 503 while the database is down (the sender retries), and 204 once it is back', async () => {
    await pg.stop();
    try {
      const res = await write(sink.port, [series('outage_gauge', {}, [[now, 1]])]);
      expect(res.status).toBe(503);
    } finally {
      await pg.start();
    }
    let status = 0;
    for (let i = 0; i < 60 && status !== 204; i++) {
      status = (await write(sink.port, [series('outage_gauge', {}, [[now, 1]])])).status;
      if (status !== 204) await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(204);
    expect(
      await count(pg.url, "SELECT count(*) AS n FROM hostscope.samples WHERE metric = 'outage_gauge'"),
    ).toBe(1);
  });
});
