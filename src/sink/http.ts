import express, { type Express, type RequestHandler } from 'express';
import { CONTENT_TYPES, encode, negotiateFormat } from '../exposition/encode';
import type { MetricFamily } from '../metrics/types';

export interface SinkAppDeps {
  readonly metrics: () => MetricFamily[];
  /** Liveness details: /health answers 200 while the process runs, with this JSON. */
  readonly health: () => Record<string, unknown>;
  /** Further POST routes (the remote write receiver and remote read), given by the composition root. */
  readonly post?: Readonly<Record<string, RequestHandler>>;
  /** Further GET routes (the read-only JSON API), given by the composition root. */
  readonly get?: Readonly<Record<string, RequestHandler>>;
}

/** The sink's small HTTP app: its own /metrics and /health, and the GET and POST routes it is given. */
export function buildSinkApp(deps: SinkAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/metrics', (req, res) => {
    const format = negotiateFormat(req.headers.accept);
    res.setHeader('Content-Type', CONTENT_TYPES[format]);
    res.end(encode(deps.metrics(), format));
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', ...deps.health() });
  });
  for (const [route, handler] of Object.entries(deps.get ?? {})) app.get(route, handler);
  for (const [route, handler] of Object.entries(deps.post ?? {})) app.post(route, handler);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('404 page not found\n');
  });
  return app;
}
