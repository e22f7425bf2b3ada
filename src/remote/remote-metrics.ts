import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

/** The remote write receiver's and remote read endpoint's counters, served on the sink's /metrics. */
export class RemoteMetrics {
  readonly writeRequests = new Map<string, number>();
  readonly readRequests = new Map<string, number>();
  samplesReceived = 0;
  samplesWritten = 0;
  samplesSkipped = 0;
  histogramsDropped = 0;
  exemplarsDropped = 0;
  metadataReceived = 0;
  /** Newest sample timestamp received (seconds); the receiver's lag is time() minus this. */
  newestSampleSeconds = 0;
  readSeries = 0;
  readSamples = 0;

  writeRequest(code: number): void {
    this.writeRequests.set(String(code), (this.writeRequests.get(String(code)) ?? 0) + 1);
  }

  readRequest(code: number): void {
    this.readRequests.set(String(code), (this.readRequests.get(String(code)) ?? 0) + 1);
  }

  families(): MetricFamily[] {
    const set = new MetricSet();
    for (const [code, n] of [...this.writeRequests].sort())
      set.counter(
        'hostscope_sink_remote_write_requests_total',
        'Remote write requests received on /api/v1/write, by HTTP status code answered (204 stored; 400 malformed, dropped by the sender; 413 over --remote-write.max-body-bytes; 503 retried by the sender).',
        n,
        { code },
      );
    set.counter(
      'hostscope_sink_remote_write_samples_received_total',
      'Float samples received by remote write (in well-formed requests).',
      this.samplesReceived,
    );
    set.counter(
      'hostscope_sink_remote_write_samples_written_total',
      'Remote-written samples committed to the database (a retried sample is stored once).',
      this.samplesWritten,
    );
    set.counter(
      'hostscope_sink_remote_write_samples_skipped_total',
      'Remote-written samples not stored: a timestamp outside --retention.raw (or more than 10 minutes ahead), or the same series and timestamp twice in one request.',
      this.samplesSkipped,
    );
    set.counter(
      'hostscope_sink_remote_write_unsupported_total',
      'Remote-written items received and not stored because they are not supported yet, by kind (native histogram samples, exemplars).',
      this.histogramsDropped,
      { kind: 'histogram' },
    );
    set.counter(
      'hostscope_sink_remote_write_unsupported_total',
      'Remote-written items received and not stored because they are not supported yet, by kind (native histogram samples, exemplars).',
      this.exemplarsDropped,
      { kind: 'exemplar' },
    );
    set.counter(
      'hostscope_sink_remote_write_metadata_total',
      'Metric metadata entries received by remote write (they set the metric type, help and unit).',
      this.metadataReceived,
    );
    set.gauge(
      'hostscope_sink_remote_write_newest_sample_timestamp_seconds',
      'Timestamp of the newest remote-written sample committed; time() minus this is the receiver lag. 0 before the first.',
      this.newestSampleSeconds,
    );
    for (const [code, n] of [...this.readRequests].sort())
      set.counter(
        'hostscope_sink_remote_read_requests_total',
        'Remote read requests received on /api/v1/read, by HTTP status code answered.',
        n,
        { code },
      );
    set.counter(
      'hostscope_sink_remote_read_series_total',
      'Series returned by remote read.',
      this.readSeries,
    );
    set.counter(
      'hostscope_sink_remote_read_samples_total',
      'Samples returned by remote read.',
      this.readSamples,
    );
    return set.families();
  }
}
