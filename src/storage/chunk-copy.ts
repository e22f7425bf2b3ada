import { createHash } from 'node:crypto';
import { BinaryCopyWriter, PG_EPOCH_MS } from '../db/binary-copy';
import type { CopyPart } from '../db/database';

const FLOAT8_OID = 701;
const TIMESTAMPTZ_OID = 1184;

/** A one-dimensional array without NULLs in PostgreSQL's binary format (what array_send returns). */
function arrayBytes(oid: number, n: number, put: (buf: Buffer, at: number, i: number) => void): Buffer {
  const buf = Buffer.allocUnsafe(20 + 12 * n);
  buf.writeInt32BE(1, 0); // dimensions
  buf.writeInt32BE(0, 4); // has nulls
  buf.writeInt32BE(oid, 8);
  buf.writeInt32BE(n, 12);
  buf.writeInt32BE(1, 16); // lower bound
  for (let i = 0, at = 20; i < n; i++, at += 12) {
    buf.writeInt32BE(8, at);
    put(buf, at + 4, i);
  }
  return buf;
}

export function float8ArrayBytes(values: ArrayLike<number>): Buffer {
  return arrayBytes(FLOAT8_OID, values.length, (b, at, i) => b.writeDoubleBE(values[i] as number, at));
}

export function timestamptzArrayBytes(ms: ArrayLike<number>): Buffer {
  return arrayBytes(TIMESTAMPTZ_OID, ms.length, (b, at, i) =>
    b.writeBigInt64BE(BigInt(Math.round(((ms[i] as number) - PG_EPOCH_MS) * 1000)), at),
  );
}

/** A time set's id: the first 64 bits of md5 of its binary form, as compaction computes it in SQL. */
export function timeSetId(timesBytes: Buffer): bigint {
  return createHash('md5').update(timesBytes).digest().readBigInt64BE(0);
}

export interface ChunkRow {
  readonly seriesId: number;
  readonly startMs: number;
  readonly stopMs: number;
  /** Sample times (ms), ascending, shared by every chunk of the block that has the same ones. */
  readonly times: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

/**
 * Finished chunks as COPY payloads for the compacted store (for writers that produce whole blocks, such
 * as `seed`; write them with `copyNewRows`), time sets deduplicated as compaction does. The blocks must be
 * new: existing chunks with the same (series, start) are left as they are.
 */
export function chunkCopyParts(rows: readonly ChunkRow[]): CopyPart[] {
  const sets = new Map<string, { start: number; id: bigint; bytes: Buffer }>();
  const chunks = new BinaryCopyWriter(1 << 20);
  const idOf = new Map<ArrayLike<number>, { bytes: Buffer; id: bigint }>();
  for (const r of rows) {
    let t = idOf.get(r.times);
    if (t === undefined) {
      const bytes = timestamptzArrayBytes(r.times);
      t = { bytes, id: timeSetId(bytes) };
      idOf.set(r.times, t);
    }
    sets.set(`${r.startMs}/${t.id}`, { start: r.startMs, id: t.id, bytes: t.bytes });
    chunks
      .row(6)
      .int8Safe(r.seriesId)
      .timestampMs(r.startMs)
      .timestampMs(r.stopMs)
      .int8(t.id)
      .int4(r.values.length)
      .raw(float8ArrayBytes(r.values));
  }
  const times = new BinaryCopyWriter(1 << 16);
  for (const set of sets.values()) times.row(3).timestampMs(set.start).int8(set.id).raw(set.bytes);
  return [
    { table: 'chunk_times', columns: ['start', 'id', 'times'], payload: times.finish() },
    {
      table: 'chunks',
      columns: ['series_id', 'start', 'stop', 'times_id', 'count', '"values"'],
      payload: chunks.finish(),
    },
  ];
}
