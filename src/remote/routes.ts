import type { RequestHandler } from 'express';
import type { Database } from '../db/database';
import type { Logger } from '../log/logger';
import type { SinkConfig } from '../sink/config';
import { RemoteReceiver } from './receiver';
import { RemoteMetrics } from './remote-metrics';
import { remoteReadHandler } from './read-handler';
import { remoteWriteHandler } from './write-handler';

/**
 * The remote write receiver and remote read routes for the sink's listener, as the flags enable them,
 * and their metrics (served even when both are off, so dashboards see zeros rather than nothing).
 */
export function remoteRoutes(
  db: Database,
  logger: Logger,
  config: SinkConfig,
  prepare: () => Promise<void>,
  /** The sink's clock (ms). */
  now: () => number = Date.now,
): { post: Record<string, RequestHandler>; metrics: RemoteMetrics } {
  const metrics = new RemoteMetrics();
  const post: Record<string, RequestHandler> = {};
  if (config.remoteWrite !== undefined) {
    const receiver = new RemoteReceiver(
      db,
      logger.child({ component: 'remote-write' }),
      metrics,
      {
        pastMs: Math.max(config.retentionRawMs, 3_600_000),
        maxPendingSamples: config.remoteWrite.maxPendingSamples,
      },
      prepare,
    );
    post['/api/v1/write'] = remoteWriteHandler({
      receiver,
      metrics,
      logger: logger.child({ component: 'remote-write' }),
      maxBodyBytes: config.remoteWrite.maxBodyBytes,
      now,
    });
  }
  if (config.remoteRead !== undefined)
    post['/api/v1/read'] = remoteReadHandler({
      db,
      metrics,
      logger: logger.child({ component: 'remote-read' }),
      maxSamples: config.remoteRead.maxSamples,
      maxBytes: config.remoteRead.maxBytes,
      prepare,
    });
  return { post, metrics };
}
