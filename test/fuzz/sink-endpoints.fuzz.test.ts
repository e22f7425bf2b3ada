import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import { encodeReadRequest, encodeWriteRequest, type Label } from '../../src/remote/prompb';
import { snappyEncode } from '../../src/remote/snappy';
import { corpus, fuzzParams, fuzzTimeout, mutatedBytes, nastyString } from '../helpers/fuzz';
import { hasPostgres, startPostgres, type PgServer } from '../helpers/postgres';
import { rawRequest, type RawOutcome, type RawRequest } from '../helpers/raw-http';
import { describeWithService } from '../helpers/services';
import { runCli, type CliProcess } from '../integration/sink/harness';
import { apiQuery, storable, webhookPayload } from './generators';

/**
 * Hostile input against the real sink process (`hostscope sink` with remote write, remote read, the
 * Alertmanager webhook and the JSON API on, writing to a real PostgreSQL): random, corrupt, truncated
 * and oversized bodies and query strings, over HTTP. Properties, per request:
 *   - an answer within the per-request bound (fast-check's timeout plugin), never a dropped connection;
 *   - a 2xx only for what is valid, a 4xx for the rest; never a 5xx (the database is up throughout);
 * and at the end: the process still serves /health, logged no error, and its peak resident memory
 * stayed bounded (remote write bodies are capped at 64 KiB here, so decompression is capped at 512 KiB).
 */

const MAX_BODY = 64 * 1024;
const PER_REQUEST_MS = 20_000;
const NOW = Date.now();

let pg: PgServer;
let sink: CliProcess;
let port: number;

/** Sends only the headers of a POST declaring `length` bytes, and returns the status line of the answer. */
function headOnly(path: string, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      ),
    );
    let got = '';
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n')) {
        socket.destroy();
        resolve(got.slice(0, got.indexOf('\r\n')));
      }
    });
    socket.once('error', reject);
    socket.setTimeout(PER_REQUEST_MS, () => reject(new Error(`no answer to ${path}`)));
  });
}

async function send(r: Omit<RawRequest, 'port'>): Promise<RawOutcome> {
  return rawRequest({ ...r, port, timeoutMs: PER_REQUEST_MS });
}

function status(o: RawOutcome, what: string): number {
  if (o.kind === 'error') throw new Error(`${what}: no answer (${o.error})`);
  return o.status;
}

/** The highest resident set size of the sink process so far, in MiB (VmHWM). */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${sink.child.pid ?? 0}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

const label: fc.Arbitrary<Label> = fc.tuple(
  fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/) },
    { weight: 1, arbitrary: nastyString(2) },
  ),
  nastyString(4),
);
const series = fc
  .record({
    name: fc.oneof(fc.stringMatching(/^[a-z_:][a-z0-9_:]{0,20}$/), nastyString(2)),
    labels: fc.array(label, { maxLength: 4 }),
    samples: fc.array(fc.tuple(fc.integer({ min: NOW - 3_600_000, max: NOW }), fc.double()), {
      minLength: 1,
      maxLength: 4,
    }),
  })
  .map(({ name, labels, samples }) => ({
    labels: [['__name__', name] as Label, ...labels],
    timestamps: samples.map(([t]) => t),
    values: samples.map(([, v]) => v),
  }));
const writeRequest = fc
  .record({ timeseries: fc.array(series, { maxLength: 4 }) })
  .map((r) => encodeWriteRequest(r));

const SNAPPY_PROTOBUF = {
  'Content-Type': 'application/x-protobuf',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

describeWithService(
  'PostgreSQL',
  hasPostgres,
  'sink endpoints under hostile input (fuzz, real process)',
  () => {
    beforeAll(async () => {
      pg = await startPostgres();
      sink = runCli([
        'sink',
        '--scrape.target=',
        '--web.listen-address=127.0.0.1:0',
        '--web.enable-remote-write-receiver',
        '--web.enable-remote-read',
        '--web.enable-alertmanager-webhook',
        `--remote-write.max-body-bytes=${MAX_BODY}`,
        `--database.url=${pg.url}`,
        '--maintain.schedule=',
        '--log.level=info',
      ]);
      port = Number((await sink.waitFor(/"port":(\d+)[^\n]*"msg":"hostscope sink started"/))[1]);
      // Some data for the reads to find.
      const seed = snappyEncode(
        encodeWriteRequest({
          timeseries: [
            {
              labels: [
                ['__name__', 'up'],
                ['instance', 'a:9100'],
                ['job', 'node'],
              ],
              timestamps: [NOW - 60_000],
              values: [1],
            },
            {
              labels: [
                ['__name__', 'node_load1'],
                ['instance', 'a:9100'],
                ['job', 'node'],
              ],
              timestamps: [NOW - 60_000],
              values: [0.5],
            },
          ],
        }),
      );
      expect(
        status(
          await send({ method: 'POST', path: '/api/v1/write', headers: SNAPPY_PROTOBUF, body: seed }),
          'seed',
        ),
      ).toBe(204);
    }, 120_000);

    afterAll(async () => {
      if (sink !== undefined && sink.child.exitCode === null) {
        sink.child.kill('SIGTERM');
        await sink.exited;
      }
      await pg?.destroy();
    });

    afterEach(async () => {
      expect(status(await send({ method: 'GET', path: '/health' }), '/health')).toBe(200);
    });

    it(
      'POST /api/v1/write: 204 or a 4xx for any body, never a 5xx or a dropped connection',
      async () => {
        const bodies = fc.oneof(
          writeRequest.map((b) => snappyEncode(b)),
          mutatedBytes(writeRequest.map((b) => snappyEncode(b))),
          mutatedBytes(writeRequest).map((b) => snappyEncode(b)),
          fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
          // Larger than --remote-write.max-body-bytes, as sent or once decompressed.
          fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 3 }).map((n) => Buffer.alloc(n, 7)),
          fc.integer({ min: MAX_BODY * 8 + 1, max: MAX_BODY * 64 }).map((n) => snappyEncode(Buffer.alloc(n))),
        );
        const headers = fc.oneof(
          { weight: 6, arbitrary: fc.constant(SNAPPY_PROTOBUF) },
          {
            weight: 1,
            arbitrary: fc.record({
              'Content-Type': fc.constantFrom(
                'application/x-protobuf;proto=io.prometheus.write.v2.Request',
                'text/plain',
                '',
              ),
              'Content-Encoding': fc.constantFrom('snappy', 'gzip', 'identity', 'SNAPPY'),
            }),
          },
        );
        await fc.assert(
          fc.asyncProperty(bodies, headers, fc.boolean(), async (body, h, chunked) => {
            const code = status(
              await send({
                method: 'POST',
                path: '/api/v1/write',
                headers: h,
                body: Buffer.from(body),
                chunked,
              }),
              'write',
            );
            expect([204, 400, 413, 415]).toContain(code);
          }),
          fuzzParams(300, {
            plugins: [fc.timeout(PER_REQUEST_MS)],
            examples: corpus('remote-write').map((e): [Uint8Array, typeof SNAPPY_PROTOBUF, boolean] => [
              e.bytes,
              SNAPPY_PROTOBUF,
              false,
            ]),
          }),
        );
      },
      fuzzTimeout(240_000),
    );

    it(
      'POST /api/v1/read: 200 or a 4xx for any body, never a 5xx or a hang (catastrophic regexes included)',
      async () => {
        const matcher = fc.record({
          type: fc.constantFrom('=' as const, '!=' as const, '=~' as const, '!~' as const),
          name: fc.oneof(fc.constantFrom('__name__', 'job', 'instance'), nastyString(2)),
          value: fc.oneof(
            fc.constantFrom(
              'up',
              'node_.*',
              '.+',
              '(.*)*x',
              '(a|a)*b',
              '(?i)UP',
              '[[:alpha:]]+',
              '\\p{Greek}',
              '(',
            ),
            nastyString(3),
          ),
        });
        const request = fc.record({
          queries: fc.array(
            fc.record({
              startMs: fc.integer({ min: NOW - 86_400_000, max: NOW }),
              endMs: fc.integer({ min: NOW - 3_600_000, max: NOW + 60_000 }),
              matchers: fc.array(matcher, { minLength: 1, maxLength: 3 }),
            }),
            { minLength: 1, maxLength: 2 },
          ),
          acceptedResponseTypes: fc.subarray(['streamed_xor_chunks' as const, 'samples' as const]),
        });
        const bodies = fc.oneof(
          { weight: 3, arbitrary: request.map((r) => snappyEncode(encodeReadRequest(r))) },
          { weight: 1, arbitrary: mutatedBytes(request.map((r) => snappyEncode(encodeReadRequest(r)))) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
        );
        await fc.assert(
          fc.asyncProperty(bodies, async (body) => {
            const code = status(
              await send({
                method: 'POST',
                path: '/api/v1/read',
                headers: SNAPPY_PROTOBUF,
                body: Buffer.from(body),
              }),
              'read',
            );
            expect([200, 400, 413]).toContain(code);
          }),
          fuzzParams(200, {
            plugins: [fc.timeout(PER_REQUEST_MS)],
            examples: corpus('remote-read').map((e): [Uint8Array] => [e.bytes]),
          }),
        );
      },
      fuzzTimeout(240_000),
    );

    it(
      'POST /api/v1/alertmanager: 200 for a valid notification PostgreSQL can store, 400 for the rest, never a 5xx',
      async () => {
        const bodies = fc.oneof(
          {
            weight: 3,
            arbitrary: webhookPayload.map((p) => ({
              body: Buffer.from(JSON.stringify(p)),
              valid: storable(p),
            })),
          },
          {
            weight: 1,
            arbitrary: mutatedBytes(webhookPayload.map((p) => Buffer.from(JSON.stringify(p)))).map((b) => ({
              body: b,
              valid: false,
            })),
          },
          {
            weight: 1,
            arbitrary: fc
              .jsonValue()
              .map((v) => ({ body: Buffer.from(JSON.stringify(v) ?? ''), valid: false })),
          },
        );
        await fc.assert(
          fc.asyncProperty(bodies, async ({ body, valid }) => {
            const o = await send({
              method: 'POST',
              path: '/api/v1/alertmanager',
              headers: { 'Content-Type': 'application/json' },
              body,
            });
            const code = status(o, 'webhook');
            if (valid && code !== 200)
              throw new Error(
                `a valid notification got ${code}: ${o.kind === 'response' ? o.body.toString() : ''}`,
              );
            expect([200, 400]).toContain(code);
          }),
          fuzzParams(200, {
            plugins: [fc.timeout(PER_REQUEST_MS)],
            examples: corpus('webhook').map((e): [{ body: Buffer; valid: boolean }] => [
              { body: e.bytes, valid: false },
            ]),
          }),
        );
      },
      fuzzTimeout(240_000),
    );

    it(
      'GET /api/v1/series and /api/v1/overview: 200 or 400 for any query string, never a 5xx',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            apiQuery,
            fc.constantFrom('/api/v1/series', '/api/v1/overview'),
            async (qs, route) => {
              const o = await send({ method: 'GET', path: `${route}?${qs}` });
              const code = status(o, route);
              if (code >= 500)
                throw new Error(`${route}?${qs}: ${code} ${o.kind === 'response' ? o.body.toString() : ''}`);
              expect([200, 400]).toContain(code);
              if (o.kind === 'response') expect(() => JSON.parse(o.body.toString()) as unknown).not.toThrow();
            },
          ),
          fuzzParams(300, {
            plugins: [fc.timeout(PER_REQUEST_MS)],
            examples: corpus('api-series').map((e): [string, string] => [
              e.bytes.toString('utf8'),
              '/api/v1/series',
            ]),
          }),
        );
      },
      fuzzTimeout(240_000),
    );

    it('answers bodies over the limits with 413, before reading them whole', async () => {
      const big = Buffer.alloc(MAX_BODY * 4, 1);
      for (const chunked of [false, true])
        expect(
          status(
            await send({
              method: 'POST',
              path: '/api/v1/write',
              headers: SNAPPY_PROTOBUF,
              body: big,
              chunked,
            }),
            'write',
          ),
        ).toBe(413);
      // The webhook takes 16 MiB, remote read 8 MiB: a declared length over that is refused from the
      // headers, before any of the body is read.
      for (const path of ['/api/v1/alertmanager', '/api/v1/read'])
        expect(await headOnly(path, 17 * 1024 * 1024)).toMatch(/^HTTP\/1\.1 413 /);
      // Sent chunked, the body is read up to the limit, then refused: the connection closes after the
      // 413, which a client still sending may see as a reset instead. Either way the refusal is logged.
      const huge = Buffer.alloc(17 * 1024 * 1024, 0x20);
      for (const path of ['/api/v1/alertmanager', '/api/v1/read']) {
        const o = await send({ method: 'POST', path, headers: SNAPPY_PROTOBUF, body: huge, chunked: true });
        if (o.kind === 'response') expect(o.status).toBe(413);
        else expect(o.error).toMatch(/EPIPE|ECONNRESET/);
      }
      expect(sink.output()).toMatch(/alertmanager webhook: notification larger than the limit refused/);
      expect(sink.output()).toMatch(/request body larger than 8388608 bytes/);
    }, 60_000);

    it(
      'a client that goes away in the middle of a body is no error',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom('/api/v1/write', '/api/v1/read', '/api/v1/alertmanager'),
            fc.uint8Array({ maxLength: 4096 }),
            fc.integer({ min: 1, max: 100_000 }),
            fc.boolean(),
            async (route, part, missing, chunked) => {
              await new Promise<void>((resolve) => {
                const socket = connect(port, '127.0.0.1', () => {
                  const framing = chunked
                    ? 'Transfer-Encoding: chunked\r\n\r\n' + `${(part.length + missing).toString(16)}\r\n`
                    : `Content-Length: ${part.length + missing}\r\n\r\n`;
                  socket.write(
                    `POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n` +
                      `Content-Encoding: snappy\r\n${framing}`,
                  );
                  socket.write(part, () => setTimeout(() => socket.destroy(), 20));
                });
                socket.on('error', () => undefined);
                socket.once('close', () => resolve());
              });
            },
          ),
          fuzzParams(60, { plugins: [fc.timeout(PER_REQUEST_MS)] }),
        );
      },
      fuzzTimeout(120_000),
    );

    it('ends with no error logged and bounded memory', () => {
      const errors = sink
        .output()
        .split('\n')
        .filter((l) => /"level":"(error|fatal)"/.test(l));
      expect(errors).toEqual([]);
      // Rejections are logged (at most once a minute per reason) at warn level.
      expect(sink.output()).toMatch(/remote write request rejected/);
      expect(sink.output()).toMatch(/alertmanager webhook: malformed notification refused/);
      expect(peakRssMiB()).toBeLessThan(400);
    });
  },
);
