import { deflateRawSync } from 'node:zlib';
import { decodeRecord, encodeRecord, RecordFormatError } from '../../../../src/sink/buffer/record';
import type { ScrapeRecord } from '../../../../src/sink/buffer/record';
import { replayScrape } from '../../../../src/sink/pending';
import { scrape, target } from './helpers';

describe('buffer records', () => {
  it('round-trips a scrape with its body, usage rows and inventory, and compresses the body', async () => {
    const full: ScrapeRecord = {
      ...scrape(42, 2000),
      hostUsage: {
        time: '2024-01-01T00:00:00.000Z',
        instance: 'h:9100',
        job: 'node',
        host: 'h',
        cpu_count: 4,
        cpu_percent: 12.5,
        cpu_iowait_percent: null,
        memory_total_bytes: 8e9,
        memory_available_bytes: 4e9,
        memory_used_bytes: 4e9,
        memory_percent: 50,
        load1: 0.5,
        load5: null,
        load15: 1,
      } as ScrapeRecord['hostUsage'],
      containerUsage: [],
      inventory: {
        instance: 'h:9100',
        job: 'node',
        timeMs: 42_000,
        host: { key: 'h', attributes: { os: 'linux' }, columns: { cores: 4, virtual: false, name: null } },
        kinds: { disk_info: [{ key: 'sda', attributes: {}, columns: { size_bytes: 1e12 } }] },
        hash: 'abc',
      },
      format: 'openmetrics',
    };
    const enc = await encodeRecord(full);
    expect(enc.samples).toBe(full.sampleCount);
    expect(enc.timeMs).toBe(42_000);
    expect(enc.payload.length * 2).toBeLessThan(Buffer.byteLength(full.body ?? ''));
    // The body comes back as the bytes the parser reads.
    expect(await decodeRecord(enc.payload)).toEqual({ ...full, body: Buffer.from(full.body ?? '') });
  });

  it('round-trips a failed scrape (no body)', async () => {
    const failed: ScrapeRecord = {
      target,
      timeMs: 1,
      durationSeconds: 10,
      error: 'scrape timed out after 10000 ms',
      sampleCount: 3,
      containerUsage: [],
    };
    expect(await decodeRecord((await encodeRecord(failed)).payload)).toEqual(failed);
  });

  it('replays to the same samples as the live scrape, synthetic series included', async () => {
    const r = await decodeRecord((await encodeRecord(scrape(7, 3))).payload);
    const p = await replayScrape(r);
    expect(p.sampleCount).toBe(r.sampleCount);
    expect(p.families.map((f) => [f.name, f.samples.map((s) => s.value)])).toEqual([
      ['t_total', [7]],
      ['g', [7000, 7001, 7002]],
      ['up', [1]],
      ['scrape_duration_seconds', [0.01]],
      ['scrape_samples_scraped', [4]],
    ]);
  });

  it('refuses a payload of another version or shape', async () => {
    /** A v2 payload by hand: [version][u32 deflated metadata bytes][u32 body bytes], metadata, body. */
    const payload = (json: string, version = 2, body = ''): Buffer => {
      const meta = deflateRawSync(Buffer.from(json));
      const packed = body === '' ? Buffer.alloc(0) : deflateRawSync(Buffer.from(body));
      const h = Buffer.alloc(9);
      h.writeUInt8(version, 0);
      h.writeUInt32BE(meta.length, 1);
      h.writeUInt32BE(Buffer.byteLength(body), 5);
      return Buffer.concat([h, meta, packed]);
    };
    const ok = await encodeRecord(scrape(1, 1));
    await expect(decodeRecord(ok.payload)).resolves.toMatchObject({ timeMs: expect.any(Number) });
    await expect(decodeRecord(payload('{"v":2}', 99))).rejects.toBeInstanceOf(RecordFormatError);
    await expect(decodeRecord(payload('{"v":99}'))).rejects.toBeInstanceOf(RecordFormatError);
    await expect(decodeRecord(payload('{"v":2,"timeMs":1}'))).rejects.toBeInstanceOf(RecordFormatError);
    await expect(decodeRecord(payload('{"v":2'))).rejects.toBeInstanceOf(RecordFormatError);
    await expect(decodeRecord(ok.payload.subarray(0, ok.payload.length - 3))).rejects.toBeInstanceOf(
      RecordFormatError,
    );
    await expect(decodeRecord(Buffer.from([2, 0, 0]))).rejects.toBeInstanceOf(RecordFormatError);
  });
});
