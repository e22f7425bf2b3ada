import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseExposition } from '../../../src/expfmt/parse';
import { buildSinkApp } from '../../../src/sink/http';
import { SinkMetrics } from '../../../src/sink/sink-metrics';

describe('sink /metrics and /health', () => {
  let server: Server;
  let base: string;
  const metrics = new SinkMetrics(() => ({
    samples: 1234,
    bytes: 56_789,
    maxBytes: 1e9,
    segments: 2,
    droppedSamples: 77,
    corruptSamples: 5,
    failedSamples: 6,
    rejectedSamples: 8,
    skipped: 3,
  }));

  beforeAll(async () => {
    metrics.scrape('a:9100', true);
    metrics.scrape('a:9100', false);
    metrics.observeWrite(0.02, 500, 1_700_000_000_000);
    metrics.observeWrite(3, 100, 1_700_000_001_000);
    metrics.writeFailures = 2;
    metrics.roundsSkipped = 4;
    const app = buildSinkApp({ metrics: () => metrics.families(), health: () => ({ database: 'up' }) });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exposes written, failed, buffered, dropped and last-write figures in parseable text', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const families = parseExposition(await res.text(), 'text');
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      families
        .flatMap((f) => f.samples)
        .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('hostscope_sink_samples_written_total')).toBe(600);
    expect(value('hostscope_sink_write_failures_total')).toBe(2);
    expect(value('hostscope_sink_buffer_samples')).toBe(1234);
    expect(value('hostscope_sink_buffer_bytes')).toBe(56_789);
    expect(value('hostscope_sink_buffer_max_bytes')).toBe(1e9);
    expect(value('hostscope_sink_buffer_segments')).toBe(2);
    expect(value('hostscope_sink_samples_dropped_total', { reason: 'buffer_full' })).toBe(77);
    expect(value('hostscope_sink_samples_dropped_total', { reason: 'buffer_damaged' })).toBe(5);
    expect(value('hostscope_sink_samples_dropped_total', { reason: 'buffer_write_failed' })).toBe(6);
    expect(value('hostscope_sink_samples_dropped_total', { reason: 'rejected' })).toBe(8);
    expect(value('hostscope_sink_samples_dropped_total', { reason: 'skipped' })).toBe(3);
    expect(value('hostscope_sink_scrape_rounds_skipped_total', { reason: 'overrun' })).toBe(4);
    expect(value('hostscope_sink_scrape_rounds_skipped_total', { reason: 'backlog' })).toBe(0);
    expect(value('hostscope_sink_last_successful_write_timestamp_seconds')).toBe(1_700_000_001);
    expect(value('hostscope_sink_scrapes_total', { instance: 'a:9100' })).toBe(2);
    expect(value('hostscope_sink_scrape_failures_total', { instance: 'a:9100' })).toBe(1);
    expect(value('hostscope_sink_write_duration_seconds_bucket', { le: '0.025' })).toBe(1);
    expect(value('hostscope_sink_write_duration_seconds_bucket', { le: '+Inf' })).toBe(2);
    expect(value('hostscope_sink_write_duration_seconds_count')).toBe(2);
  });

  it('answers /health with JSON', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'up' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
