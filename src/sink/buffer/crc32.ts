import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib and gzip): node:zlib's native crc32() where the runtime has
 * it (Node 20.15+, 22.2+), about 20x faster on a multi-MB record; otherwise table-driven, same values.
 */
const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it) when given. */
const native = (zlib as { crc32?: (data: Uint8Array, previous?: number) => number }).crc32;

export function crc32(data: Uint8Array, previous = 0): number {
  return native !== undefined ? native(data, previous) : tableCrc32(data, previous);
}

/** The portable implementation (exported so a test can hold it to the native one). */
export function tableCrc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = (TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
