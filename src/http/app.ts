import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { constants as zlib, gzip as gzipCb, gzipSync } from 'node:zlib';
import { CONTENT_TYPES, encodeChunks, negotiateFormat } from '../exposition/encode';
import type { Logger } from '../log/logger';
import type { MetricFamily } from '../metrics/types';
import { httpDate } from './http-date';
import type { HttpStats } from './http-stats';
import { landingPage, type LandingLink } from './landing';

const gzip = promisify(gzipCb);

/**
 * Bodies up to this size are compressed on the main thread: a host scrape (~60 kB) takes ~0.2 ms, while
 * the round trip through libuv's pool took 0.65 ms of the scrape's latency. Larger bodies (the docker
 * collector's, ~0.9 MB at 100 containers) go to the pool, so a big compression never stalls the loop.
 */
const SYNC_GZIP_MAX_BYTES = 256 * 1024;

export interface AppDeps {
  readonly scrape: () => Promise<MetricFamily[]>;
  /** Runs once a /metrics response has been sent (work that need not delay the scrape). */
  readonly afterScrape?: () => void;
  readonly telemetryPath: string;
  /** 0 = unlimited. */
  readonly maxRequests: number;
  readonly stats: HttpStats;
  readonly logger: Logger;
  /** False while starting up or shutting down: /ready answers 503. */
  readonly isReady: () => boolean;
  readonly title: string;
  readonly version: string;
  /**
   * Further links of the landing page (the sink's overview page when the exporter is embedded in it),
   * given the host name the request was sent to.
   */
  readonly landingLinks?: (requestHost: string) => readonly LandingLink[];
}

function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return coding?.trim().toLowerCase() === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** The Host header's name without its port, as express's req.hostname (`[::1]` keeps its brackets). */
export function hostname(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return end <= 0 ? host : host.slice(0, end);
}

/** A whole small answer: status, content type, body. */
function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * Builds the exporter's HTTP app without listening (a request listener; tests drive it on port 0). Four
 * GET routes and a 404, on node:http directly: express and its ~90 modules took ~5 MB resident in a process
 * that serves nothing else. GET routes answer HEAD too (node:http leaves the body out); the query string
 * is ignored, as by express and Go's mux.
 */
export function buildApp(deps: AppDeps): RequestListener {
  const metrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (deps.maxRequests > 0 && deps.stats.current >= deps.maxRequests) {
      send(res, 503, TEXT, `Limit of concurrent requests reached (${deps.maxRequests}), try again later.\n`);
      deps.stats.rejected(503);
      return;
    }
    deps.stats.begin();
    if (deps.afterScrape !== undefined) res.once('finish', deps.afterScrape);
    let code = 200;
    try {
      const format = negotiateFormat(req.headers.accept);
      let families;
      try {
        families = await deps.scrape();
      } catch (err) {
        deps.stats.error('gathering');
        throw err;
      }
      let chunks: Buffer[];
      try {
        // Buffer chunks, never one string of the whole body (see encodeChunks).
        chunks = encodeChunks(families, format);
      } catch (err) {
        deps.stats.error('encoding');
        throw err;
      }
      res.setHeader('Content-Type', CONTENT_TYPES[format]);
      res.setHeader('Vary', 'Accept, Accept-Encoding');
      if (acceptsGzip(req)) {
        res.setHeader('Content-Encoding', 'gzip');
        // Fastest level: half the CPU of the default for a body ~15% larger, and scrapes travel on LANs.
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        const options = { level: zlib.Z_BEST_SPEED };
        const zipped =
          body.length <= SYNC_GZIP_MAX_BYTES ? gzipSync(body, options) : await gzip(body, options);
        res.setHeader('Content-Length', zipped.length);
        res.end(zipped);
      } else {
        let length = 0;
        for (const c of chunks) length += c.length;
        res.setHeader('Content-Length', length);
        res.cork();
        for (const c of chunks) res.write(c);
        res.end();
        res.uncork();
      }
    } catch (err) {
      code = 500;
      deps.logger.error({ err }, 'error gathering metrics');
      if (!res.headersSent) {
        res.removeHeader('Content-Encoding');
        res.removeHeader('Vary');
        send(res, 500, TEXT, 'An error has occurred while serving metrics.\n');
      } else res.destroy();
    } finally {
      deps.stats.end(code);
    }
  };

  return (req, res) => {
    // Node's own Date header comes from toUTCString (see httpDate).
    res.sendDate = false;
    res.setHeader('Date', httpDate());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === deps.telemetryPath) void metrics(req, res);
    else if (get && path === '/health') send(res, 200, TEXT, 'OK\n');
    else if (get && path === '/ready')
      if (deps.isReady()) send(res, 200, TEXT, 'Ready\n');
      else send(res, 503, TEXT, 'Not ready\n');
    else if (get && path === '/') {
      const links = deps.landingLinks?.(hostname(req)) ?? [];
      send(
        res,
        200,
        'text/html; charset=utf-8',
        landingPage(deps.title, deps.version, deps.telemetryPath, links),
      );
    } else send(res, 404, TEXT, '404 page not found\n');
  };
}
