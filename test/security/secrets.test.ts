import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { encodeWriteRequest } from '../../src/remote/prompb';
import { snappyEncode } from '../../src/remote/snappy';
import { runCli as runToEnd, startExporterProcess } from '../helpers/exporter-process';
import { freePort } from '../helpers/net';
import { hasPostgres, startPostgres, type PgServer } from '../helpers/postgres';
import { describeWithService } from '../helpers/services';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';
import { eventually, query, runCli, type CliProcess } from '../integration/sink/harness';

/**
 * Secrets never reach the logs. The real processes run with passwords given the ways the docs give them
 * (flags' environment variables and their `*_FILE` variants): the database URL's password, the SMTP
 * password, and the basic-auth password of a `--web.config.file` listener (as a scraper and a remote
 * writer send it, and as the sink sends it to a protected target in the target URL). Each is used both
 * rightly and wrongly: a wrong database password, a malformed database URL, an unreachable and a
 * refusing SMTP server, wrong basic-auth passwords, and a web config file holding a plaintext password
 * where a hash belongs; those make error logs. Everything the processes print (stdout and stderr, JSON
 * and logfmt) is then searched for every password: as written, URL-encoded, and base64-encoded alone
 * and in the `user:password` and SASL PLAIN forms that basic auth and SMTP put on the wire.
 */

const DB_PASSWORD = 'Db-S3cret/@:%-7f3a';
const SMTP_PASSWORD = 'Smtp-S3cret-91d2c';
const WEB_PASSWORD = 'Web-S3cret-5be80';
const WRONG = 'Wr0ng-Guess-33aa1';

const PASSWORDS = [DB_PASSWORD, SMTP_PASSWORD, WEB_PASSWORD, WRONG];

/** Every form in which a password could leak. */
function forms(password: string, users: readonly string[]): string[] {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return [
    password,
    encodeURIComponent(password),
    b64(password),
    ...users.flatMap((u) => [b64(`${u}:${password}`), b64(`\u0000${u}\u0000${password}`)]),
  ];
}

const outputs: { what: string; text: string }[] = [];
const keep = (what: string, text: string): void => {
  outputs.push({ what, text });
};

describeWithService('PostgreSQL', hasPostgres, 'secrets never appear in logs', () => {
  let pg: PgServer;
  let dir: string;
  let smtp: SmtpSink;
  const users = ['postgres', 'mailer', 'prometheus', 'writer'];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostscope-secrets-'));
    pg = await startPostgres({ password: DB_PASSWORD });
    smtp = await startSmtpSink({ auth: { username: 'mailer', password: SMTP_PASSWORD } });
    writeFileSync(path.join(dir, 'db-url'), `${pg.url}\n`, { mode: 0o600 });
    writeFileSync(path.join(dir, 'db-url-wrong'), pg.url.replace(encodeURIComponent(DB_PASSWORD), WRONG), {
      mode: 0o600,
    });
    writeFileSync(path.join(dir, 'smtp-password'), `${SMTP_PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(path.join(dir, 'smtp-password-wrong'), `${WRONG}\n`, { mode: 0o600 });
    writeFileSync(
      path.join(dir, 'web.yml'),
      `basic_auth_users:\n  prometheus: '${bcrypt.hashSync(WEB_PASSWORD, 10)}'\n  writer: '${bcrypt.hashSync(WEB_PASSWORD, 10)}'\n`,
    );
  }, 120_000);

  afterAll(async () => {
    await smtp?.stop();
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('database URL: right and wrong passwords, from the environment and a file, and malformed', async () => {
    // `hostscope migrate` with the URL in DATABASE_URL, in HOSTSCOPE_DATABASE_URL_FILE, and wrong.
    const ok = await runToEnd(['migrate', '--log.level=debug'], { DATABASE_URL: pg.url });
    keep('migrate (DATABASE_URL)', ok.stdout + ok.stderr);
    expect(ok.code).toBe(0);
    const fromFile = await runToEnd(['migrate', '--log.level=debug', '--log.format=logfmt'], {
      HOSTSCOPE_DATABASE_URL_FILE: path.join(dir, 'db-url'),
    });
    keep('migrate (HOSTSCOPE_DATABASE_URL_FILE)', fromFile.stdout + fromFile.stderr);
    expect(fromFile.code).toBe(0);
    const wrong = await runToEnd(['migrate', '--log.level=debug'], {
      HOSTSCOPE_DATABASE_URL_FILE: path.join(dir, 'db-url-wrong'),
    });
    keep('migrate (wrong password)', wrong.stdout + wrong.stderr);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toMatch(/password authentication failed/);
    for (const bad of [
      pg.url.replace(/:(\d+)\//, ':notaport/'),
      pg.url.replace('postgres://', 'postgres:/'),
      `${pg.url}?sslmode=bogus`,
    ]) {
      const r = await runToEnd(['migrate', '--log.level=debug'], { HOSTSCOPE_DATABASE_URL: bad });
      keep(`migrate (malformed ${bad.slice(0, 12)})`, r.stdout + r.stderr);
      expect(r.code).not.toBe(0);
    }
  }, 120_000);

  it('a sink with the database password wrong, then right, scraping a basic-auth target', async () => {
    const exporter = await startExporterProcess([
      '--collector.disable-defaults',
      '--collector.loadavg',
      `--web.config.file=${path.join(dir, 'web.yml')}`,
    ]);
    try {
      const target = (password: string): string =>
        `http://prometheus:${encodeURIComponent(password)}@127.0.0.1:${exporter.port}/metrics`;
      // Wrong database password and a wrong target password: errors every round.
      const wrong = runCli(
        [
          'sink',
          '--scrape.interval=1s',
          '--web.listen-address=',
          '--maintain.schedule=',
          '--log.level=debug',
        ],
        {
          HOSTSCOPE_DATABASE_URL_FILE: path.join(dir, 'db-url-wrong'),
          HOSTSCOPE_SCRAPE_TARGET: target(WRONG),
        },
      );
      await wrong.waitFor(/password authentication failed/, 30_000);
      await wrong.waitFor(/scrape failed/, 30_000);
      await stop(wrong);
      keep('sink (wrong passwords)', wrong.output());
      // Right ones: samples reach the database.
      const right = runCli(
        [
          'sink',
          '--scrape.interval=1s',
          '--web.listen-address=',
          '--maintain.schedule=',
          '--log.level=debug',
          '--log.format=logfmt',
        ],
        { DATABASE_URL: pg.url, HOSTSCOPE_SCRAPE_TARGET: target(WEB_PASSWORD) },
      );
      await eventually(
        async () =>
          Number((await query<{ n: string }>(pg.url, 'SELECT count(*) AS n FROM hostscope.samples'))[0]?.n) >
          0,
        'samples scraped through basic auth and written with the database password',
        60_000,
      );
      await stop(right);
      keep('sink (right passwords)', right.output());
    } finally {
      await exporter.stop();
      keep('exporter (basic auth)', exporter.output());
    }
  }, 180_000);

  it('basic auth on the sink listener: remote writes with right and wrong passwords', async () => {
    const port = await freePort();
    const sink = runCli(
      [
        'sink',
        '--scrape.target=',
        '--web.enable-remote-write-receiver',
        `--web.listen-address=127.0.0.1:${port}`,
        `--web.config.file=${path.join(dir, 'web.yml')}`,
        '--maintain.schedule=',
        '--log.level=debug',
      ],
      { DATABASE_URL: pg.url },
    );
    try {
      await sink.waitFor(/hostscope sink started/);
      const body = snappyEncode(
        encodeWriteRequest({
          timeseries: [{ labels: [['__name__', 'secret_test']], timestamps: [Date.now()], values: [1] }],
        }),
      );
      for (const [user, password, status] of [
        ['writer', WEB_PASSWORD, 204],
        ['writer', WRONG, 401],
        ['nobody', WEB_PASSWORD, 401],
        ['writer', `${WEB_PASSWORD}x`, 401],
      ] as const) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/write`, {
          method: 'POST',
          headers: {
            'Content-Encoding': 'snappy',
            'Content-Type': 'application/x-protobuf',
            Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
          },
          body,
        });
        expect(res.status).toBe(status);
      }
    } finally {
      await stop(sink);
      keep('sink (basic auth listener)', sink.output());
    }
  }, 120_000);

  it('a web config file holding a plaintext password, or malformed around it, is refused without echoing it', async () => {
    const files = {
      'plaintext.yml': `basic_auth_users:\n  prometheus: ${WEB_PASSWORD}\n`,
      'quoted.yml': `basic_auth_users:\n  prometheus: '${WEB_PASSWORD}'\n`,
      'flow.yml': `basic_auth_users: {prometheus: ${WEB_PASSWORD}}\n`,
      'indent.yml': `basic_auth_users:\n  prometheus: ${WEB_PASSWORD}\n   bad: indentation ${WEB_PASSWORD}\n`,
      'list.yml': `basic_auth_users:\n  - ${WEB_PASSWORD}\n`,
      'whole-file.yml': `${WEB_PASSWORD}\n`,
      'user-colon-password.yml': `basic_auth_users:\n  "prometheus:${WEB_PASSWORD}": x\n`,
    };
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), text);
      for (const command of ['exporter', 'sink']) {
        const r = await runToEnd(
          [
            command,
            `--web.config.file=${path.join(dir, name)}`,
            '--web.listen-address=127.0.0.1:0',
            '--scrape.target=',
          ].filter((a) => command === 'sink' || a !== '--scrape.target='),
          { DATABASE_URL: pg.url },
        );
        keep(`${command} (web config ${name})`, r.stdout + r.stderr);
        expect(r.code).toBe(2);
      }
    }
  }, 120_000);

  it('SMTP: a report sent with the right password, refused with a wrong one, and an unreachable server', async () => {
    const base = [
      'report',
      '--once',
      '--report.to=ops@example.com',
      '--smtp.host=127.0.0.1',
      '--smtp.tls=none',
      '--smtp.username=mailer',
      '--smtp.retries=1',
      '--smtp.retry-backoff=100ms',
      '--smtp.timeout=3s',
      '--log.level=debug',
    ];
    const sent = await runToEnd([...base, `--smtp.port=${smtp.port}`], {
      DATABASE_URL: pg.url,
      HOSTSCOPE_SMTP_PASSWORD: SMTP_PASSWORD,
    });
    keep('report (right password)', sent.stdout + sent.stderr);
    expect(sent.code).toBe(0);
    expect(smtp.mails.length).toBeGreaterThan(0);
    const refused = await runToEnd([...base, `--smtp.port=${smtp.port}`], {
      DATABASE_URL: pg.url,
      HOSTSCOPE_SMTP_PASSWORD_FILE: path.join(dir, 'smtp-password-wrong'),
    });
    keep('report (wrong password)', refused.stdout + refused.stderr);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/Invalid username or password|EAUTH/);
    const unreachable = await runToEnd([...base, `--smtp.port=${await freePort()}`], {
      DATABASE_URL: pg.url,
      HOSTSCOPE_SMTP_PASSWORD_FILE: path.join(dir, 'smtp-password'),
    });
    keep('report (unreachable server)', unreachable.stdout + unreachable.stderr);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stdout + unreachable.stderr).toMatch(/ECONNREFUSED/);
  }, 120_000);

  it('no password appears in anything the processes printed', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(15);
    expect(outputs.every((o) => o.text.length > 0)).toBe(true);
    const leaks: string[] = [];
    for (const { what, text } of outputs)
      for (const password of PASSWORDS)
        for (const form of forms(password, users))
          if (text.includes(form)) leaks.push(`${what}: ${JSON.stringify(form)} (password ${password})`);
    expect(leaks).toEqual([]);
  });
});

async function stop(p: CliProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
}
