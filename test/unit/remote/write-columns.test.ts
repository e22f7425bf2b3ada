import { decodeWriteRequest, encodeWriteRequest, type Label } from '../../../src/remote/prompb';
import { ProtobufError } from '../../../src/remote/protobuf';
import { snappyDecode, snappyEncode } from '../../../src/remote/snappy';
import { decodeWriteColumns, keySource, type WriteColumns } from '../../../src/remote/write-columns';

const key = (c: WriteColumns, i: number): string =>
  keySource(c, i).toString('hex', c.keyStart[i] as number, c.keyEnd[i] as number);

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** What decodeWriteRequest gives for the series with samples, rebuilt from the columns. */
function fromColumns(buf: Buffer): { labels: readonly Label[]; timestamps: number[]; values: number[] }[] {
  const c = decodeWriteColumns(buf);
  const full = decodeWriteRequest(buf).timeseries.filter((t) => t.values.length > 0);
  return Array.from({ length: c.series }, (_, i) => {
    const from = c.first[i] as number;
    const to = c.first[i + 1] as number;
    return {
      labels: full[i]?.labels ?? [],
      timestamps: [...c.times.subarray(from, to)],
      values: [...c.values.subarray(from, to)],
    };
  });
}

describe('decodeWriteColumns', () => {
  const req = {
    timeseries: [
      {
        labels: [['__name__', 'up'] as const, ['job', 'a'] as const],
        timestamps: [1000, 2000],
        values: [1, 0],
      },
      {
        labels: [['__name__', 'x'] as const, ['a', 'é😀'] as const],
        timestamps: [-5, 2 ** 50],
        values: [NaN, -0],
      },
      { labels: [['__name__', 'empty'] as const], timestamps: [], values: [] },
      { labels: [['__name__', 'up'] as const, ['job', 'a'] as const], timestamps: [3000], values: [7] },
    ],
    metadata: [{ type: 'counter' as const, family: 'x_total', help: 'h', unit: '' }],
  };

  it('gives the samples decodeWriteRequest gives, in columns, with metadata', () => {
    const buf = encodeWriteRequest(req);
    const c = decodeWriteColumns(buf);
    expect(c.samples).toBe(5);
    expect(c.series).toBe(3); // the series without samples is left out
    expect(c.metadata).toEqual(req.metadata);
    expect(fromColumns(buf)).toEqual(
      decodeWriteRequest(buf)
        .timeseries.filter((t) => t.values.length > 0)
        .map(({ labels, timestamps, values }) => ({ labels, timestamps, values })),
    );
  });

  it('keys series by their label bytes: the same labels give the same key, others another', () => {
    const c = decodeWriteColumns(encodeWriteRequest(req));
    expect(key(c, 0)).toBe(key(c, 2));
    expect(c.keyHash[0]).toBe(c.keyHash[2]);
    expect(key(c, 0)).not.toBe(key(c, 1));
  });

  it('decodes samples in any field order, with defaults omitted, and labels after samples', () => {
    // TimeSeries: label __name__="up"; sample {timestamp 5} (value omitted); label a="b" after it;
    // sample {timestamp 7, value 1} (reversed field order).
    const label = (n: string, v: string): Buffer => {
      const inner = Buffer.concat([
        hex('0a'),
        Buffer.from([n.length]),
        Buffer.from(n),
        hex('12'),
        Buffer.from([v.length]),
        Buffer.from(v),
      ]);
      return Buffer.concat([hex('0a'), Buffer.from([inner.length]), inner]);
    };
    const ts = Buffer.concat([
      label('__name__', 'up'),
      hex('12 02 10 05'),
      label('a', 'b'),
      hex('12 0b 10 07 09 000000000000f03f'),
    ]);
    const body = Buffer.concat([hex('0a'), Buffer.from([ts.length]), ts]);
    const c = decodeWriteColumns(body);
    expect([...c.times.subarray(0, c.samples)]).toEqual([5, 7]);
    expect([...c.values.subarray(0, c.samples)]).toEqual([0, 1]);
    // Split labels still make one key, distinct from the same labels written together.
    const together = Buffer.concat([label('__name__', 'up'), label('a', 'b'), hex('12 02 10 05')]);
    const other = decodeWriteColumns(Buffer.concat([hex('0a'), Buffer.from([together.length]), together]));
    expect(key(other, 0)).not.toBe(key(c, 0));
    expect(decodeWriteRequest(body).timeseries[0]?.labels).toEqual([
      ['__name__', 'up'],
      ['a', 'b'],
    ]);
  });

  it('counts native histograms and exemplars', () => {
    const ts = hex('0a 0a 0a 08 5f5f6e616d655f5f 1a 00 22 00 22 00 12 02 10 01');
    const c = decodeWriteColumns(Buffer.concat([hex('0a'), Buffer.from([ts.length]), ts]));
    expect(c).toMatchObject({ exemplars: 1, histograms: 2, samples: 1 });
  });

  it('rejects what decodeWriteRequest rejects', () => {
    for (const bad of ['0a05 0a03', '0b', '09 0000', '08 01', '0a04 1202 1080', '0a03 1201 09'])
      expect(() => decodeWriteColumns(hex(bad))).toThrow(ProtobufError);
  });

  it('grows its columns past the first estimate', () => {
    const many = {
      timeseries: [
        {
          labels: [['__name__', 'm'] as const],
          timestamps: Array.from({ length: 5000 }, (_, i) => i),
          values: Array.from({ length: 5000 }, (_, i) => i / 2),
        },
      ],
    };
    const c = decodeWriteColumns(encodeWriteRequest(many));
    expect(c.samples).toBe(5000);
    expect(c.values[4999]).toBe(4999 / 2);
  });
});

describe('snappy long copies', () => {
  it('round-trips inputs with long repeats at every distance', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 200; i++) parts.push(Buffer.from(`series{id="${'x'.repeat(i % 90)}${i % 7}"} `));
    const input = Buffer.concat(parts);
    expect(snappyDecode(snappyEncode(input)).equals(input)).toBe(true);
  });
});
