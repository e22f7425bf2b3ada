import { startDaemon, type DaemonProcess } from './daemon';
import { hasBinary } from './services';
import { freePort } from './net';

export { freePort };

export const NODE_EXPORTER_BIN = 'prometheus-node-exporter';

export function hasNodeExporter(): boolean {
  return hasBinary(NODE_EXPORTER_BIN);
}

export type NodeExporterProcess = DaemonProcess;

/** Starts the real node_exporter (Debian's prometheus-node-exporter) and waits until it answers. */
export function startNodeExporter(args: readonly string[]): Promise<NodeExporterProcess> {
  return startDaemon({
    name: 'node_exporter',
    command: NODE_EXPORTER_BIN,
    args: (port) => [`--web.listen-address=127.0.0.1:${port}`, ...args],
    readyPath: '/metrics',
    timeoutMs: 15_000,
  });
}
