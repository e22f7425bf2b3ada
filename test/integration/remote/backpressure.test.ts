import { Client } from 'pg';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { encodeWriteRequest } from '../../../src/remote/prompb';
import { snappyEncode } from '../../../src/remote/snappy';
import { query } from '../sink/harness';
import { postWrite, remoteSink, untilLockWaits } from './helpers';

jest.setTimeout(60_000);

const SERIES = 600;

/** One sample at `t` for each of SERIES series. */
const request = (t: number): Buffer =>
  snappyEncode(
    encodeWriteRequest({
      timeseries: Array.from({ length: SERIES }, (_, i) => ({
        labels: [
          ['__name__', 'pressure_probe'],
          ['job', 'test'],
          ['n', String(i)],
        ] as [string, string][],
        timestamps: [t],
        values: [i],
      })),
    }),
  );

describeWithService('PostgreSQL', hasPostgres, 'remote write back-pressure', () => {
  let pg: PgServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg.destroy();
  });

  it('answers 503 past --remote-write.max-pending-samples before decoding the body, and keeps nothing half', async () => {
    const sink = remoteSink(await freePort(), pg.url, ['--remote-write.max-pending-samples=1000']);
    await sink.start();
    const blocker = new Client({ connectionString: pg.url });
    try {
      const t0 = Date.now() - 60_000;
      expect(await postWrite(sink.port, request(t0))).toBe(204);
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE hostscope.samples_blocks IN ACCESS EXCLUSIVE MODE');
      // 600 samples wait for the lock; 600 more would pass the bound of 1,000.
      const waiting = postWrite(sink.port, request(t0 + 1000));
      await untilLockWaits(pg.url);
      expect(await postWrite(sink.port, request(t0 + 2000))).toBe(503);
      // Refused before it is decoded: a body that is not even snappy gets 503 (retry later), not 400.
      const garbage = Buffer.from('\xff\xff\xff\xff\xff\xff');
      expect(await postWrite(sink.port, garbage)).toBe(503);
      await blocker.query('COMMIT');
      expect(await waiting).toBe(204);
      expect(await postWrite(sink.port, garbage)).toBe(400);
      // The refused request, retried, is stored in full.
      expect(await postWrite(sink.port, request(t0 + 2000))).toBe(204);
      const rows = await query<{ t: number; n: number }>(
        pg.url,
        `SELECT (extract(epoch FROM time) * 1000)::float8 - $1 AS t, count(*)::int AS n
           FROM hostscope.samples WHERE metric = 'pressure_probe' GROUP BY 1 ORDER BY 1`,
        [t0],
      );
      expect(rows).toEqual([
        { t: 0, n: SERIES },
        { t: 1000, n: SERIES },
        { t: 2000, n: SERIES },
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${sink.port}/metrics`)).text();
      expect(metrics).toMatch(/^hostscope_sink_remote_write_requests_total\{code="503"\} 2$/m);
    } finally {
      await blocker.end().catch(() => undefined);
      await sink.stop();
      sink.cleanup();
    }
  });
});
