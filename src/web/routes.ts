import type { RequestHandler } from 'express';
import { badRequest } from '../api/routes';
import type { LiveHub } from './hub';
import { sendStatic, type StaticFile } from './static';

/** Longest `instance` accepted by `GET /api/v1/live`. */
const MAX_INSTANCE_LENGTH = 4096;

/** What the page may load: its own scripts, styles and API, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface WebDeps {
  readonly hub: LiveHub;
  /** The built page (loadStatic); empty when it was not built. */
  readonly files: ReadonlyMap<string, StaticFile>;
}

/**
 * The live overview page on the sink's listener: `/` (the page), `/assets/<file>` (its scripts and
 * styles) and `GET /api/v1/live` (Server-Sent Events, see hub.ts). The listener's `--web.config.file` TLS
 * and basic auth cover them like every other route.
 */
export function webRoutes(deps: WebDeps): Record<string, RequestHandler> {
  return {
    '/': (req, res) => {
      const index = deps.files.get('index.html');
      if (index === undefined) {
        res
          .status(503)
          .type('text/plain')
          .send('The overview page was not built with this copy of hostscope (npm run build makes it).\n');
        return;
      }
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('Referrer-Policy', 'no-referrer');
      sendStatic(req, res, index, 'no-cache');
    },
    '/assets/:name': (req, res) => {
      const name = String(req.params.name ?? '');
      const file = name === 'index.html' ? undefined : deps.files.get(name);
      if (file === undefined) {
        res.status(404).type('text/plain').send('404 page not found\n');
        return;
      }
      sendStatic(req, res, file, 'public, max-age=31536000, immutable');
    },
    '/api/v1/live': (req, res) => {
      const q = req.originalUrl.indexOf('?');
      const params = new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1));
      const seen = new Set<string>();
      for (const [key, value] of params) {
        if (key !== 'instance') {
          badRequest(res, key, 'unknown parameter (expected instance)');
          return;
        }
        if (seen.has(key)) {
          badRequest(res, key, 'given more than once');
          return;
        }
        seen.add(key);
        if (value.length > MAX_INSTANCE_LENGTH) {
          badRequest(res, key, `longer than ${MAX_INSTANCE_LENGTH} characters`);
          return;
        }
      }
      deps.hub.connect(req, res, params.get('instance') ?? '');
    },
  };
}
