import type { RequestHandler, Response } from 'express';
import { isConnectionError, type Database } from '../db/database';
import type { Logger } from '../log/logger';
import { parseAlertsParams, queryAlerts } from './alerts';
import { queryOverview } from './overview';
import {
  parseContainersParams,
  parseFilesystemsParams,
  parseRatesParams,
  queryContainers,
  queryFilesystems,
  queryRates,
} from './history';
import { parseSeriesParams, type Parsed } from './params';
import { querySeries, TooManySeries } from './series';

export interface ApiDeps {
  readonly db: Database;
  readonly logger: Logger;
  /** Migrations before the first read (the sink applies them lazily). */
  readonly prepare: () => Promise<void>;
  /** The clock, in unix seconds (tests pin it). */
  readonly now?: () => number;
}

/** The answer to a bad request: 400 with the parameter at fault. */
export function badRequest(res: Response, parameter: string, message: string): void {
  res.status(400).json({ status: 'error', error: 'bad_parameter', parameter, message });
}

function failed(res: Response, deps: ApiDeps, err: unknown, route: string): void {
  const away = isConnectionError(err);
  deps.logger.warn({ err, route }, away ? 'api: database unreachable' : 'api: query failed');
  if (res.headersSent) return;
  res.status(away ? 503 : 500).json({
    status: 'error',
    error: away ? 'database_unavailable' : 'internal',
    message: 'see the sink log',
  });
}

/**
 * The read-only JSON API of the sink's listener (docs/api.md): `GET /api/v1/overview`,
 * `GET /api/v1/series`, the aggregating `GET /api/v1/rates`, `/api/v1/filesystems` and
 * `/api/v1/containers` (history.ts), and `GET /api/v1/alerts`. It sits behind the listener's `--web.config.file` TLS and basic auth like every
 * other route.
 */
export function apiRoutes(deps: ApiDeps): Record<string, RequestHandler> {
  const now = deps.now ?? (() => Date.now() / 1000);
  const answer = (res: Response, body: unknown): void => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  };
  /** A GET whose query string is checked by `parse` (400 with the parameter at fault) and answered by `run`. */
  const rangeRoute =
    <Q>(
      route: string,
      parse: (params: URLSearchParams, nowSeconds: number) => Parsed<Q>,
      run: (db: Database, q: Q) => Promise<unknown>,
      /** The parameter a TooManySeries is blamed on. */
      narrow: string,
    ): RequestHandler =>
    (req, res) => {
      const q = req.originalUrl.indexOf('?');
      const parsed = parse(new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1)), Math.floor(now()));
      if (!parsed.ok) {
        badRequest(res, parsed.error.parameter, parsed.error.message);
        return;
      }
      void (async () => {
        try {
          await deps.prepare();
          answer(res, { status: 'success', data: await run(deps.db, parsed.value) });
        } catch (err) {
          if (err instanceof TooManySeries) badRequest(res, narrow, err.message);
          else failed(res, deps, err, route);
        }
      })();
    };
  return {
    '/api/v1/overview': (_req, res) => {
      void (async () => {
        try {
          await deps.prepare();
          answer(res, { status: 'success', data: await queryOverview(deps.db, Math.floor(now())) });
        } catch (err) {
          failed(res, deps, err, 'overview');
        }
      })();
    },
    '/api/v1/alerts': (req, res) => {
      const q = req.originalUrl.indexOf('?');
      const nowSeconds = Math.floor(now());
      const parsed = parseAlertsParams(
        new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1)),
        nowSeconds,
      );
      if (!parsed.ok) {
        badRequest(res, parsed.error.parameter, parsed.error.message);
        return;
      }
      void (async () => {
        try {
          await deps.prepare();
          answer(res, { status: 'success', data: await queryAlerts(deps.db, parsed.value, nowSeconds) });
        } catch (err) {
          failed(res, deps, err, 'alerts');
        }
      })();
    },
    '/api/v1/series': rangeRoute('series', parseSeriesParams, querySeries, 'match'),
    '/api/v1/rates': rangeRoute('rates', parseRatesParams, queryRates, 'match'),
    '/api/v1/filesystems': rangeRoute('filesystems', parseFilesystemsParams, queryFilesystems, 'instance'),
    '/api/v1/containers': rangeRoute('containers', parseContainersParams, queryContainers, 'instance'),
  };
}
