import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LiveHub, MIN_MESSAGE_INTERVAL_MS } from '../../../src/web/hub';
import type { LiveHost } from '../../../src/web/protocol';

function host(instance: string, t: number): LiveHost {
  return {
    instance,
    job: 'j',
    host: instance,
    time: t,
    up: true,
    scrape_duration_seconds: 0.01,
    error: null,
    cpu: { count: 1, percent: 10 },
    memory: { total_bytes: 1, available_bytes: 1, used_bytes: 0, percent: 0 },
    point: {
      t,
      cpu: { user: 10 },
      mem_used: 0,
      mem_total: 1,
      load1: 0,
      load5: 0,
      load15: 0,
      rx: 1,
      tx: 1,
      read: 0,
      written: 0,
      fs: {},
    },
    filesystems: { count: 0, list: [] },
    network: { count: 0, devices: [] },
    disks: { count: 0, devices: [] },
    containers: { count: 0, running: 0, list: [] },
  };
}

interface Stream {
  res: IncomingMessage;
  events: { event: string; data: string }[];
  text: () => string;
  close: () => void;
}

/** Opens a stream and collects its events. */
function open(port: number, query = ''): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/live${query}` }, (res) => {
      let raw = '';
      const events: { event: string; data: string }[] = [];
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        raw += c;
        let i: number;
        while ((i = raw.indexOf('\n\n')) >= 0) {
          const block = raw.slice(0, i);
          raw = raw.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data });
          else if (block.startsWith(':')) events.push({ event: 'comment', data: block });
        }
      });
      resolve({ res, events, text: () => raw, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LiveHub (Server-Sent Events)', () => {
  let server: Server;
  let hub: LiveHub;
  let port: number;

  beforeEach(async () => {
    hub = new LiveHub({ maxClients: 3, heartbeatMs: 200, backlogPoints: 3, intervalSeconds: 1 });
    server = createServer((req, res) =>
      hub.connect(req, res, new URL(req.url ?? '/', 'http://x').searchParams.get('instance') ?? ''),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('greets with hello, the hosts, the backlog and the latest figures; then one message per round', async () => {
    for (let t = 1; t <= 5; t++) hub.publish([host('a:1', t), host('b:1', t)]);
    const s = await open(port, '?instance=b:1');
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await until(() => s.events.filter((e) => e.event !== 'comment').length >= 4, 'the first message');
    expect(s.events.filter((e) => e.event !== 'comment').map((e) => e.event)).toEqual([
      'hello',
      'hosts',
      'backlog',
      'host',
    ]);
    const first = s.events.filter((e) => e.event !== 'comment');
    expect(JSON.parse(first[0]?.data ?? '')).toMatchObject({
      instance: 'b:1',
      interval_seconds: 1,
      backlog_points: 3,
    });
    expect(JSON.parse(first[1]?.data ?? '').map((h: { instance: string }) => h.instance)).toEqual([
      'a:1',
      'b:1',
    ]);
    // The backlog keeps the last 3 points.
    expect(JSON.parse(first[2]?.data ?? '').points.map((p: { t: number }) => p.t)).toEqual([3, 4, 5]);
    expect(JSON.parse(first[3]?.data ?? '').instance).toBe('b:1');
    hub.publish([host('a:1', 6), host('b:1', 6)]);
    await until(() => s.events.filter((e) => e.event === 'host').length === 2, 'the next round');
    const last = s.events.filter((e) => e.event === 'host').pop();
    expect(JSON.parse(last?.data ?? '').time).toBe(6);
    s.close();
  });

  it('sends at most one message a second however fast rounds come, the latest figures winning', async () => {
    const s = await open(port);
    await until(() => s.events.some((e) => e.event === 'hello'), 'hello');
    const started = Date.now();
    hub.publish([host('a:1', 1)]);
    await until(() => s.events.some((e) => e.event === 'host'), 'the first round');
    for (let t = 2; t <= 6; t++) hub.publish([host('a:1', t)]);
    await until(() => s.events.filter((e) => e.event === 'host').length === 2, 'the coalesced round');
    expect(Date.now() - started).toBeGreaterThanOrEqual(MIN_MESSAGE_INTERVAL_MS - 20);
    const hosts = s.events.filter((e) => e.event === 'host').map((e) => JSON.parse(e.data).time);
    expect(hosts).toEqual([1, 6]);
    s.close();
  });

  it('serialises each host once per round whatever the number of clients', async () => {
    const streams = await Promise.all([open(port), open(port), open(port)]);
    await until(() => hub.clientCount === 3, 'three clients');
    const stringify = jest.spyOn(JSON, 'stringify');
    hub.publish([host('a:1', 1), host('b:1', 1)]);
    // Two hosts and the index: three, not nine.
    expect(stringify).toHaveBeenCalledTimes(3);
    stringify.mockRestore();
    await until(() => streams.every((s) => s.events.some((e) => e.event === 'host')), 'every client');
    for (const s of streams) s.close();
  });

  it('refuses clients past the bound with 503, forgets closed ones, and sends heartbeats', async () => {
    const streams = await Promise.all([open(port), open(port), open(port)]);
    await until(() => hub.clientCount === 3, 'three clients');
    const refused = await open(port);
    expect(refused.res.statusCode).toBe(503);
    expect(refused.res.headers['retry-after']).toBe('10');
    expect(hub.rejected).toBe(1);
    streams[0]?.close();
    await until(() => hub.clientCount === 2, 'the closed client to be forgotten');
    const again = await open(port);
    expect(again.res.statusCode).toBe(200);
    await until(() => again.events.some((e) => e.event === 'comment'), 'a heartbeat');
    for (const s of [...streams, again]) s.close();
  });
});
