import { Client } from 'pg';
import { freePort } from '../../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { describeWithService } from '../../helpers/services';
import { encodeWriteRequest } from '../../../src/remote/prompb';
import { snappyEncode } from '../../../src/remote/snappy';
import { query } from '../sink/harness';
import { postWrite, remoteSink, untilLockWaits } from './helpers';

jest.setTimeout(60_000);

async function write(port: number, timestampMs: number, value: number): Promise<number> {
  const body = snappyEncode(
    encodeWriteRequest({
      timeseries: [
        {
          labels: [
            ['__name__', 'shutdown_probe'],
            ['job', 'test'],
          ],
          timestamps: [timestampMs],
          values: [value],
        },
      ],
      metadata: [],
    }),
  );
  return postWrite(port, body);
}

describeWithService('PostgreSQL', hasPostgres, 'remote write at shutdown', () => {
  let pg: PgServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg.destroy();
  });

  it('a write waiting for its commit when SIGTERM comes is committed and answered before the exit', async () => {
    const sink = remoteSink(await freePort(), pg.url);
    await sink.start();
    const blocker = new Client({ connectionString: pg.url });
    try {
      const t0 = Date.now() - 60_000;
      expect(await write(sink.port, t0, 1)).toBe(204);
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE hostscope.samples_blocks IN ACCESS EXCLUSIVE MODE');
      const pending = write(sink.port, t0 + 1000, 2);
      // The sink's COPY waits for the lock.
      await untilLockWaits(pg.url);
      sink.proc.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1000));
      await blocker.query('COMMIT');
      expect(await pending).toBe(204);
      expect(await sink.proc.exited).toBe(0);
      const errors = sink.proc
        .output()
        .split('\n')
        .filter((l) => l.includes('"level":50'));
      expect(errors).toEqual([]);
      const stored = await query<{ value: number }>(
        pg.url,
        `SELECT value FROM hostscope.samples WHERE metric = 'shutdown_probe' ORDER BY time`,
      );
      expect(stored.map((r) => r.value)).toEqual([1, 2]);
    } finally {
      await blocker.end().catch(() => undefined);
      await sink.stop();
      sink.cleanup();
    }
  });
});
