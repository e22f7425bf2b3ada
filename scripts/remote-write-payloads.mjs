// WriteRequest bodies whose sample timestamps can be moved cheaply, for load generators that replay
// a few requests many times as new samples (`npm run bench:remote-write`, the stress suite). Each body
// is snappy-encoded once with its timestamp varints kept as literals, so a shift is a few byte writes
// into a copy; this changes the compression (not the protobuf) against what the sender encoded.
import { Buffer } from 'node:buffer';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Snappy-encodes `input` (as the reference greedy encoder does) keeping every byte where `mask` is set
 * as a literal that no copy reads from; returns the output and where each masked byte landed in it.
 */
function snappyWithLiterals(input, mask, maskedCount) {
  const out = Buffer.allocUnsafe(32 + input.length + Math.ceil(input.length / 6) + 5);
  let n = 0;
  const at = new Int32Array(maskedCount);
  let k = 0;
  let len = input.length;
  do {
    out[n++] = (len & 0x7f) | (len > 0x7f ? 0x80 : 0);
    len = Math.floor(len / 128);
  } while (len > 0);
  const literal = (from, to) => {
    const l = to - from;
    if (l === 0) return;
    const x = l - 1;
    if (x < 60) out[n++] = x << 2;
    else if (x < 0x100) {
      out[n++] = 60 << 2;
      out[n++] = x;
    } else if (x < 0x10000) {
      out[n++] = 61 << 2;
      out.writeUInt16LE(x, n);
      n += 2;
    } else {
      out[n++] = 63 << 2;
      out.writeUInt32LE(x, n);
      n += 4;
    }
    for (let i = from; i < to; i++) if (mask[i] === 1) at[k++] = n + i - from;
    input.copy(out, n, from, to);
    n += l;
  };
  const copy = (offset, l) => {
    while (l > 0) {
      const c = Math.min(l, 64);
      out[n++] = ((c - 1) << 2) | 2;
      out.writeUInt16LE(offset, n);
      n += 2;
      l -= c;
    }
  };
  const table = new Int32Array(1 << 14);
  const clear = (i) => mask[i] === 0 && mask[i + 1] === 0 && mask[i + 2] === 0 && mask[i + 3] === 0;
  for (let blockStart = 0; blockStart < input.length; blockStart += 65_536) {
    const end = Math.min(input.length, blockStart + 65_536);
    table.fill(-1);
    let lit = blockStart;
    let i = blockStart;
    while (i + 4 <= end) {
      if (!clear(i)) {
        i++;
        continue;
      }
      const v = input.readUInt32LE(i);
      const h = Math.imul(v, 0x1e35a7bd) >>> 18;
      const cand = table[h];
      table[h] = i;
      if (cand < blockStart || input.readUInt32LE(cand) !== v) {
        i++;
        continue;
      }
      literal(lit, i);
      let m = 4;
      while (i + m < end && mask[i + m] === 0 && mask[cand + m] === 0 && input[cand + m] === input[i + m])
        m++;
      copy(i - cand, m);
      i += m;
      lit = i;
    }
    literal(lit, end);
  }
  if (k !== maskedCount) throw new Error('snappyWithLiterals: lost a masked byte');
  return { buf: out.subarray(0, n), at };
}

/** Where the Sample.timestamp varints of a decoded WriteRequest are, and their values. */
function timestampFields(buf, dist) {
  const { ProtoReader } = require(path.join(dist, 'remote', 'protobuf.js'));
  const pos = [];
  const values = [];
  const r = new ProtoReader(buf);
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const ts = r.message();
    while (!ts.done) {
      const t = ts.tag();
      if (t.field !== 2) {
        ts.skip(t.wire);
        continue;
      }
      const s = ts.message();
      while (!s.done) {
        const st = s.tag();
        if (st.field !== 2) {
          s.skip(st.wire);
          continue;
        }
        const p = s.pos;
        values.push(s.int64());
        if (s.pos - p !== 6) throw new Error(`a timestamp varint of ${s.pos - p} bytes`);
        pos.push(p);
      }
    }
  }
  return { pos, values };
}

function varint6(v, out, at, base) {
  for (let b = 0; b < 6; b++) {
    out[at[base + b]] = (v % 128) | (b < 5 ? 0x80 : 0);
    v = Math.floor(v / 128);
  }
}

/**
 * A decompressed WriteRequest prepared for shifting: { buf, at, values, samples }. Every sample
 * timestamp must be a 6-byte varint (milliseconds from 2004 to 2039). `dist`: the built dist/ directory.
 */
export function patchablePayload(raw, dist) {
  const { pos, values } = timestampFields(raw, dist);
  const mask = new Uint8Array(raw.length + 4);
  for (const p of pos) mask.fill(1, p, p + 6);
  const { buf, at } = snappyWithLiterals(raw, mask, pos.length * 6);
  return { buf, at, values, samples: values.length };
}

/** A snappy body of payload `p` with every sample timestamp moved by `shiftMs`. */
export function shiftedBody(p, shiftMs) {
  const b = Buffer.from(p.buf);
  for (let i = 0; i < p.values.length; i++) varint6(p.values[i] + shiftMs, b, p.at, i * 6);
  return b;
}

/** Throws unless the shifted bodies decode to the shifted timestamps (checks the patching once). */
export function checkShifted(payloads, shiftMs, dist) {
  const { snappyDecode } = require(path.join(dist, 'remote', 'snappy.js'));
  const { decodeWriteRequest } = require(path.join(dist, 'remote', 'prompb.js'));
  for (const p of payloads) {
    const wr = decodeWriteRequest(snappyDecode(shiftedBody(p, shiftMs)));
    const got = wr.timeseries.flatMap((t) => t.timestamps);
    if (got.length !== p.values.length || got.some((t, i) => t !== p.values[i] + shiftMs))
      throw new Error('patched timestamps do not decode as shifted');
  }
}

/**
 * A poster of bodies to `url` over `agent` with `headers` (content-length added): resolves the status, or
 * 0 for a broken connection or no answer within 60 s.
 */
export function poster(agent, url, headers) {
  const u = new URL(url);
  return (body) =>
    new Promise((resolve) => {
      const req = request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { ...headers, 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', () => resolve(0));
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end(body);
    });
}
