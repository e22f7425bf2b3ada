import { spawn, type ChildProcess } from 'node:child_process';
import { hasBinary } from './services';
import { freePort } from './net';

export { freePort };

export const NODE_EXPORTER_BIN = 'prometheus-node-exporter';

export function hasNodeExporter(): boolean {
  return hasBinary(NODE_EXPORTER_BIN);
}

export interface NodeExporterProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the real node_exporter (Debian's prometheus-node-exporter) and waits until it answers. */
export async function startNodeExporter(args: readonly string[]): Promise<NodeExporterProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(NODE_EXPORTER_BIN, [`--web.listen-address=127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node_exporter exited early:\n${log}`);
    try {
      const res = await fetch(`${url}/metrics`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`node_exporter did not answer:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
