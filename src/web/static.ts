import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';

/**
 * The live page's static files, built by `npm run build` into dist/web/public (src/web/build.ts) with a
 * brotli and a gzip copy of each: read once at start (about 150 kB in all), served from memory with the
 * best encoding the browser accepts. Asset names carry a content hash, so they are cached for a year;
 * index.html is revalidated on every load.
 */

/** Where the build puts the page, next to the compiled server code. */
export const PUBLIC_DIR = path.join(__dirname, 'public');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface StaticFile {
  readonly type: string;
  readonly identity: Buffer;
  readonly br?: Buffer;
  readonly gzip?: Buffer;
}

export type Encoding = 'br' | 'gzip' | 'identity';

/** The best encoding of `available` that an Accept-Encoding header allows (q > 0), brotli first. */
export function negotiateEncoding(header: string | undefined, available: readonly Encoding[]): Encoding {
  const q = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding === undefined || coding === '') continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const v = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(coding, Number.isFinite(v) ? v : 0);
  }
  const allowed = (c: string): boolean => (q.get(c) ?? q.get('*') ?? 0) > 0;
  for (const c of ['br', 'gzip'] as const) if (available.includes(c) && allowed(c)) return c;
  return 'identity';
}

/** Reads every built file of `dir` (and its .br / .gz siblings); an empty map when the page was not built. */
export function loadStatic(dir: string = PUBLIC_DIR): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    const ext = path.extname(name);
    const type = TYPES[ext];
    if (type === undefined) continue;
    const read = (suffix: string): Buffer | undefined => {
      const p = path.join(dir, name + suffix);
      return existsSync(p) ? readFileSync(p) : undefined;
    };
    const identity = read('');
    if (identity === undefined) continue;
    const br = read('.br');
    const gzip = read('.gz');
    files.set(name, {
      type,
      identity,
      ...(br === undefined ? {} : { br }),
      ...(gzip === undefined ? {} : { gzip }),
    });
  }
  return files;
}

/** Sends one file, compressed as the request allows. */
export function sendStatic(
  req: IncomingMessage,
  res: ServerResponse,
  file: StaticFile,
  cacheControl: string,
): void {
  const available: Encoding[] = [];
  if (file.br !== undefined) available.push('br');
  if (file.gzip !== undefined) available.push('gzip');
  const enc = negotiateEncoding(req.headers['accept-encoding'], available);
  const body = enc === 'br' ? file.br : enc === 'gzip' ? file.gzip : file.identity;
  const headers: Record<string, string | number> = {
    'Content-Type': file.type,
    'Content-Length': (body ?? file.identity).length,
    'Cache-Control': cacheControl,
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
  };
  if (enc !== 'identity') headers['Content-Encoding'] = enc;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : (body ?? file.identity));
}
