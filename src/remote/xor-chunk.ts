/**
 * Prometheus' XOR chunk encoding (tsdb/chunkenc/xor.go, after Facebook's Gorilla paper): a 2-byte sample
 * count, then a bit stream of delta-of-delta timestamps and XOR-ed float bits. Remote read's
 * STREAMED_XOR_CHUNKS responses carry these. Pure; an encoder and the decoder used by its tests.
 */

/** Samples per chunk, as Prometheus cuts its own chunks. */
export const SAMPLES_PER_CHUNK = 120;

class BitWriter {
  bytes: number[] = [0, 0]; // room for the sample count
  private bit = 8; // bits free in the last byte: start a fresh byte

  writeBit(b: number): void {
    if (this.bit === 8) {
      this.bytes.push(0);
      this.bit = 0;
    }
    if (b)
      this.bytes[this.bytes.length - 1] = (this.bytes[this.bytes.length - 1] as number) | (0x80 >> this.bit);
    this.bit++;
  }

  /** The low `n` bits of `v`, most significant first. */
  writeBits(v: bigint, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.writeBit(Number((v >> BigInt(i)) & 1n));
  }

  writeByte(b: number): void {
    this.writeBits(BigInt(b), 8);
  }
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

function floatBits(v: number): bigint {
  F64[0] = v;
  return U64[0] as bigint;
}

function bitsFloat(b: bigint): number {
  U64[0] = b;
  return F64[0] as number;
}

function uvarint(w: BitWriter, v: bigint): void {
  while (v >= 0x80n) {
    w.writeByte(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  w.writeByte(Number(v));
}

function varint(w: BitWriter, v: bigint): void {
  uvarint(w, v >= 0n ? v << 1n : (-v << 1n) - 1n);
}

function clz64(x: bigint): number {
  let n = 0;
  for (let i = 63; i >= 0 && ((x >> BigInt(i)) & 1n) === 0n; i--) n++;
  return n;
}

function ctz64(x: bigint): number {
  let n = 0;
  for (let i = 0; i < 64 && ((x >> BigInt(i)) & 1n) === 0n; i++) n++;
  return n;
}

/** bitRange of xor.go: whether a delta-of-delta fits in `nbits`. */
function fits(x: bigint, nbits: number): boolean {
  const half = 1n << BigInt(nbits - 1);
  return -(half - 1n) <= x && x <= half;
}

/**
 * Encodes one chunk (at most 65535 samples; callers cut at SAMPLES_PER_CHUNK). `stale` marks the
 * samples whose value is Prometheus' staleness marker, whose exact NaN bits must survive.
 */
export function encodeXorChunk(
  timestamps: readonly number[],
  values: readonly number[],
  stale?: readonly boolean[],
): Buffer {
  const w = new BitWriter();
  let t = 0n;
  let tDelta = 0n;
  let v = 0n;
  let leading = 0xff;
  let trailing = 0;
  const n = timestamps.length;
  for (let i = 0; i < n; i++) {
    const ts = BigInt(timestamps[i] as number);
    const vb = stale?.[i] === true ? STALE_NAN_BITS : floatBits(values[i] as number);
    if (i === 0) {
      varint(w, ts);
      w.writeBits(vb, 64);
    } else if (i === 1) {
      tDelta = ts - t;
      uvarint(w, tDelta);
      writeXor(vb);
    } else {
      const d = ts - t;
      const dod = d - tDelta;
      if (dod === 0n) w.writeBit(0);
      else if (fits(dod, 14)) {
        w.writeBits(0b10n, 2);
        w.writeBits(BigInt.asUintN(14, dod), 14);
      } else if (fits(dod, 17)) {
        w.writeBits(0b110n, 3);
        w.writeBits(BigInt.asUintN(17, dod), 17);
      } else if (fits(dod, 20)) {
        w.writeBits(0b1110n, 4);
        w.writeBits(BigInt.asUintN(20, dod), 20);
      } else {
        w.writeBits(0b1111n, 4);
        w.writeBits(BigInt.asUintN(64, dod), 64);
      }
      tDelta = d;
      writeXor(vb);
    }
    t = ts;
    v = vb;
  }
  function writeXor(vb: bigint): void {
    const delta = vb ^ v;
    if (delta === 0n) {
      w.writeBit(0);
      return;
    }
    w.writeBit(1);
    let lead = clz64(delta);
    const trail = ctz64(delta);
    if (lead >= 32) lead = 31;
    if (leading !== 0xff && lead >= leading && trail >= trailing) {
      w.writeBit(0);
      w.writeBits(delta >> BigInt(trailing), 64 - leading - trailing);
      return;
    }
    leading = lead;
    trailing = trail;
    w.writeBit(1);
    w.writeBits(BigInt(lead), 5);
    const sig = 64 - lead - trail;
    w.writeBits(BigInt(sig === 64 ? 0 : sig), 6);
    w.writeBits(delta >> BigInt(trail), sig);
  }
  const buf = Buffer.from(w.bytes);
  buf.writeUInt16BE(n, 0);
  return buf;
}

/** Prometheus' staleness marker: a NaN with these exact bits (value.StaleNaN). */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

/** Decodes a chunk (tests; and a check that the encoder is readable). */
export function decodeXorChunk(buf: Buffer): { timestamps: number[]; values: number[]; stale: boolean[] } {
  const n = buf.readUInt16BE(0);
  let pos = 16; // bit position
  const bit = (): number => {
    const b = ((buf[pos >> 3] as number) >> (7 - (pos & 7))) & 1;
    pos++;
    return b;
  };
  const bits = (k: number): bigint => {
    let v = 0n;
    for (let i = 0; i < k; i++) v = (v << 1n) | BigInt(bit());
    return v;
  };
  const readUvarint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = Number(bits(8));
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  const timestamps: number[] = [];
  const values: number[] = [];
  const stale: boolean[] = [];
  let t = 0n;
  let tDelta = 0n;
  let v = 0n;
  let leading = 0;
  let trailing = 0;
  const readXor = (): void => {
    if (bit() === 0) return;
    if (bit() === 1) {
      leading = Number(bits(5));
      let sig = Number(bits(6));
      if (sig === 0) sig = 64;
      trailing = 64 - leading - sig;
    }
    const sig = 64 - leading - trailing;
    v ^= bits(sig) << BigInt(trailing);
  };
  for (let i = 0; i < n; i++) {
    if (i === 0) {
      const z = readUvarint();
      t = z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
      v = bits(64);
    } else if (i === 1) {
      tDelta = readUvarint();
      t += tDelta;
      readXor();
    } else {
      let dod = 0n;
      if (bit() === 1) {
        let size = 14;
        if (bit() === 1) {
          size = 17;
          if (bit() === 1) {
            size = 20;
            if (bit() === 1) size = 64;
          }
        }
        dod = bits(size);
        // xor.go's reading: values up to 2^(size-1) are positive (see fits()).
        if (size < 64 && dod > 1n << BigInt(size - 1)) dod -= 1n << BigInt(size);
        else if (size === 64) dod = BigInt.asIntN(64, dod);
      }
      tDelta += dod;
      t += tDelta;
      readXor();
    }
    timestamps.push(Number(t));
    values.push(bitsFloat(v));
    stale.push(v === STALE_NAN_BITS);
  }
  return { timestamps, values, stale };
}
