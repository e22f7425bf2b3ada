/**
 * A minimal protocol buffers wire-format reader and writer: just what the remote write and read messages
 * use (varints, 64-bit fixed doubles, length-delimited strings, bytes and nested messages). Pure, no I/O.
 */

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Reads one message's fields in order; the caller dispatches on `field`/`wire` and skips the rest. */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 0) throw new ProtobufError('field number 0');
    return { field, wire };
  }

  /** An unsigned varint as a number (exact up to 2^53; larger values lose low bits, never wrap). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** A varint read as a two's complement int64 (timestamps may be negative). */
  int64(): number {
    const start = this.pos;
    const v = this.varint();
    if (v < 2 ** 63) return v;
    // Negative: redo it with BigInt (rare) for the exact value.
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++] as number;
      big |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, big));
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtobufError('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The bounds of a length-delimited field's payload; the reader moves past it. */
  lengthDelimited(): { start: number; end: number } {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new ProtobufError('length-delimited field runs past its message');
    this.pos = end;
    return { start, end };
  }

  string(): string {
    const { start, end } = this.lengthDelimited();
    return this.buf.toString('utf8', start, end);
  }

  bytes(): Buffer {
    const { start, end } = this.lengthDelimited();
    return this.buf.subarray(start, end);
  }

  /** A nested message's reader. */
  message(): ProtoReader {
    const { start, end } = this.lengthDelimited();
    return new ProtoReader(this.buf, start, end);
  }

  /** A packed repeated varint field (proto3 default for repeated enums), or a single unpacked element. */
  packedVarints(wire: number): number[] {
    if (wire === WIRE_VARINT) return [this.varint()];
    if (wire !== WIRE_LEN) throw new ProtobufError(`wire type ${wire} for a repeated varint`);
    const sub = this.message();
    const out: number[] = [];
    while (!sub.done) out.push(sub.varint());
    return out;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }

  /** Checks that a field has the wire type its schema says. */
  expect(wire: number, expected: number, what: string): void {
    if (wire !== expected) throw new ProtobufError(`${what}: wire type ${wire}, expected ${expected}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufError('truncated field');
    this.pos += n;
  }
}

/** Appends fields to a growing buffer. Nested messages are written into their own writer first. */
export class ProtoWriter {
  private buf: Buffer;
  private n = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.n;
  }

  private room(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + extra));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  rawVarint(v: number): this {
    this.room(10);
    if (v < 0) {
      // int64 two's complement: always 10 bytes.
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) {
        this.buf[this.n++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.buf[this.n++] = Number(big);
      return this;
    }
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.n++] = v;
    return this;
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** A varint field (uint64/int64/enum); proto3 omits zero values, so this does too. */
  varint(field: number, v: number): this {
    if (v === 0) return this;
    this.key(field, WIRE_VARINT);
    return this.rawVarint(v);
  }

  double(field: number, v: number): this {
    if (v === 0 && !Object.is(v, -0)) return this;
    this.key(field, WIRE_FIXED64);
    this.room(8);
    this.buf.writeDoubleLE(v, this.n);
    this.n += 8;
    return this;
  }

  /** A fixed64 field from its 8 little-endian bytes (a double whose exact NaN bits matter). */
  fixed64Bytes(field: number, le: Uint8Array): this {
    this.key(field, WIRE_FIXED64);
    this.room(8);
    this.buf.set(le.subarray(0, 8), this.n);
    this.n += 8;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.rawVarint(data.length);
    this.room(data.length);
    this.buf.set(data, this.n);
    this.n += data.length;
    return this;
  }

  string(field: number, s: string): this {
    if (s === '') return this;
    const len = Buffer.byteLength(s, 'utf8');
    this.key(field, WIRE_LEN);
    this.rawVarint(len);
    this.room(len);
    this.n += this.buf.write(s, this.n, 'utf8');
    return this;
  }

  /** A nested message (written even when empty: a repeated element must be present). */
  message(field: number, sub: ProtoWriter): this {
    return this.bytes(field, sub.finish());
  }

  /** A packed repeated varint field. */
  packed(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const sub = new ProtoWriter(values.length * 2);
    for (const v of values) sub.rawVarint(v);
    return this.bytes(field, sub.finish());
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}
