export interface UdpQueues {
  /** Sum of tx_queue over all sockets, bytes. */
  readonly tx: number;
  /** Sum of rx_queue over all sockets, bytes. */
  readonly rx: number;
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Sums the `tx_queue:rx_queue` column (hex) of /proc/net/udp or udp6, as procfs's NetUDPSummary does:
 * the header line is skipped, every other non-empty line must have at least 8 columns and a well-formed
 * queue pair, else the file is rejected.
 */
export function parseUdpQueues(text: string): UdpQueues {
  let tx = 0;
  let rx = 0;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length < 8)
      throw new Error(`cannot parse net socket line as it has less then 8 columns: ${line}`);
    const queues = (fields[4] as string).split(':');
    const [txq, rxq] = queues;
    if (queues.length !== 2 || txq === undefined || rxq === undefined || !HEX.test(txq) || !HEX.test(rxq)) {
      throw new Error(`cannot parse tx/rx queues in socket line: ${fields[4] as string}`);
    }
    tx += parseInt(txq, 16);
    rx += parseInt(rxq, 16);
  }
  return { tx, rx };
}
