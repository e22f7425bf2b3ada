/**
 * Snappy block format (https://github.com/google/snappy/blob/main/format_description.txt): the
 * compression Prometheus' remote write and remote read use for their protobuf bodies. Pure functions,
 * no I/O. The encoder is the reference one's greedy scheme (a hash table of 4-byte sequences over 64 KiB
 * blocks), so its output is valid for every snappy decoder, Go's included.
 */

export class SnappyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnappyError';
  }
}

/** The uncompressed length a block declares in its preamble, without decoding it. */
export function snappyDecodedLength(input: Uint8Array): number {
  return readPreamble(input).length;
}

function readPreamble(input: Uint8Array): { length: number; pos: number } {
  let length = 0;
  let shift = 0;
  let pos = 0;
  for (;;) {
    if (pos >= input.length) throw new SnappyError('truncated length preamble');
    const b = input[pos++] as number;
    if (shift === 28 && b > 0x0f) throw new SnappyError('length preamble too large');
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new SnappyError('length preamble too large');
  }
  return { length, pos };
}

/** Most output bytes per input byte of a block (a 3-byte copy element writes up to 64 bytes). */
const MAX_EXPANSION = 22;

/** Decodes one snappy block; throws SnappyError on any inconsistency. `maxLength` bounds the output. */
export function snappyDecode(input: Uint8Array, maxLength = Number.MAX_SAFE_INTEGER): Buffer {
  const { length, pos: start } = readPreamble(input);
  if (length > maxLength) throw new SnappyError(`decoded length ${length} exceeds the limit ${maxLength}`);
  // The densest element, a 3-byte copy, writes 64 bytes: a preamble declaring more than that ratio allows
  // is a lie, refused before allocating what it declares (up to 4 GiB for a few bytes of input).
  if (length > (input.length - start) * MAX_EXPANSION)
    throw new SnappyError(
      `declared length ${length} is larger than a block of ${input.length} bytes can hold`,
    );
  const out = Buffer.allocUnsafe(length);
  let pos = start;
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++] as number;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const bytes = len - 59;
        if (pos + bytes > input.length) throw new SnappyError('truncated literal length');
        len = 0;
        for (let i = 0; i < bytes; i++) len += (input[pos + i] as number) * 2 ** (8 * i);
        pos += bytes;
      }
      len += 1;
      if (pos + len > input.length) throw new SnappyError('literal runs past the input');
      if (o + len > length) throw new SnappyError('literal runs past the declared length');
      if (len <= 32) for (let i = 0; i < len; i++) out[o + i] = input[pos + i] as number;
      else out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= input.length) throw new SnappyError('truncated copy');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | (input[pos++] as number);
    } else if (kind === 2) {
      if (pos + 2 > input.length) throw new SnappyError('truncated copy');
      len = 1 + (tag >>> 2);
      offset = (input[pos] as number) | ((input[pos + 1] as number) << 8);
      pos += 2;
    } else {
      if (pos + 4 > input.length) throw new SnappyError('truncated copy');
      len = 1 + (tag >>> 2);
      offset =
        ((input[pos] as number) |
          ((input[pos + 1] as number) << 8) |
          ((input[pos + 2] as number) << 16) |
          ((input[pos + 3] as number) << 24)) >>>
        0;
      pos += 4;
    }
    if (offset === 0 || offset > o) throw new SnappyError('copy offset out of range');
    if (o + len > length) throw new SnappyError('copy runs past the declared length');
    // A long copy that does not overlap its own output in one native call; otherwise byte by byte (a copy
    // with offset < len repeats a pattern).
    if (len > 32 && offset >= len) {
      out.copyWithin(o, o - offset, o - offset + len);
      o += len;
    } else for (let i = 0; i < len; i++, o++) out[o] = out[o - offset] as number;
  }
  if (o !== length) throw new SnappyError(`decoded ${o} bytes, the preamble declared ${length}`);
  return out;
}

const BLOCK = 65_536;
const HASH_BITS = 14;

function load32(b: Uint8Array, i: number): number {
  return (
    ((b[i] as number) |
      ((b[i + 1] as number) << 8) |
      ((b[i + 2] as number) << 16) |
      ((b[i + 3] as number) << 24)) >>>
    0
  );
}

function hash(v: number): number {
  return Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

class Out {
  buf: Buffer;
  n = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  byte(b: number): void {
    this.buf[this.n++] = b;
  }
}

function emitLiteral(out: Out, src: Uint8Array, from: number, to: number): void {
  const len = to - from;
  if (len === 0) return;
  const n = len - 1;
  if (n < 60) out.byte(n << 2);
  else if (n < 0x100) {
    out.byte(60 << 2);
    out.byte(n);
  } else if (n < 0x10000) {
    out.byte(61 << 2);
    out.byte(n & 0xff);
    out.byte(n >>> 8);
  } else if (n < 0x1000000) {
    out.byte(62 << 2);
    out.byte(n & 0xff);
    out.byte((n >>> 8) & 0xff);
    out.byte(n >>> 16);
  } else {
    out.byte(63 << 2);
    out.byte(n & 0xff);
    out.byte((n >>> 8) & 0xff);
    out.byte((n >>> 16) & 0xff);
    out.byte(n >>> 24);
  }
  out.buf.set(src.subarray(from, to), out.n);
  out.n += len;
}

function emitCopy(out: Out, offset: number, len: number): void {
  while (len >= 68) {
    out.byte((63 << 2) | 2);
    out.byte(offset & 0xff);
    out.byte(offset >>> 8);
    len -= 64;
  }
  if (len > 64) {
    out.byte((59 << 2) | 2);
    out.byte(offset & 0xff);
    out.byte(offset >>> 8);
    len -= 60;
  }
  if (len >= 12 || offset >= 2048) {
    out.byte(((len - 1) << 2) | 2);
    out.byte(offset & 0xff);
    out.byte(offset >>> 8);
    return;
  }
  out.byte(((offset >>> 8) << 5) | ((len - 4) << 2) | 1);
  out.byte(offset & 0xff);
}

/** Encodes bytes as one snappy block. */
export function snappyEncode(input: Uint8Array): Buffer {
  // Worst case: 32 + n + n/6 (the format's bound), plus the preamble.
  const out = new Out(32 + input.length + Math.ceil(input.length / 6) + 5);
  let len = input.length;
  do {
    out.byte((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
    len = Math.floor(len / 128);
  } while (len > 0);
  const table = new Int32Array(1 << HASH_BITS);
  for (let blockStart = 0; blockStart < input.length; blockStart += BLOCK) {
    const end = Math.min(input.length, blockStart + BLOCK);
    table.fill(-1);
    let lit = blockStart;
    let i = blockStart;
    while (i + 4 <= end) {
      const v = load32(input, i);
      const h = hash(v);
      const cand = table[h] as number;
      table[h] = i;
      if (cand < blockStart || load32(input, cand) !== v) {
        i++;
        continue;
      }
      emitLiteral(out, input, lit, i);
      let m = 4;
      while (i + m < end && input[cand + m] === input[i + m]) m++;
      emitCopy(out, i - cand, m);
      i += m;
      lit = i;
    }
    emitLiteral(out, input, lit, end);
  }
  return out.buf.subarray(0, out.n);
}
