import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon';
import { PROMETHEUS } from '../../helpers/prometheus';
import { query, runCli, type CliProcess } from '../sink/harness';

/** A sink on a fixed port (so Prometheus' config can name it across restarts), remote write and read on. */
export interface RemoteSink {
  readonly port: number;
  proc: CliProcess;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  cleanup(): void;
}

export function remoteSink(port: number, databaseUrl: string, extra: readonly string[] = []): RemoteSink {
  const bufferDir = mkdtempSync(path.join(tmpdir(), 'hostscope-remote-buffer-'));
  const args = [
    'sink',
    '--scrape.target=',
    '--web.enable-remote-write-receiver',
    '--web.enable-remote-read',
    `--web.listen-address=127.0.0.1:${port}`,
    `--database.url=${databaseUrl}`,
    `--buffer.dir=${bufferDir}`,
    '--maintain.schedule=',
    ...extra,
  ];
  const sink: RemoteSink = {
    port,
    proc: undefined as unknown as CliProcess,
    async start() {
      sink.proc = runCli(args);
      await sink.proc.waitFor(/hostscope sink started/);
    },
    async kill() {
      sink.proc.child.kill('SIGKILL');
      await sink.proc.exited;
    },
    async stop() {
      if (sink.proc.child.exitCode === null && sink.proc.child.signalCode === null) {
        sink.proc.child.kill('SIGTERM');
        await sink.proc.exited;
      }
    },
    cleanup() {
      rmSync(bufferDir, { recursive: true, force: true });
    },
  };
  return sink;
}

/** Starts the real Prometheus with the given YAML (written to a temp file). */
export async function prometheusWith(
  yaml: string,
  extraArgs: readonly string[] = [],
): Promise<DaemonProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-prom-config-'));
  const file = path.join(dir, 'prometheus.yml');
  writeFileSync(file, yaml);
  const proc = await startDaemon({
    name: 'Prometheus',
    command: PROMETHEUS,
    args: (port, _url, dataDir) => [
      `--config.file=${file}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
      ...extraArgs,
    ],
    readyPath: '/-/ready',
  });
  return {
    ...proc,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PromSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** A Prometheus HTTP API query; throws on an error answer. */
export async function promApi<T>(base: string, apiPath: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${base}${apiPath}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${apiPath}: ${body.error ?? res.status}`);
  return body.data;
}

/** The value of a sample in Prometheus' API text ("+Inf", "NaN", shortest round-trip decimal). */
export function promValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** Canonical key of a series: name and sorted labels. */
export function seriesKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** One metric's value in a text exposition (first match), NaN when absent. */
export function metricValue(text: string, name: string, labelPart = ''): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!/^[{ ]/.test(rest)) continue;
    if (labelPart !== '' && !rest.includes(labelPart)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}

/** Sum of a metric over all its label sets in a text exposition. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!/^[{ ]/.test(rest)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** POSTs a snappy WriteRequest body to the sink's /api/v1/write; resolves the status. */
export async function postWrite(port: number, body: Buffer): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/write`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Waits (up to 10 s) until some session of the database at `url` waits for a table lock. */
export async function untilLockWaits(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await query<{ n: string }>(
      url,
      'SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation IS NOT NULL',
    );
    if (Number(row?.n) > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
