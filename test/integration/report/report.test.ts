/**
 * `hostscope report` end to end: a private PostgreSQL filled by `hostscope seed` (metrics and alert
 * history), maintained into rollups; the built CLI renders a report (--dry-run: .eml, HTML, PNGs), a real
 * Chromium (Debian's, driven by puppeteer-core) lays the HTML part out at phone width and its screenshot is
 * checked; then one mail is sent to an SMTP server in the test and its figures are compared with SQL
 * computed here independently from the per-scrape tables. SMTP refusals and timeouts (a server that
 * accepts the connection and never answers) are retried with backoff, and a scheduled report that failed
 * does not stop the next one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import puppeteer from 'puppeteer-core';
import { SMTPServer } from 'smtp-server';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { CLI, runCli } from '../../helpers/exporter-process';
import { hasPostgres, startPostgres, type PgServer } from '../../helpers/postgres';
import { waitFor } from '../../helpers/prometheus';
import { describeWithService } from '../../helpers/services';
import { parseMail, startSmtpSink, type SmtpSink } from '../../helpers/smtp';

const CHROMIUM = '/usr/bin/chromium';
const available = (): boolean => hasPostgres() && existsSync(CLI) && existsSync(CHROMIUM);

const pct = (v: number): string => `${v.toFixed(1)} %`;

describeWithService('PostgreSQL, Chromium and a built dist/', available, 'hostscope report', () => {
  let pg: PgServer;
  let db: Client;
  const work = mkdtempSync(path.join(tmpdir(), 'hs-report-'));

  beforeAll(async () => {
    pg = await startPostgres();
    const seed = await runCli([
      'seed',
      '--hosts=3',
      '--days=15',
      '--seed.interval=5m',
      `--database.url=${pg.url}`,
      '--log.level=warn',
    ]);
    if (seed.code !== 0) throw new Error(`seed failed: ${seed.stderr}`);
    db = new Client({ connectionString: pg.url });
    await db.connect();
  }, 600_000);

  afterAll(async () => {
    await db?.end();
    await pg?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  const report = (args: string[]): ReturnType<typeof runCli> =>
    runCli([
      'report',
      `--database.url=${pg.url}`,
      '--report.grafana-url=https://grafana.example.com',
      ...args,
    ]);

  it('refuses invalid flags with exit 2, naming every problem', async () => {
    const r = await runCli([
      'report',
      '--once',
      '--report.period=5m',
      '--report.schedule=every monday',
      '--report.timezone=Mars/Olympus',
      '--report.to=not-an-address',
      '--smtp.tls=sometimes',
      '--smtp.username=u',
    ]);
    expect(r.code).toBe(2);
    for (const text of ['--smtp.tls', 'expected one of starttls|tls|none']) expect(r.stderr).toContain(text);
    const r2 = await runCli([
      'report',
      '--once',
      '--report.period=5m',
      '--report.schedule=every monday',
      '--report.timezone=Mars/Olympus',
      '--report.to=not-an-address',
      '--smtp.username=u',
    ]);
    expect(r2.code).toBe(2);
    for (const text of [
      '--report.period',
      '--report.schedule',
      'Mars/Olympus',
      'not-an-address',
      '--smtp.host',
      '--smtp.password',
    ])
      expect(r2.stderr).toContain(text);
  });

  it('--dry-run writes the mail (.eml with HTML, text and inline PNGs), and it lays out on a phone', async () => {
    const out = path.join(work, 'dry');
    const r = await report(['--dry-run', `--out=${out}`, '--log.level=info']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual(
      [
        'filesystems.png',
        'host-seed-host-01-9100.png',
        'host-seed-host-02-9100.png',
        'host-seed-host-03-9100.png',
        'report.eml',
        'report.html',
        'report.txt',
      ].sort(),
    );
    for (const f of files.filter((x) => x.endsWith('.png')))
      expect(readFileSync(path.join(out, f)).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const eml = readFileSync(path.join(out, 'report.eml'), 'utf8');
    expect(eml).toMatch(/Content-Type: multipart\/related/i);
    expect(eml).toMatch(/Content-Type: text\/plain/i);
    expect(eml).toMatch(/Content-Type: text\/html/i);
    expect(eml).toMatch(/Content-Id: <filesystems@hostscope>/i);
    const html = parseMail(eml).html;
    expect(html).toContain('src="cid:host-seed-host-01-9100@hostscope"');
    expect(html).toContain('https://grafana.example.com/d/hostscope-host?var-instance=seed-host-01%3A9100');

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        `--user-data-dir=${path.join(work, 'chrome')}`,
      ],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 375, height: 800, deviceScaleFactor: 1 });
      await page.goto(`file://${path.join(out, 'report.html')}`, { waitUntil: 'load' });
      // A string, evaluated in the page (the test's TypeScript has no DOM types).
      const layout = (await page.evaluate(`({
        scrollWidth: document.documentElement.scrollWidth,
        images: [...document.images].map((i) => ({ w: i.naturalWidth, shown: i.getBoundingClientRect().width })),
        tables: [...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right),
        headings: [...document.querySelectorAll('h2')].map((h) => (h.textContent || '').replace(/\\s*Grafana.*$/, '')),
      })`)) as {
        scrollWidth: number;
        images: { w: number; shown: number }[];
        tables: number[];
        headings: string[];
      };
      // Nothing wider than the phone: no horizontal scrolling, every chart loaded and scaled down.
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      expect(layout.images).toHaveLength(4);
      for (const i of layout.images) {
        expect(i.w).toBe(1280);
        expect(i.shown).toBeGreaterThan(300);
        expect(i.shown).toBeLessThanOrEqual(375);
      }
      for (const right of layout.tables) expect(right).toBeLessThanOrEqual(375);
      expect(layout.headings).toEqual(['Alerts', 'Hosts', 'Filesystems', 'Containers']);
      const shot = await page.screenshot({ fullPage: true, path: path.join(out, 'phone.png') });
      expect(Buffer.from(shot).length).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('mails one report whose figures match SQL computed independently', async () => {
    const smtp: SmtpSink = await startSmtpSink({ auth: { username: 'reporter', password: 'pw-123' } });
    try {
      const r = await runCli(
        [
          'report',
          '--once',
          `--database.url=${pg.url}`,
          '--report.to=ops@example.com',
          '--report.to=lead@example.com',
          '--report.from=hostscope <reports@example.com>',
          '--smtp.host=127.0.0.1',
          `--smtp.port=${smtp.port}`,
          '--smtp.tls=none',
          '--smtp.username=reporter',
        ],
        { HOSTSCOPE_SMTP_PASSWORD: 'pw-123' },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(smtp.mails).toHaveLength(1);
      const mail = smtp.mails[0];
      if (mail === undefined) return;
      expect(mail.user).toBe('reporter');
      expect([...mail.envelopeTo].sort()).toEqual(['lead@example.com', 'ops@example.com']);
      expect(mail.envelopeFrom).toBe('reports@example.com');

      // The period: 7 days ending at the last whole hour (the command ran moments ago; skip the check
      // if an hour boundary passed in between).
      const to = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const from = to - 7 * 86_400_000;
      const range = [new Date(from).toISOString(), new Date(to).toISOString()];
      // Per host: the mean of every scrape's CPU and memory (host_usage, not the rollups) and the peak.
      const hosts = await db.query<{
        instance: string;
        cpu: number;
        cpu_peak: number;
        mem: number;
        mem_peak: number;
      }>(
        `SELECT instance, avg(cpu_percent) AS cpu, max(cpu_percent) AS cpu_peak,
                avg(memory_percent) AS mem, max(memory_percent) AS mem_peak
           FROM hostscope.host_usage WHERE time >= $1 AND time < $2 GROUP BY 1 ORDER BY 1`,
        range,
      );
      expect(hosts.rows).toHaveLength(3);
      for (const h of hosts.rows) {
        const block = mail.text.split(`(${h.instance})`)[1]?.split('\n') ?? [];
        expect(block[1]).toMatch(new RegExp(`^  cpu    ${pct(h.cpu)} / [0-9.]+ % / ${pct(h.cpu_peak)}`));
        expect(block[2]).toMatch(new RegExp(`^  memory ${pct(h.mem)} / [0-9.]+ % / ${pct(h.mem_peak)}`));
      }
      // Alerts, from the occurrences table rather than the views.
      const alerts = await db.query<{ fired: string; mttr: number }>(
        `SELECT count(*) AS fired,
                avg(extract(epoch FROM ends_at - starts_at)) FILTER (WHERE ends_at IS NOT NULL) AS mttr
           FROM hostscope.alert_occurrences WHERE starts_at >= $1 AND starts_at < $2`,
        range,
      );
      const fired = Number(alerts.rows[0]?.fired);
      expect(fired).toBeGreaterThan(0);
      expect(mail.text).toContain(`Alerts fired: ${fired} `);
      expect(mail.subject).toContain(`3 hosts, ${fired} alerts fired`);
      const mttrMin = Math.round(Number(alerts.rows[0]?.mttr) / 60);
      expect(mail.text).toMatch(
        new RegExp(`Mean time to resolve: (${Math.floor(mttrMin / 60)}h ${mttrMin % 60}m|${mttrMin}m)\\n`),
      );
      // The filling disk of the seed: days until full from the trend of the period.
      const fs = await db.query<{ days: number }>(
        `WITH u AS (
           SELECT a.time, s.value - a.value AS used, a.value AS avail
             FROM hostscope.samples a JOIN hostscope.samples s
               ON s.metric = 'node_filesystem_size_bytes' AND s.series_id <> a.series_id AND s.time = a.time
              AND s.labels->>'instance' = a.labels->>'instance' AND s.labels->>'mountpoint' = a.labels->>'mountpoint'
            WHERE a.metric = 'node_filesystem_avail_bytes' AND a.labels->>'instance' = 'seed-host-01:9100'
              AND a.labels->>'mountpoint' = '/' AND a.time >= $1 AND a.time < $2)
         SELECT (SELECT avail FROM u ORDER BY time DESC LIMIT 1)
                / (regr_slope(used, extract(epoch FROM time)) * 86400) AS days FROM u`,
        range,
      );
      const days = Number(fs.rows[0]?.days);
      const line = mail.text.split('\n').find((l) => l.startsWith('seed-host-01 /')) ?? '';
      const shown = Number(/([0-9.]+) d$/.exec(line)?.[1]);
      // Hourly averages against every sample: the same trend within a small tolerance.
      expect(Math.abs(shown - days)).toBeLessThan(Math.max(0.2, days * 0.05));
      expect(mail.html).toContain('cid:filesystems@hostscope');

      // Restarts and OOM kills (the seed's crashing worker container): every rise of the counters between
      // consecutive raw scrapes inside the period, the one into its first scrape included.
      const events = await db.query<{ instance: string; name: string; restarts: number; ooms: number }>(
        `WITH d AS (
           SELECT metric, labels->>'instance' AS instance, labels->>'name' AS name, time, value,
                  lag(value) OVER (PARTITION BY series_id ORDER BY time) AS prev
             FROM hostscope.samples
            WHERE metric IN ('hostscope_container_restarts_total', 'container_oom_events_total'))
         SELECT instance, name,
                sum(CASE WHEN value >= prev THEN value - prev ELSE value END)
                  FILTER (WHERE metric = 'hostscope_container_restarts_total') AS restarts,
                sum(CASE WHEN value >= prev THEN value - prev ELSE value END)
                  FILTER (WHERE metric = 'container_oom_events_total') AS ooms
           FROM d WHERE prev IS NOT NULL AND time >= $1 AND time < $2
          GROUP BY 1, 2
         HAVING sum(CASE WHEN value >= prev THEN value - prev ELSE value END) > 0
          ORDER BY 1, 2`,
        range,
      );
      expect(events.rows.map((e) => [e.instance, e.name])).toEqual([['seed-host-01:9100', 'worker']]);
      const ev = events.rows[0];
      const restarts = Number(ev?.restarts);
      const ooms = Number(ev?.ooms);
      // Seven days of a crash every 11 hours, every other one an OOM kill.
      expect(restarts).toBeGreaterThanOrEqual(15);
      expect(ooms).toBeGreaterThanOrEqual(7);
      expect(ooms).toBeLessThan(restarts);
      const section = mail.text.split('Restarts and OOM kills:\n')[1]?.split('\n') ?? [];
      expect(section[0]).toBe(`- seed-host-01 / worker: ${restarts} restarts, ${ooms} OOM kills`);
      expect(section[1] ?? '').not.toMatch(/^- /);
      expect(mail.html).toMatch(
        new RegExp(`<td[^>]*>seed-host-01 / worker</td><td[^>]*>${restarts}</td><td[^>]*>${ooms}</td>`),
      );
    } finally {
      await smtp.stop();
    }
  }, 120_000);

  it('retries a refused delivery with backoff, and a failed scheduled report does not stop the next', async () => {
    let connections = 0;
    const received: string[] = [];
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect(_session, cb) {
        connections++;
        // The first three connections are refused (421, a temporary failure).
        if (connections <= 3) cb(Object.assign(new Error('try again later'), { responseCode: 421 }));
        else cb();
      },
      onData(stream, _s, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push(Buffer.concat(chunks).toString());
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.server.address() as AddressInfo).port;
    let child: ChildProcess | undefined;
    let out = '';
    try {
      // Every 5 seconds; one retry (backoff 200 ms): the first report fails twice, the second one
      // fails once, then is delivered.
      child = spawn(process.execPath, [
        CLI,
        'report',
        `--database.url=${pg.url}`,
        '--report.schedule=*/5 * * * * *',
        '--report.to=ops@example.com',
        '--smtp.host=127.0.0.1',
        `--smtp.port=${port}`,
        '--smtp.tls=none',
        '--smtp.retries=1',
        '--smtp.retry-backoff=200ms',
        '--smtp.timeout=5s',
      ]);
      child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
      await waitFor(
        'a delivered report, and its log line',
        // The mail arrives before the command logs it: wait for both.
        async () => (received.length > 0 && out.includes('"report sent"') ? true : undefined),
        90_000,
        () => out,
      );
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; attempt?: number; retryInMs?: number });
      const retries = lines.filter((l) => l.msg === 'report delivery failed; retrying');
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(retries[0]?.retryInMs).toBe(200);
      expect(lines.some((l) => l.msg === 'report not sent: every attempt failed')).toBe(true);
      expect(lines.some((l) => l.msg === 'report failed; the next one runs on schedule')).toBe(true);
      expect(lines.filter((l) => l.msg === 'report sent')).toHaveLength(1);
      expect(out).toContain('try again later');
    } finally {
      child?.kill('SIGTERM');
      await new Promise((r) => (child?.exitCode !== null ? r(undefined) : child.once('exit', r)));
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 120_000);

  it('retries a delivery that timed out (a server that never answers), and the next schedule delivers', async () => {
    // A TCP front: the first three connections are accepted and held without a byte (no SMTP greeting);
    // later ones are passed through to a working SMTP server.
    const smtp = await startSmtpSink();
    const held: Socket[] = [];
    let connections = 0;
    const front = createServer((socket) => {
      connections++;
      if (connections <= 3) {
        held.push(socket);
        socket.on('error', () => undefined);
        return;
      }
      const upstream = connect(smtp.port, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    const port = (front.address() as AddressInfo).port;
    let child: ChildProcess | undefined;
    let out = '';
    try {
      // Every 5 seconds; one retry (backoff 200 ms) and a 500 ms time limit: the first report times out
      // twice, the second one times out once, then is delivered on its retry.
      child = spawn(process.execPath, [
        CLI,
        'report',
        `--database.url=${pg.url}`,
        '--report.schedule=*/5 * * * * *',
        '--report.to=ops@example.com',
        '--smtp.host=127.0.0.1',
        `--smtp.port=${port}`,
        '--smtp.tls=none',
        '--smtp.retries=1',
        '--smtp.retry-backoff=200ms',
        '--smtp.timeout=500ms',
      ]);
      child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
      await waitFor(
        'a delivered report, and its log line',
        // The mail arrives before the command logs it: wait for both.
        async () => (smtp.mails.length > 0 && out.includes('"report sent"') ? true : undefined),
        90_000,
        () => out,
      );
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map(
          (l) =>
            JSON.parse(l) as {
              msg: string;
              attempt?: number;
              retryInMs?: number;
              err?: { code?: string; message?: string };
            },
        );
      const retries = lines.filter((l) => l.msg === 'report delivery failed; retrying');
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(retries.map((l) => l.retryInMs)).toEqual(retries.map(() => 200));
      for (const r of retries) expect(r.err?.code).toBe('ETIMEDOUT');
      const givenUp = lines.filter((l) => l.msg === 'report not sent: every attempt failed');
      expect(givenUp.length).toBeGreaterThanOrEqual(1);
      expect(givenUp[0]?.attempt).toBe(2);
      expect(givenUp[0]?.err?.code).toBe('ETIMEDOUT');
      expect(lines.some((l) => l.msg === 'report failed; the next one runs on schedule')).toBe(true);
      const sent = lines.filter((l) => l.msg === 'report sent');
      expect(sent).toHaveLength(1);
      expect(sent[0]?.attempt).toBe(2);
      expect(connections).toBeGreaterThanOrEqual(4);
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0]?.envelopeTo).toEqual(['ops@example.com']);
      expect(smtp.mails[0]?.subject).toContain('3 hosts');
    } finally {
      child?.kill('SIGTERM');
      await new Promise((r) => (child?.exitCode !== null ? r(undefined) : child.once('exit', r)));
      for (const s of held) s.destroy();
      await new Promise<void>((r) => front.close(() => r()));
      await smtp.stop();
    }
  }, 120_000);
});
