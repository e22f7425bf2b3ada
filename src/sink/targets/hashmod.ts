import { createHash } from 'node:crypto';

/**
 * Prometheus' `hashmod` relabel action (model/relabel/relabel.go): the MD5 of the value, its last 8 bytes
 * read as a big-endian unsigned 64-bit integer, modulo `modulus`. A sink with `--scrape.shard=I/N` keeps
 * the targets whose address hashes to I, exactly as a Prometheus with
 * `{source_labels: [__address__], modulus: N, action: hashmod}` followed by a keep of I would.
 */
export function hashmod(value: string, modulus: number): number {
  if (!Number.isSafeInteger(modulus) || modulus < 1)
    throw new RangeError(`hashmod: modulus must be a positive integer, got ${modulus}`);
  const digest = createHash('md5').update(value, 'utf8').digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(modulus));
}

/** This sink's share of the targets: `--scrape.shard=index/count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `I/N` (0 <= I < N); returns the shard or the problem. */
export function parseShard(text: string): { shard: Shard } | { problem: string } {
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(text);
  if (m === null) return { problem: `expected I/N like 0/2 (this sink's shard I of N), got "${text}"` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return { problem: `the number of shards N must be at least 1, got "${text}"` };
  if (index >= count)
    return { problem: `the shard I must be between 0 and N-1 (${count - 1}), got "${text}"` };
  return { shard: { index, count } };
}
