import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';

export const OPENSSL = '/usr/bin/openssl';

export interface TestPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throwaway PKI made with the real openssl: a CA, a server certificate for 127.0.0.1 and localhost,
 * and a client certificate, all signed by the CA. `name` prefixes the server files (a second server
 * certificate replaces the first to test a reload).
 */
export function makePki(dir: string, name = 'server'): TestPki {
  const p = (f: string): string => path.join(dir, f);
  if (name === 'server') {
    openssl(
      dir,
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat([
        '-days',
        '2',
        '-subj',
        '/CN=hostscope test CA',
      ]),
    );
    writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\nsubjectAltName=DNS:prometheus.test\n');
    openssl(
      dir,
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr'].concat([
        '-subj',
        '/CN=prometheus',
      ]),
    );
    openssl(
      dir,
      ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'].concat([
        '-CAcreateserial',
        '-out',
        'client.crt',
        '-days',
        '2',
        '-extfile',
        'client.ext',
      ]),
    );
  }
  writeFileSync(p(`${name}.ext`), 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    dir,
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`].concat([
      '-subj',
      `/CN=${name}`,
    ]),
  );
  openssl(
    dir,
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]),
  );
  return {
    caCert: p('ca.crt'),
    serverCert: p(`${name}.crt`),
    serverKey: p(`${name}.key`),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The server certificate's serial number (hex), to see which certificate served. */
  readonly serial: string;
}

/** One HTTPS request on a fresh connection (no keep-alive), trusting `ca`. */
export function httpsRequest(
  url: string,
  options: {
    ca: Buffer;
    auth?: string;
    method?: string;
    body?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    headers?: Record<string, string>;
  },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        agent: false,
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        headers: {
          ...(options.headers ?? {}),
          ...(options.auth === undefined
            ? {}
            : { Authorization: `Basic ${Buffer.from(options.auth).toString('base64')}` }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            serial,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
