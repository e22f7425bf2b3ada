import { randomBytes } from 'node:crypto';
import {
  decodeReadRequest,
  decodeWriteRequest,
  encodeReadRequest,
  encodeWriteRequest,
} from '../../../src/remote/prompb';
import { ProtobufError } from '../../../src/remote/protobuf';
import { SnappyError, snappyDecode, snappyEncode } from '../../../src/remote/snappy';
import { decodeXorChunk, encodeXorChunk, STALE_NAN_BITS } from '../../../src/remote/xor-chunk';
import { crc32c } from '../../../src/remote/crc32c';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('snappy block format', () => {
  it('decodes every element kind (golden block)', () => {
    // preamble 21; literal "abcd"; copy-1 (len 4, off 4); copy-2 (len 5, off 8); copy-4 (len 3, off 2,
    // overlapping its own output); literal of 5 with a 1-byte length (tag 60).
    const block = hex('15 0c 61626364 01 04 12 0800 0b 02000000 f0 04 7677787980');
    expect(snappyDecode(block).toString('latin1')).toBe('abcdabcdabcdadadvwxy\u0080');
  });

  it('encodes to the expected bytes', () => {
    expect(snappyEncode(Buffer.from('abcdabcdabcdabcd')).toString('hex')).toBe('100c616263642e0400');
    expect(snappyEncode(Buffer.alloc(0)).toString('hex')).toBe('00');
  });

  it('round-trips random, repetitive and large inputs', () => {
    const inputs = [
      randomBytes(1000),
      Buffer.from('node_cpu_seconds_total{cpu="0",mode="idle"} '.repeat(5000)),
      Buffer.concat([randomBytes(70_000), Buffer.alloc(70_000, 7), randomBytes(3)]),
    ];
    for (const input of inputs) expect(snappyDecode(snappyEncode(input)).equals(input)).toBe(true);
    expect(snappyEncode(inputs[1] as Buffer).length).toBeLessThan((inputs[1] as Buffer).length / 10);
  });

  it('rejects malformed blocks', () => {
    expect(() => snappyDecode(hex('ff'))).toThrow(SnappyError); // truncated preamble
    expect(() => snappyDecode(hex('05 0c 6162'))).toThrow(SnappyError); // literal past the input
    expect(() => snappyDecode(hex('04 01 04'))).toThrow(SnappyError); // copy before any output
    expect(() => snappyDecode(hex('09 0c 61626364'))).toThrow(SnappyError); // shorter than declared
    expect(() => snappyDecode(Buffer.from('not snappy at all, a text body'))).toThrow(SnappyError);
  });
});

describe('remote write and read protobuf messages', () => {
  // WriteRequest{timeseries: [{labels: [__name__="up"], samples: [{value: 1, timestamp: 1000}]}]}
  const golden = hex('0a1e 0a0e 0a085f5f6e616d655f5f 12027570 120c 09000000000000f03f 10e807');

  it('encodes and decodes a WriteRequest (golden bytes)', () => {
    const req = { timeseries: [{ labels: [['__name__', 'up'] as const], timestamps: [1000], values: [1] }] };
    expect(encodeWriteRequest(req).toString('hex')).toBe(golden.toString('hex'));
    expect(decodeWriteRequest(golden)).toEqual({
      timeseries: [
        { labels: [['__name__', 'up']], timestamps: [1000], values: [1], histograms: 0, exemplars: 0 },
      ],
      metadata: [],
    });
  });

  it('keeps negative timestamps, special floats and metadata', () => {
    const req = {
      timeseries: [
        {
          labels: [['__name__', 'x'] as const, ['a', 'é😀'] as const],
          timestamps: [-5, 0, 2 ** 50],
          values: [NaN, -Infinity, -0],
        },
      ],
      metadata: [{ type: 'counter' as const, family: 'x_total', help: 'h', unit: 'seconds' }],
    };
    const back = decodeWriteRequest(encodeWriteRequest(req));
    expect(back.timeseries[0]?.timestamps).toEqual([-5, 0, 2 ** 50]);
    expect(back.timeseries[0]?.values).toEqual([NaN, -Infinity, -0]);
    expect(back.timeseries[0]?.labels).toEqual(req.timeseries[0]?.labels);
    expect(back.metadata).toEqual(req.metadata);
  });

  it('counts native histograms and exemplars without decoding them', () => {
    // A TimeSeries with one label, one exemplar (field 3) and two histograms (field 4).
    const ts = hex('0a 0a 0a 08 5f5f6e616d655f5f 1a 00 22 00 22 00');
    const body = Buffer.concat([hex('0a'), Buffer.from([ts.length]), ts]);
    const r = decodeWriteRequest(body);
    expect(r.timeseries[0]).toMatchObject({ exemplars: 1, histograms: 2, values: [] });
  });

  it('rejects bodies that are not a WriteRequest', () => {
    expect(() => decodeWriteRequest(hex('0a05 0a03'))).toThrow(ProtobufError); // runs past its message
    expect(() => decodeWriteRequest(hex('0b'))).toThrow(ProtobufError); // wire type 3 (groups)
    expect(() => decodeWriteRequest(hex('09 0000'))).toThrow(ProtobufError); // truncated fixed64
    expect(() => decodeWriteRequest(hex('08 01'))).toThrow(ProtobufError); // timeseries as a varint
  });

  it('round-trips a ReadRequest with every matcher type and accepted response types', () => {
    const req = {
      queries: [
        {
          startMs: 1000,
          endMs: 2000,
          matchers: [
            { type: '=' as const, name: '__name__', value: 'up' },
            { type: '!=' as const, name: 'a', value: '' },
            { type: '=~' as const, name: 'b', value: 'x|' },
            { type: '!~' as const, name: 'c', value: '.+' },
          ],
        },
      ],
      acceptedResponseTypes: ['streamed_xor_chunks' as const, 'samples' as const],
    };
    expect(decodeReadRequest(encodeReadRequest(req))).toEqual(req);
  });
});

describe('XOR chunks', () => {
  it('encodes the first sample as Prometheus does (golden bytes)', () => {
    // count 1; varint(zigzag(1000)) = d0 0f; value 1.0 as 64 bits.
    expect(encodeXorChunk([1000], [1]).toString('hex')).toBe('0001d00f3ff0000000000000');
  });

  it('round-trips every delta-of-delta size and value change, staleness markers included', () => {
    const timestamps = [0, 15_000, 30_000, 45_001, 60_000, 60_500, 200_000, 200_001, 5_000_000, 5_015_000];
    const values = [1, 1, 2.5, -3, NaN, Infinity, 1e-300, 0, 123456.789, 42];
    const stale = timestamps.map((_, i) => i === 4);
    const back = decodeXorChunk(encodeXorChunk(timestamps, values, stale));
    expect(back.timestamps).toEqual(timestamps);
    expect(back.values.slice(5)).toEqual(values.slice(5));
    expect(back.values.slice(0, 4)).toEqual(values.slice(0, 4));
    expect(back.stale).toEqual(stale);
    expect(STALE_NAN_BITS).toBe(0x7ff0000000000002n);
  });

  it('round-trips 120 samples of a realistic counter', () => {
    const t0 = 1_700_000_000_000;
    const timestamps = Array.from({ length: 120 }, (_, i) => t0 + i * 15_000 + (i % 7 === 0 ? 3 : 0));
    const values = timestamps.map((_, i) => 1000 + i * 17.25);
    const chunk = encodeXorChunk(timestamps, values);
    expect(decodeXorChunk(chunk)).toMatchObject({ timestamps, values });
    expect(chunk.length).toBeLessThan(120 * 4);
  });

  it('frames carry CRC-32C', () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
  });
});
