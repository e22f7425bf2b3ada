import bcrypt from 'bcryptjs';
import { isBcryptHash, parseWebConfig } from '../../../src/http/web-config';
import { AUTH_CACHE_MS, BasicAuth } from '../../../src/http/web-server';

const HASH = bcrypt.hashSync('s3cret', 4);

function problems(text: string): string[] {
  return parseWebConfig(text, '/etc/hostscope').problems;
}

describe('web config (exporter-toolkit format)', () => {
  it('reads a full TLS + basic auth config, paths relative to the file', () => {
    const r = parseWebConfig(
      `tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [prometheus.example.com]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: true
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
basic_auth_users:
  prometheus: '${HASH}'
`,
      '/etc/hostscope',
    );
    expect(r.problems).toEqual([]);
    expect(r.config?.tls).toEqual({
      certFile: '/etc/hostscope/server.crt',
      keyFile: '/abs/server.key',
      clientAuthType: 'RequireAndVerifyClientCert',
      clientCaFile: '/etc/hostscope/ca.crt',
      clientAllowedSans: ['prometheus.example.com'],
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers:
        'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256',
      honorCipherOrder: true,
      ecdhCurve: 'X25519:P-256',
    });
    expect(r.config?.files).toEqual([
      '/etc/hostscope/server.crt',
      '/abs/server.key',
      '/etc/hostscope/ca.crt',
    ]);
    expect([...(r.config?.users ?? [])]).toEqual([['prometheus', HASH]]);
    expect(r.config?.headers).toEqual({ 'X-Frame-Options': 'deny' });
  });

  it('defaults: TLS 1.2 minimum, no client certificate; an empty file is plain HTTP without auth', () => {
    const r = parseWebConfig('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n', '/d');
    expect(r.config?.tls?.minVersion).toBe('TLSv1.2');
    expect(r.config?.tls?.clientAuthType).toBe('NoClientCert');
    const empty = parseWebConfig('# nothing\n', '/d');
    expect(empty.problems).toEqual([]);
    expect(empty.config?.tls).toBeUndefined();
    expect(empty.config?.users.size).toBe(0);
    // Only users: plain HTTP with basic auth, as with the toolkit.
    const users = parseWebConfig(`basic_auth_users:\n  u: ${HASH}\n`, '/d');
    expect(users.config?.tls).toBeUndefined();
    expect(users.config?.users.get('u')).toBe(HASH);
  });

  it('accepts the toolkit alias RequireClientCert', () => {
    const r = parseWebConfig(
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireClientCert\n',
      '/d',
    );
    expect(r.config?.tls?.clientAuthType).toBe('RequireAnyClientCert');
  });

  it.each([
    ['top: 1\n', 'top: unknown key (known here: tls_server_config, http_server_config, basic_auth_users)'],
    ['- a\n', 'expected a mapping at the top level, got a list'],
    ['tls_server_config: 1\n', 'tls_server_config: expected a mapping, got 1'],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n',
      'tls_server_config.certfile: unknown key (known here: cert_file,',
    ],
    [
      'tls_server_config:\n  cert_file: a\n',
      'tls_server_config.key_file: missing (a certificate needs its key)',
    ],
    [
      'tls_server_config:\n  key_file: a\n',
      'tls_server_config.cert_file: missing (a key needs its certificate)',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: c\n',
      'tls_server_config.cert_file and tls_server_config.cert: give one of them, not both',
    ],
    [
      'tls_server_config:\n  cert_file: 3\n  key_file: c\n',
      'tls_server_config.cert_file: expected a string, got 3',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n',
      'tls_server_config.client_auth_type: expected one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert, got "Always"',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n',
      'tls_server_config.client_ca_file: a client CA is configured, but client_auth_type is NoClientCert',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      'tls_server_config.client_ca_file: missing (client_auth_type RequireAndVerifyClientCert verifies against it)',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n',
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAndVerifyClientCert',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS9\n',
      'tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, got "TLS9"',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: SSL3\n',
      'tls_server_config.max_version: expected one of TLS10, TLS11, TLS12, TLS13, got "SSL3"',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n',
      'tls_server_config.max_version: lower than min_version',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_3DES_EDE_CBC_SHA]\n',
      'tls_server_config.cipher_suites: unknown or unsupported cipher suite "TLS_RSA_WITH_3DES_EDE_CBC_SHA"',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: TLS_AES_128_GCM_SHA256\n',
      'tls_server_config.cipher_suites: expected a list of strings, got "TLS_AES_128_GCM_SHA256"',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  prefer_server_cipher_suites: yes\n',
      'tls_server_config.prefer_server_cipher_suites: expected true or false, got "yes"',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP224]\n',
      'tls_server_config.curve_preferences: unknown curve "CurveP224" (supported: CurveP256, CurveP384, CurveP521, X25519)',
    ],
    [
      'tls_server_config:\n  min_version: TLS13\n',
      'tls_server_config.cert_file and key_file: missing (min_version need a certificate to apply)',
    ],
    [
      'http_server_config:\n  http3: true\n',
      'http_server_config.http3: unknown key (known here: http2, headers)',
    ],
    ['http_server_config:\n  http2: 1\n', 'http_server_config.http2: expected true or false, got 1'],
    [
      'http_server_config:\n  headers:\n    Server: x\n',
      'http_server_config.headers.Server: not a header that can be set (allowed: Strict-Transport-Security,',
    ],
    [
      'basic_auth_users: [a]\n',
      'basic_auth_users: expected a mapping of user name to bcrypt hash, got a list',
    ],
    ['basic_auth_users:\n  alice: hunter2\n', 'basic_auth_users.alice: not a bcrypt hash'],
    ['basic_auth_users:\n  "a:b": x\n', 'basic_auth_users: user name "a..." is empty or contains ":"'],
    ['a: 1\na: 2\n', 'invalid YAML: Map keys must be unique at line 2'],
  ])('names the problem in %j', (text, message) => {
    const p = problems(text);
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toContain(message);
  });

  it('reports every problem at once and never echoes a clear-text password', () => {
    const p = problems(
      'tls_server_config:\n  cert_file: a\n  min_version: TLS9\n  bogus: 1\nbasic_auth_users:\n  alice: hunter2\nextra: 1\n',
    );
    expect(p).toHaveLength(5);
    expect(p.join('\n')).not.toContain('hunter2');
  });

  it('recognises bcrypt hashes as Go does', () => {
    expect(isBcryptHash(HASH)).toBe(true);
    expect(isBcryptHash(HASH.replace('$2b$', '$2y$'))).toBe(true);
    expect(isBcryptHash(HASH.replace('$04$', '$03$'))).toBe(false);
    expect(isBcryptHash(HASH.slice(0, -1))).toBe(false);
    expect(isBcryptHash('$1$abc')).toBe(false);
  });
});

describe('basic auth (bcryptjs)', () => {
  const users = new Map([['prom', HASH.replace('$2b$', '$2y$')]]);
  const header = (user: string, pass: string): string =>
    `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

  it('accepts the right password, refuses a wrong one, an unknown user and a malformed header', async () => {
    const auth = new BasicAuth();
    expect(await auth.verify(users, header('prom', 's3cret'))).toBe(true);
    expect(await auth.verify(users, header('prom', 's3cret!'))).toBe(false);
    expect(await auth.verify(users, header('other', 's3cret'))).toBe(false);
    expect(await auth.verify(users, undefined)).toBe(false);
    expect(await auth.verify(users, 'Bearer abc')).toBe(false);
    expect(await auth.verify(users, `Basic ${Buffer.from('nocolon').toString('base64')}`)).toBe(false);
  });

  it('remembers a success for a while, never a wrong password, and forgets it when the hash changes', async () => {
    let now = 1_000_000;
    const auth = new BasicAuth(() => now);
    expect(await auth.verify(users, header('prom', 's3cret'))).toBe(true);
    // A cached success does not let a different password through.
    expect(await auth.verify(users, header('prom', 'wrong'))).toBe(false);
    const changed = new Map([['prom', bcrypt.hashSync('new', 4)]]);
    expect(await auth.verify(changed, header('prom', 's3cret'))).toBe(false);
    expect(await auth.verify(changed, header('prom', 'new'))).toBe(true);
    now += AUTH_CACHE_MS + 1;
    expect(await auth.verify(changed, header('prom', 'new'))).toBe(true);
  });
});
