import * as path from 'node:path';
import type { SecureVersion } from 'node:tls';
import type * as Yaml from 'yaml';

/** What a YAML document parses to. */
type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

/**
 * The `--web.config.file` of node_exporter, Prometheus and Alertmanager (Prometheus' exporter-toolkit
 * format, https://prometheus.io/docs/prometheus/latest/configuration/https/): TLS of the listener and
 * HTTP basic auth with bcrypt hashes. This module is the pure part: YAML text in, a validated config or
 * every problem out. Unknown keys are errors, as the toolkit's strict unmarshalling makes them. Reading
 * the files and serving are in web-server.ts.
 */

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/**
 * Go's cipher suite names (crypto/tls, what the toolkit accepts) and OpenSSL's names for them (what
 * Node takes). The TLS 1.3 suites are not configurable in Go (they are always on); listed, they are
 * accepted and passed on. Go's 3DES and RC4 suites are refused: Node's OpenSSL 3 does not offer them.
 */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

/** The TLS 1.3 suites, always on as in Go, when cipher_suites names none of them. */
export const TLS13_SUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];

/** Go's curve names and OpenSSL's. */
export const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/** The response headers the toolkit lets http_server_config.headers set. */
export const SETTABLE_HEADERS = [
  'Strict-Transport-Security',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-XSS-Protection',
  'Content-Security-Policy',
] as const;

export interface TlsServerConfig {
  /** Certificate and key: file paths (resolved against the config file's directory) or inline PEM. */
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly clientAuthType: ClientAuthType;
  readonly clientCaFile?: string;
  readonly clientAllowedSans: readonly string[];
  readonly minVersion: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** OpenSSL names, TLS 1.3 suites included; undefined: Node's defaults. */
  readonly ciphers?: string;
  readonly honorCipherOrder: boolean;
  /** OpenSSL curve list, e.g. "X25519:P-256"; undefined: Node's default. */
  readonly ecdhCurve?: string;
}

export interface WebConfig {
  /** Undefined: plain HTTP (the toolkit's behaviour when no certificate is configured). */
  readonly tls?: TlsServerConfig;
  /** User name -> bcrypt hash; empty: no authentication. */
  readonly users: ReadonlyMap<string, string>;
  readonly headers: Readonly<Record<string, string>>;
  /** Files this config refers to (certificate, key, client CA), for reloading when they change. */
  readonly files: readonly string[];
}

export type WebConfigResult =
  { config: WebConfig; problems: [] } | { config?: undefined; problems: string[] };

type Obj = { [key: string]: YamlValue };

function isObject(v: YamlValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeValue(v: YamlValue | undefined): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * What kind of value `v` is, without its content: for the places a clear-text password may have been
 * put by mistake (the whole file, basic_auth_users), whose content must never reach a log.
 */
function kindOf(v: YamlValue | undefined): string {
  if (v === undefined || v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

/** Reports keys of `obj` that are not in `known`, as `where.key`. */
function unknownKeys(obj: Obj, known: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(obj))
    if (!known.includes(key)) problems.push(`${where}${key}: unknown key (known here: ${known.join(', ')})`);
}

function optionalString(obj: Obj, key: string, where: string, problems: string[]): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    problems.push(`${where}${key}: expected a string, got ${describeValue(v)}`);
    return undefined;
  }
  return v;
}

function stringList(obj: Obj, key: string, where: string, problems: string[]): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    problems.push(`${where}${key}: expected a list of strings, got ${describeValue(v)}`);
    return [];
  }
  return v as string[];
}

function optionalBoolean(obj: Obj, key: string, where: string, problems: string[]): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') {
    problems.push(`${where}${key}: expected true or false, got ${describeValue(v)}`);
    return false;
  }
  return v;
}

function tlsVersion(obj: Obj, key: string, where: string, problems: string[]): SecureVersion | undefined {
  const v = optionalString(obj, key, where, problems);
  if (v === undefined) return undefined;
  const version = TLS_VERSIONS[v];
  if (version === undefined)
    problems.push(`${where}${key}: expected one of ${Object.keys(TLS_VERSIONS).join(', ')}, got "${v}"`);
  return version;
}

const TLS_KEYS = [
  'cert_file',
  'key_file',
  'cert',
  'key',
  'client_auth_type',
  'client_ca_file',
  'client_allowed_sans',
  'min_version',
  'max_version',
  'cipher_suites',
  'prefer_server_cipher_suites',
  'curve_preferences',
];

function parseTls(
  obj: Obj,
  baseDir: string,
  problems: string[],
  files: string[],
): TlsServerConfig | undefined {
  const where = 'tls_server_config.';
  unknownKeys(obj, TLS_KEYS, where, problems);
  const resolve = (p: string | undefined): string | undefined => {
    if (p === undefined) return undefined;
    const abs = path.resolve(baseDir, p);
    files.push(abs);
    return abs;
  };
  const certFile = resolve(optionalString(obj, 'cert_file', where, problems));
  const keyFile = resolve(optionalString(obj, 'key_file', where, problems));
  const cert = optionalString(obj, 'cert', where, problems);
  const key = optionalString(obj, 'key', where, problems);
  if (certFile !== undefined && cert !== undefined)
    problems.push(`${where}cert_file and ${where}cert: give one of them, not both`);
  if (keyFile !== undefined && key !== undefined)
    problems.push(`${where}key_file and ${where}key: give one of them, not both`);
  const hasCert = certFile !== undefined || cert !== undefined;
  const hasKey = keyFile !== undefined || key !== undefined;
  if (hasCert && !hasKey) problems.push(`${where}key_file: missing (a certificate needs its key)`);
  if (hasKey && !hasCert) problems.push(`${where}cert_file: missing (a key needs its certificate)`);

  const authRaw = optionalString(obj, 'client_auth_type', where, problems) ?? 'NoClientCert';
  // The toolkit's backwards-compatible alias.
  const authName = authRaw === 'RequireClientCert' ? 'RequireAnyClientCert' : authRaw;
  const clientAuthType = (CLIENT_AUTH_TYPES as readonly string[]).includes(authName)
    ? (authName as ClientAuthType)
    : undefined;
  if (clientAuthType === undefined)
    problems.push(
      `${where}client_auth_type: expected one of ${CLIENT_AUTH_TYPES.join(', ')}, got "${authRaw}"`,
    );
  const clientCaFile = resolve(optionalString(obj, 'client_ca_file', where, problems));
  if (clientCaFile !== undefined && clientAuthType === 'NoClientCert')
    problems.push(
      `${where}client_ca_file: a client CA is configured, but client_auth_type is NoClientCert (set client_auth_type, e.g. RequireAndVerifyClientCert)`,
    );
  if (
    clientCaFile === undefined &&
    (clientAuthType === 'RequireAndVerifyClientCert' || clientAuthType === 'VerifyClientCertIfGiven')
  )
    problems.push(`${where}client_ca_file: missing (client_auth_type ${clientAuthType} verifies against it)`);
  const clientAllowedSans = stringList(obj, 'client_allowed_sans', where, problems);
  if (clientAllowedSans.length > 0 && clientAuthType !== 'RequireAndVerifyClientCert')
    problems.push(`${where}client_allowed_sans: needs client_auth_type RequireAndVerifyClientCert`);

  const minVersion = tlsVersion(obj, 'min_version', where, problems) ?? 'TLSv1.2';
  const maxVersion = tlsVersion(obj, 'max_version', where, problems);
  const order = Object.values(TLS_VERSIONS);
  if (maxVersion !== undefined && order.indexOf(maxVersion) < order.indexOf(minVersion))
    problems.push(`${where}max_version: lower than min_version`);

  let ciphers: string | undefined;
  const suites = stringList(obj, 'cipher_suites', where, problems);
  if (suites.length > 0) {
    const names: string[] = [];
    for (const s of suites) {
      const openssl = CIPHER_SUITES[s];
      if (openssl === undefined)
        problems.push(
          `${where}cipher_suites: unknown or unsupported cipher suite "${s}" (supported: ${Object.keys(CIPHER_SUITES).join(', ')})`,
        );
      else if (!names.includes(openssl)) names.push(openssl);
    }
    if (!names.some((n) => n.startsWith('TLS_'))) names.unshift(...TLS13_SUITES);
    ciphers = names.join(':');
  }
  const honorCipherOrder = optionalBoolean(obj, 'prefer_server_cipher_suites', where, problems);

  let ecdhCurve: string | undefined;
  const curves = stringList(obj, 'curve_preferences', where, problems);
  if (curves.length > 0) {
    const names: string[] = [];
    for (const c of curves) {
      const openssl = CURVES[c];
      if (openssl === undefined)
        problems.push(
          `${where}curve_preferences: unknown curve "${c}" (supported: ${Object.keys(CURVES).join(', ')})`,
        );
      else names.push(openssl);
    }
    ecdhCurve = names.join(':');
  }

  if (!hasCert && !hasKey) {
    // The toolkit serves plain HTTP when no certificate is configured; other TLS settings would be ignored.
    const set = Object.keys(obj).filter((k) => obj[k] !== null && obj[k] !== '' && TLS_KEYS.includes(k));
    if (set.length > 0)
      problems.push(
        `${where}cert_file and key_file: missing (${set.join(', ')} need a certificate to apply)`,
      );
    return undefined;
  }
  return {
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    clientAuthType: clientAuthType ?? 'NoClientCert',
    ...(clientCaFile === undefined ? {} : { clientCaFile }),
    clientAllowedSans,
    minVersion,
    ...(maxVersion === undefined ? {} : { maxVersion }),
    ...(ciphers === undefined ? {} : { ciphers }),
    honorCipherOrder,
    ...(ecdhCurve === undefined ? {} : { ecdhCurve }),
  };
}

/** A bcrypt hash as the toolkit's Go bcrypt accepts it: $2a$, $2b$ or $2y$, cost 4 to 31, 53 characters. */
export function isBcryptHash(hash: string): boolean {
  const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(hash);
  return m !== null && Number(m[1]) >= 4 && Number(m[1]) <= 31;
}

function parseUsers(v: YamlValue, problems: string[]): Map<string, string> {
  const users = new Map<string, string>();
  if (v === null) return users;
  if (!isObject(v)) {
    problems.push(`basic_auth_users: expected a mapping of user name to bcrypt hash, got ${kindOf(v)}`);
    return users;
  }
  for (const [user, hash] of Object.entries(v)) {
    if (user === '' || user.includes(':')) {
      // Only what comes before a colon: `user:password` may have been written as the name.
      problems.push(`basic_auth_users: user name "${user.split(':')[0] ?? ''}..." is empty or contains ":"`);
      continue;
    }
    if (typeof hash !== 'string' || !isBcryptHash(hash)) {
      // Never echo what was given: it may be a clear-text password put there by mistake.
      problems.push(
        `basic_auth_users.${user}: not a bcrypt hash (expected $2y$/$2a$/$2b$, cost 4-31, 60 characters; make one with htpasswd -nBC 10 "" or bcryptjs)`,
      );
      continue;
    }
    users.set(user, hash);
  }
  return users;
}

function parseHttp(v: YamlValue, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (v === null) return headers;
  const where = 'http_server_config.';
  if (!isObject(v)) {
    problems.push(`http_server_config: expected a mapping, got ${describeValue(v)}`);
    return headers;
  }
  unknownKeys(v, ['http2', 'headers'], where, problems);
  if (v.http2 !== undefined && v.http2 !== null && typeof v.http2 !== 'boolean')
    problems.push(`${where}http2: expected true or false, got ${describeValue(v.http2)}`);
  const h = v.headers;
  if (h === undefined || h === null) return headers;
  if (!isObject(h)) {
    problems.push(`${where}headers: expected a mapping of header to value, got ${describeValue(h)}`);
    return headers;
  }
  for (const [name, value] of Object.entries(h)) {
    const known = SETTABLE_HEADERS.find((s) => s.toLowerCase() === name.toLowerCase());
    if (known === undefined) {
      problems.push(
        `${where}headers.${name}: not a header that can be set (allowed: ${SETTABLE_HEADERS.join(', ')})`,
      );
      continue;
    }
    if (typeof value !== 'string' || /[\r\n]/.test(value)) {
      problems.push(`${where}headers.${name}: expected a one-line string, got ${describeValue(value)}`);
      continue;
    }
    headers[known] = value;
  }
  return headers;
}

/**
 * The `yaml` library, loaded with the first web config file: ~70 modules (~1.5 MB resident) that an
 * exporter without --web.config.file never runs.
 */
function yaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof Yaml;
}

/**
 * Parses and validates a web config file's text. Relative paths are resolved against `baseDir` (the
 * file's directory), as the toolkit does. Returns every problem at once, each naming its key.
 */
export function parseWebConfig(text: string, baseDir: string): WebConfigResult {
  // The `yaml` library (YAML 1.2, duplicate keys refused); errors name the line and column.
  const { parse, YAMLError } = yaml();
  let doc: YamlValue;
  try {
    doc = (parse(text, { uniqueKeys: true, prettyErrors: true }) ?? null) as YamlValue;
  } catch (err) {
    return {
      problems: [
        err instanceof YAMLError ? `invalid YAML: ${err.message.split('\n')[0] ?? ''}` : String(err),
      ],
    };
  }
  const problems: string[] = [];
  const files: string[] = [];
  if (doc === null) doc = {};
  if (!isObject(doc)) return { problems: [`expected a mapping at the top level, got ${kindOf(doc)}`] };
  unknownKeys(doc, ['tls_server_config', 'http_server_config', 'basic_auth_users'], '', problems);
  let tls: TlsServerConfig | undefined;
  const t = doc.tls_server_config;
  if (t !== undefined && t !== null) {
    if (isObject(t)) tls = parseTls(t, baseDir, problems, files);
    else problems.push(`tls_server_config: expected a mapping, got ${describeValue(t)}`);
  }
  const users = parseUsers(doc.basic_auth_users ?? null, problems);
  const headers = parseHttp(doc.http_server_config ?? null, problems);
  if (problems.length > 0) return { problems };
  return { config: { ...(tls === undefined ? {} : { tls }), users, headers, files }, problems: [] };
}
