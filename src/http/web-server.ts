import type * as Crypto from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type * as Https from 'node:https';
import * as path from 'node:path';
import type * as Tls from 'node:tls';
import type * as Bcrypt from 'bcryptjs';
import type { FlagSpec } from '../config/flags';
import { ConfigError, describe } from '../errors';
import type { Logger } from '../log/logger';
import { parseWebConfig, type WebConfig } from './web-config';

/**
 * Serving with `--web.config.file` (exporter-toolkit format, see web-config.ts): HTTPS when the file
 * configures a certificate, basic auth when it lists users. Like the toolkit, the file and the files it
 * names are looked at again on every new connection and every request: a changed certificate, key, client
 * CA, TLS setting, user or password applies without a restart. A file that became invalid is logged and
 * the last valid one stays in force. Turning TLS on or off, or changing client_auth_type, needs a
 * restart (the listener's kind and its certificate request are fixed when it opens); that is logged too.
 */

export const WEB_CONFIG_FLAG: FlagSpec = {
  name: 'web.config.file',
  kind: 'string',
  default: '',
  help: 'Path to a web config file (the exporter-toolkit format of node_exporter and Prometheus) with TLS (tls_server_config) and basic auth (basic_auth_users, bcrypt hashes) for this listener; see docs/security.md. Re-read on every connection and request. Empty: plain HTTP, no authentication.',
};

/* eslint-disable @typescript-eslint/no-require-imports */
// Loaded with the first web config that uses them: node:tls, node:https and node:crypto bring ~25 of
// Node's own modules and OpenSSL's bindings, ~2 MB resident in an exporter that serves plain HTTP, and
// bcryptjs is needed only for a password to check.
const loadTls = (): typeof Tls => require('node:tls') as typeof Tls;
const loadHttps = (): typeof Https => require('node:https') as typeof Https;
const loadCrypto = (): typeof Crypto => require('node:crypto') as typeof Crypto;
const loadBcrypt = (): typeof Bcrypt => require('bcryptjs') as typeof Bcrypt;
/* eslint-enable @typescript-eslint/no-require-imports */

export interface LoadedWebConfig {
  readonly config: WebConfig;
  /** Certificate, key and client CA, read; undefined without TLS. */
  readonly secure?: Tls.SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean };
}

function readPem(file: string, what: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    problems.push(`tls_server_config.${what}: cannot read "${file}": ${describe(err)}`);
    return undefined;
  }
}

/** Reads and validates a web config file and the files it names; returns every problem. */
export function loadWebConfig(file: string): { loaded?: LoadedWebConfig; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problems: [`cannot read it: ${describe(err)}`] };
  }
  const parsed = parseWebConfig(text, path.dirname(path.resolve(file)));
  if (parsed.config === undefined) return { problems: parsed.problems };
  const config = parsed.config;
  const tls = config.tls;
  if (tls === undefined) return { loaded: { config }, problems: [] };
  const problems: string[] = [];
  const cert = tls.certFile === undefined ? tls.cert : readPem(tls.certFile, 'cert_file', problems);
  const key = tls.keyFile === undefined ? tls.key : readPem(tls.keyFile, 'key_file', problems);
  const ca =
    tls.clientCaFile === undefined ? undefined : readPem(tls.clientCaFile, 'client_ca_file', problems);
  if (problems.length > 0) return { problems };
  const secure = {
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    minVersion: tls.minVersion,
    ...(tls.maxVersion === undefined ? {} : { maxVersion: tls.maxVersion }),
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
    honorCipherOrder: tls.honorCipherOrder,
    ...(tls.ecdhCurve === undefined ? {} : { ecdhCurve: tls.ecdhCurve }),
    requestCert: tls.clientAuthType !== 'NoClientCert',
    rejectUnauthorized: tls.clientAuthType === 'RequireAndVerifyClientCert',
  };
  try {
    // Mismatched key and certificate, a bad PEM or cipher list: found now, not at the first handshake.
    loadTls().createSecureContext(secure);
  } catch (err) {
    return {
      problems: [`tls_server_config: the certificate, key or settings are not usable: ${describe(err)}`],
    };
  }
  return { loaded: { config, secure }, problems: [] };
}

/** Loads the file named by --web.config.file at start; throws ConfigError naming every problem (exit 2). */
export function loadWebConfigOrThrow(file: string, flag = '--web.config.file'): LoadedWebConfig {
  const r = loadWebConfig(file);
  if (r.loaded === undefined) throw new ConfigError(r.problems.map((p) => `${flag} "${file}": ${p}`));
  return r.loaded;
}

function signature(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/** The current web config: re-read when the file, or a file it names, changed since the last look. */
export class WebConfigWatcher {
  private signature: string;
  private failedSignature = '';
  private loaded: LoadedWebConfig;
  /** Bumped on each successful reload, so listeners see when to renew their TLS context. */
  generation = 0;

  constructor(
    readonly file: string,
    initial: LoadedWebConfig,
    private readonly logger: Logger,
  ) {
    this.loaded = initial;
    this.signature = signature([file, ...initial.config.files]);
  }

  current(): LoadedWebConfig {
    const now = signature([this.file, ...this.loaded.config.files]);
    if (now === this.signature || now === this.failedSignature) return this.loaded;
    const r = loadWebConfig(this.file);
    if (r.loaded === undefined) {
      this.failedSignature = now;
      this.logger.error(
        { file: this.file, problems: r.problems },
        'web config file is invalid; the last valid one stays in force',
      );
      return this.loaded;
    }
    const next = r.loaded;
    if ((next.secure === undefined) !== (this.loaded.secure === undefined)) {
      this.failedSignature = now;
      this.logger.error(
        { file: this.file },
        'web config file turns TLS on or off; that needs a restart, the last valid config stays in force',
      );
      return this.loaded;
    }
    if (
      next.secure !== undefined &&
      next.config.tls?.clientAuthType !== this.loaded.config.tls?.clientAuthType
    )
      this.logger.warn(
        { file: this.file },
        'client_auth_type changed; the new value applies after a restart (certificates and the rest apply now)',
      );
    this.loaded = next;
    this.signature = signature([this.file, ...next.config.files]);
    this.failedSignature = '';
    this.generation++;
    this.logger.info(
      { file: this.file, users: next.config.users.size, tls: next.secure !== undefined },
      'web config reloaded',
    );
    return next;
  }
}

/** A bcrypt hash of no password anyone has, compared against for unknown users so they take as long. */
const DUMMY_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';

/** How long a verified user:password stays verified without a new bcrypt (the toolkit caches too). */
export const AUTH_CACHE_MS = 60_000;
const AUTH_CACHE_MAX = 100;

/**
 * Basic auth against bcrypt hashes. bcrypt is slow by design (tens of milliseconds at cost 10), too slow
 * for every scrape and remote write request, so a success is remembered for AUTH_CACHE_MS as a SHA-256
 * digest of user, hash and password, and compared in constant time. A changed hash never matches a
 * digest made with the old one.
 */
export class BasicAuth {
  private readonly cache = new Map<string, { digest: Buffer; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async verify(users: ReadonlyMap<string, string>, header: string | undefined): Promise<boolean> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (m === null) return false;
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = users.get(user);
    const digest = loadCrypto()
      .createHash('sha256')
      .update(`${user}\0${hash ?? ''}\0`)
      .update(password)
      .digest();
    const cached = this.cache.get(user);
    if (hash !== undefined && cached !== undefined && cached.expires > this.now()) {
      if (loadCrypto().timingSafeEqual(cached.digest, digest)) return true;
    }
    const ok = await loadBcrypt().compare(password, hash ?? DUMMY_HASH);
    if (!ok || hash === undefined) return false;
    if (this.cache.size >= AUTH_CACHE_MAX && !this.cache.has(user)) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(user, { digest, expires: this.now() + AUTH_CACHE_MS });
    return true;
  }
}

/**
 * Wraps a request handler (an express app) with the web config's basic auth and response headers:
 * 401 with `WWW-Authenticate: Basic` on a missing or wrong password, before the handler sees the request.
 */
export function withWebConfig(
  handler: http.RequestListener,
  current: () => LoadedWebConfig,
  auth = new BasicAuth(),
  onUnauthorized: (req: http.IncomingMessage) => void = () => undefined,
): http.RequestListener {
  return (req, res) => {
    const { config } = current();
    for (const [name, value] of Object.entries(config.headers)) res.setHeader(name, value);
    if (config.users.size === 0) {
      handler(req, res);
      return;
    }
    auth.verify(config.users, req.headers.authorization).then(
      (ok) => {
        if (ok) handler(req, res);
        else {
          onUnauthorized(req);
          // Drain what the client sends (a remote write body) before answering, so the answer is read.
          req.resume();
          res.writeHead(401, { 'WWW-Authenticate': 'Basic', 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('Unauthorized\n');
        }
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`authentication failed: ${describe(err)}\n`);
      },
    );
  };
}

/** Names in a certificate's subjectaltname ("DNS:a, IP Address:1.2.3.4, email:x, URI:y"). */
function subjectAltNames(text: string | undefined): string[] {
  return (text ?? '')
    .split(/,\s*/)
    .map((s) => s.slice(s.indexOf(':') + 1))
    .filter((s) => s !== '');
}

/**
 * Bounds of every listener (the exporter's and the sink's), against slow and oversized requests. A
 * client that sends its headers slowly (slowloris) is cut after HEADERS_TIMEOUT_MS, one that sends its
 * body slowly after REQUEST_TIMEOUT_MS, headers over MAX_HEADER_BYTES get 431; an idle keep-alive
 * connection closes after KEEP_ALIVE_TIMEOUT_MS, and a connection on which nothing moves either way (a
 * client that stops reading its answer) after IDLE_SOCKET_TIMEOUT_MS. Node enforces the first two
 * every CONNECTIONS_CHECK_MS. Bodies are bounded by each route (413). See docs/security.md.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Prometheus gives up on a remote write after its remote_timeout, 30 s by default. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const MAX_HEADER_BYTES = 16 * 1024;
/** Longer than the usual scrape intervals (15 s, 30 s), so scrapes keep their connection. */
export const KEEP_ALIVE_TIMEOUT_MS = 35_000;
/** Longer than Prometheus' default remote read timeout (1 min): a long read computing its answer. */
export const IDLE_SOCKET_TIMEOUT_MS = 120_000;
export const CONNECTIONS_CHECK_MS = 1_000;

const SERVER_OPTIONS: http.ServerOptions = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  maxHeaderSize: MAX_HEADER_BYTES,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
};

/**
 * Creates the HTTP or HTTPS server for `handler` under the web config (none: plain HTTP, as before) and
 * listens, with the bounds above. The caller's handler stays unaware of TLS and auth.
 */
export function listenWeb(
  handler: http.RequestListener,
  host: string | undefined,
  port: number,
  web: WebConfigWatcher | undefined,
  /** Told of every request refused with 401 (the sink counts those for its endpoints). */
  onUnauthorized?: (req: http.IncomingMessage) => void,
): Promise<http.Server> {
  let server: http.Server;
  if (web === undefined) server = http.createServer(SERVER_OPTIONS, handler);
  else {
    const initial = web.current();
    const wrapped = withWebConfig(handler, () => web.current(), new BasicAuth(), onUnauthorized);
    if (initial.secure === undefined) server = http.createServer(SERVER_OPTIONS, wrapped);
    else {
      const tlsServer = loadHttps().createServer({ ...SERVER_OPTIONS, ...initial.secure }, wrapped);
      let generation = web.generation;
      // Before the TLS handshake of every new connection: pick up a changed certificate or setting.
      tlsServer.prependListener('connection', () => {
        const now = web.current();
        if (web.generation !== generation && now.secure !== undefined) {
          generation = web.generation;
          tlsServer.setSecureContext(now.secure);
        }
      });
      tlsServer.on('secureConnection', (socket: Tls.TLSSocket) => {
        const tls = web.current().config.tls;
        if (tls === undefined) return;
        const type = initial.config.tls?.clientAuthType;
        const peer = socket.getPeerCertificate();
        const presented = peer !== null && Object.keys(peer).length > 0;
        let ok = true;
        if (type === 'RequireAnyClientCert' && !presented) ok = false;
        if (type === 'VerifyClientCertIfGiven' && presented && !socket.authorized) ok = false;
        if (type === 'RequireAndVerifyClientCert' && tls.clientAllowedSans.length > 0) {
          const names = subjectAltNames(peer.subjectaltname);
          ok = names.some((n) => tls.clientAllowedSans.includes(n));
        }
        if (!ok) socket.destroy();
      });
      server = tlsServer;
    }
  }
  server.setTimeout(IDLE_SOCKET_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    server.once('listening', () => resolve(server));
    server.once('error', reject);
    server.listen(port, host ?? '::');
  });
}

/** The watcher for a --web.config.file value ("" or undefined: none), loaded now (ConfigError if invalid). */
export function webConfigWatcher(file: string | undefined, logger: Logger): WebConfigWatcher | undefined {
  if (file === undefined || file === '') return undefined;
  return new WebConfigWatcher(file, loadWebConfigOrThrow(file), logger.child({ component: 'web-config' }));
}
