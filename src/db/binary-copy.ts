/**
 * Encoder for PostgreSQL's binary COPY format (`COPY t (cols) FROM STDIN (FORMAT binary)`): a signature
 * header, then per row a 16-bit field count and per field a 32-bit length (-1 for NULL) and the value in
 * the type's binary send format, then a -1 trailer. Only the types the sink writes are supported.
 */

export type CopyColumnType = 'int8' | 'int4' | 'float8' | 'timestamptz' | 'text' | 'jsonb' | 'bool';
export type CopyValue = number | bigint | string | boolean | null;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
export const PG_EPOCH_MS = 946_684_800_000;
/** Type OID of float8, the element type of block arrays. */
const FLOAT8_OID = 701;

/**
 * The first 26 bytes of a sample-shaped row at `p`: the field count, an int8 (a series or block id, a safe
 * integer) and a timestamptz given as its two 32-bit halves (see `splitTimestamp`).
 */
function rowHead(b: Buffer, p: number, fields: number, id: number, timeHigh: number, timeLow: number): void {
  b.writeInt16BE(fields, p);
  b.writeInt32BE(8, p + 2);
  const high = Math.floor(id / 4294967296);
  b.writeInt32BE(high, p + 6);
  b.writeUInt32BE(id - high * 4294967296, p + 10);
  b.writeInt32BE(8, p + 14);
  b.writeInt32BE(timeHigh, p + 18);
  b.writeUInt32BE(timeLow, p + 22);
}

/** Growable byte buffer with big-endian writers; one instance per COPY. */
export class BinaryCopyWriter {
  private buf: Buffer;
  private pos = 0;

  /**
   * `reuse`: a buffer to write into while it is big enough (a writer's payload from its previous COPY,
   * once that is done): on a VM the first touch of each page of a fresh buffer is a costly fault.
   */
  constructor(initialBytes = 1 << 16, reuse?: Buffer) {
    const bytes = Math.max(64, initialBytes);
    this.buf = reuse !== undefined && reuse.length >= bytes ? reuse : Buffer.allocUnsafe(bytes);
    this.ensure(SIGNATURE.length + 8);
    SIGNATURE.copy(this.buf, 0);
    this.pos = SIGNATURE.length;
    this.buf.writeInt32BE(0, this.pos); // flags
    this.buf.writeInt32BE(0, this.pos + 4); // header extension length
    this.pos += 8;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Starts a row of `fields` columns. */
  row(fields: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(fields, this.pos);
    this.pos += 2;
    return this;
  }

  null(): this {
    this.ensure(4);
    this.buf.writeInt32BE(-1, this.pos);
    this.pos += 4;
    return this;
  }

  int8(value: number | bigint): this {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeBigInt64BE(typeof value === 'bigint' ? value : BigInt(value), this.pos + 4);
    this.pos += 12;
    return this;
  }

  /** int8 from a safe integer without going through BigInt (hot path). */
  int8Safe(value: number): this {
    this.ensure(12);
    const b = this.buf;
    const p = this.pos;
    b.writeInt32BE(8, p);
    const high = Math.floor(value / 4294967296);
    const low = value - high * 4294967296;
    b.writeInt32BE(high, p + 4);
    b.writeUInt32BE(low, p + 8);
    this.pos = p + 12;
    return this;
  }

  /**
   * One (int8, timestamptz, float8) row, the shape of a sample, in a single bounds check: the hot path of
   * the sink. `timeHigh`/`timeLow` are the two 32-bit halves of the PostgreSQL timestamp (see
   * `splitTimestamp`), computed once per scrape rather than once per sample.
   */
  sampleRow(id: number, timeHigh: number, timeLow: number, value: number): void {
    this.ensure(38);
    const b = this.buf;
    const p = this.pos;
    rowHead(b, p, 3, id, timeHigh, timeLow);
    b.writeInt32BE(8, p + 26);
    b.writeDoubleBE(value, p + 30);
    this.pos = p + 38;
  }

  /**
   * One (int8, timestamptz, int4, float8[]) row, the shape of a block of samples: element i of the array
   * is `values[i]`, or NULL where `present[i]` is 0, for i < `length` (a one-dimensional array from 1).
   */
  blockRow(
    block: number,
    timeHigh: number,
    timeLow: number,
    source: number,
    values: Float64Array,
    present: Uint8Array,
    length: number,
  ): void {
    let nulls = 0;
    for (let i = 0; i < length; i++) if (present[i] === 0) nulls++;
    const arrayBytes = 20 + nulls * 4 + (length - nulls) * 12;
    this.ensure(38 + arrayBytes);
    const b = this.buf;
    let p = this.pos;
    rowHead(b, p, 4, block, timeHigh, timeLow);
    b.writeInt32BE(4, p + 26);
    b.writeInt32BE(source, p + 30);
    b.writeInt32BE(arrayBytes, p + 34);
    b.writeInt32BE(1, p + 38); // dimensions
    b.writeInt32BE(nulls > 0 ? 1 : 0, p + 42); // has nulls
    b.writeInt32BE(FLOAT8_OID, p + 46);
    b.writeInt32BE(length, p + 50);
    b.writeInt32BE(1, p + 54); // lower bound
    p += 58;
    for (let i = 0; i < length; i++) {
      if (present[i] === 0) {
        b.writeInt32BE(-1, p);
        p += 4;
      } else {
        b.writeInt32BE(8, p);
        b.writeDoubleBE(values[i] as number, p + 4);
        p += 12;
      }
    }
    this.pos = p;
  }

  int4(value: number): this {
    this.ensure(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(value, this.pos + 4);
    this.pos += 8;
    return this;
  }

  float8(value: number): this {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeDoubleBE(value, this.pos + 4);
    this.pos += 12;
    return this;
  }

  bool(value: boolean): this {
    this.ensure(5);
    this.buf.writeInt32BE(1, this.pos);
    this.buf.writeUInt8(value ? 1 : 0, this.pos + 4);
    this.pos += 5;
    return this;
  }

  /** timestamptz from milliseconds since the Unix epoch (microsecond precision on the wire). */
  timestampMs(ms: number): this {
    return this.int8Safe(Math.round((ms - PG_EPOCH_MS) * 1000));
  }

  text(value: string): this {
    const len = Buffer.byteLength(value, 'utf8');
    this.ensure(4 + len);
    this.buf.writeInt32BE(len, this.pos);
    this.buf.write(value, this.pos + 4, len, 'utf8');
    this.pos += 4 + len;
    return this;
  }

  /** jsonb: a version byte (1) followed by the JSON text. */
  jsonb(value: string): this {
    const len = Buffer.byteLength(value, 'utf8');
    this.ensure(5 + len);
    this.buf.writeInt32BE(len + 1, this.pos);
    this.buf.writeUInt8(1, this.pos + 4);
    this.buf.write(value, this.pos + 5, len, 'utf8');
    this.pos += 5 + len;
    return this;
  }

  /** A field already in the column type's binary send format (arrays, for one). */
  raw(bytes: Uint8Array): this {
    this.ensure(4 + bytes.length);
    this.buf.writeInt32BE(bytes.length, this.pos);
    this.buf.set(bytes, this.pos + 4);
    this.pos += 4 + bytes.length;
    return this;
  }

  value(type: CopyColumnType, value: CopyValue): this {
    if (value === null) return this.null();
    switch (type) {
      case 'int8':
        if (typeof value === 'number' && Number.isSafeInteger(value)) return this.int8Safe(value);
        return this.int8(typeof value === 'bigint' ? value : BigInt(value as number));
      case 'int4':
        return this.int4(Number(value));
      case 'float8':
        return this.float8(Number(value));
      case 'timestamptz':
        return this.timestampMs(Number(value));
      case 'bool':
        return this.bool(value === true);
      case 'jsonb':
        return this.jsonb(String(value));
      default:
        return this.text(String(value));
    }
  }

  get byteLength(): number {
    return this.pos;
  }

  /** Appends the trailer and returns the bytes; the writer must not be used afterwards. */
  finish(): Buffer {
    this.ensure(2);
    this.buf.writeInt16BE(-1, this.pos);
    this.pos += 2;
    return this.buf.subarray(0, this.pos);
  }

  /** The whole buffer written into (for the next writer to reuse once this payload is sent). */
  get storage(): Buffer {
    return this.buf;
  }
}

/** A timestamp (ms since the Unix epoch) as the high and low 32-bit halves of PostgreSQL's microseconds. */
export function splitTimestamp(ms: number): [number, number] {
  const us = Math.round((ms - PG_EPOCH_MS) * 1000);
  const high = Math.floor(us / 4294967296);
  return [high, us - high * 4294967296];
}

/** Encodes whole rows of the given column types. */
export function encodeBinaryCopy(
  types: readonly CopyColumnType[],
  rows: readonly (readonly CopyValue[])[],
): Buffer {
  const w = new BinaryCopyWriter();
  for (const row of rows) {
    w.row(types.length);
    for (let i = 0; i < types.length; i++) w.value(types[i] as CopyColumnType, row[i] ?? null);
  }
  return w.finish();
}
