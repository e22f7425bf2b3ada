import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { isConnectionError, type Database } from '../db/database';
import type { Logger } from '../log/logger';
import { BodyTooLargeError, ClientAbortedError, readBody } from '../http/body';
import { parseWebhookBody } from './payload';
import { storeNotification } from './store';
import { AlertWebhookMetrics } from './webhook-metrics';

/** The route of the receiver on the sink's listener (`--web.enable-alertmanager-webhook`). */
export const ALERTMANAGER_WEBHOOK_PATH = '/api/v1/alertmanager';

export interface AlertWebhookDeps {
  readonly db: Database;
  readonly logger: Logger;
  /** Migrations before the first write (the sink applies them lazily). */
  readonly prepare: () => Promise<void>;
  readonly maxBodyBytes?: number;
  readonly metrics?: AlertWebhookMetrics;
  /** The clock (ms) of the last-success timestamp and of the notifications' receipt. */
  readonly now?: () => number;
}

/** Reads what is left of a request and drops it; past `maxBytes` more, gives up and closes the socket. */
function discardBody(req: IncomingMessage, maxBytes: number): void {
  let dropped = 0;
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > maxBytes) req.socket.destroy();
  });
  req.resume();
}

/**
 * `POST /api/v1/alertmanager`: Alertmanager's webhook (payload version 4). A valid notification is stored
 * (src/alerts/store.ts) before the answer, 200; a malformed one is refused with 400 and a log line naming
 * its problems, and nothing of it is stored (Alertmanager does not retry a 4xx); a database that is away
 * gets 503, which Alertmanager retries.
 */
export function alertmanagerWebhookHandler(deps: AlertWebhookDeps): RequestHandler {
  const limit = deps.maxBodyBytes ?? 16 * 1024 * 1024;
  const metrics = deps.metrics ?? new AlertWebhookMetrics();
  const now = deps.now ?? Date.now;
  return (req, res) => {
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req, limit);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          metrics.request('too_large');
          deps.logger.warn(
            { limit, remote: req.socket.remoteAddress },
            'alertmanager webhook: notification larger than the limit refused',
          );
          // Read and drop the rest of the body (up to as much again), so that the sender reads the 413:
          // closing a connection with unread data resets it, answer and all.
          discardBody(req, limit);
          res.status(413).type('text/plain').send(`${err.message}\n`);
          return;
        }
        metrics.request('unreadable');
        if (err instanceof ClientAbortedError) {
          deps.logger.warn(
            { remote: req.socket.remoteAddress },
            'alertmanager webhook: the client went away before sending the whole notification',
          );
          return;
        }
        throw err;
      }
      const parsed = parseWebhookBody(body);
      if (!parsed.ok) {
        metrics.request('malformed');
        deps.logger.warn(
          { problems: parsed.problems, bytes: body.length, remote: req.socket.remoteAddress },
          'alertmanager webhook: malformed notification refused, nothing stored',
        );
        res
          .status(400)
          .type('text/plain')
          .send(`malformed Alertmanager notification (webhook version 4):\n${parsed.problems.join('\n')}\n`);
        return;
      }
      try {
        await deps.prepare();
        const r = await storeNotification(deps.db, parsed.payload, body, new Date(now()));
        metrics.stored(r.occurrences, r.repeated, now());
        deps.logger.debug(
          {
            receiver: parsed.payload.receiver,
            groupKey: parsed.payload.groupKey,
            status: parsed.payload.status,
            alerts: r.occurrences,
            repeated: r.repeated,
          },
          'alertmanager notification stored',
        );
        res.status(200).json({ status: 'stored', alerts: r.occurrences, repeated: r.repeated });
      } catch (err) {
        const unreachable = isConnectionError(err);
        metrics.request(unreachable ? 'database_unavailable' : 'failed');
        deps.logger.error(
          { err, receiver: parsed.payload.receiver, groupKey: parsed.payload.groupKey },
          unreachable
            ? 'alertmanager webhook: database unreachable; Alertmanager will retry'
            : 'alertmanager webhook: could not store the notification',
        );
        res
          .status(unreachable ? 503 : 500)
          .type('text/plain')
          .send('could not store the notification\n');
      }
    })().catch((err: unknown) => {
      metrics.request('failed');
      deps.logger.error({ err }, 'alertmanager webhook: request failed');
      if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
    });
  };
}

export interface AlertRoutes {
  readonly post: Record<string, RequestHandler>;
  /** Served on the sink's /metrics even with the webhook off (zeros). */
  readonly metrics: AlertWebhookMetrics;
  /** For the listener's basic auth: counts a request it refused with 401 when it was for the webhook. */
  readonly unauthorized: (req: IncomingMessage) => void;
}

/** The POST routes the sink's listener serves for the alert history, as the flags enable them. */
export function alertRoutes(enabled: boolean, deps: AlertWebhookDeps): AlertRoutes {
  const metrics = deps.metrics ?? new AlertWebhookMetrics();
  return {
    post: enabled ? { [ALERTMANAGER_WEBHOOK_PATH]: alertmanagerWebhookHandler({ ...deps, metrics }) } : {},
    metrics,
    unauthorized: (req) => {
      const route = (req.url ?? '').split('?')[0]?.replace(/\/+$/, '').toLowerCase();
      if (enabled && req.method === 'POST' && route === ALERTMANAGER_WEBHOOK_PATH)
        metrics.request('unauthorized');
    },
  };
}
