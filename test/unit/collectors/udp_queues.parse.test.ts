import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseUdpQueues } from '../../../src/collectors/udp_queues.parse';

const NET = path.join(__dirname, '../../fixtures/host/proc/net');
const HEADER =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

describe('parseUdpQueues', () => {
  it('sums the hex tx and rx queues over all sockets', () => {
    expect(parseUdpQueues(readFileSync(path.join(NET, 'udp'), 'utf8'))).toEqual({ tx: 0xa00, rx: 0x101 });
    expect(parseUdpQueues(readFileSync(path.join(NET, 'udp6'), 'utf8'))).toEqual({ tx: 0x10, rx: 0x20 });
  });

  it('gives zeros for a file with only the header', () => {
    expect(parseUdpQueues(HEADER)).toEqual({ tx: 0, rx: 0 });
  });

  it('rejects short lines and malformed queue pairs', () => {
    expect(() => parseUdpQueues(`${HEADER}  1: 0100007F:0035 00000000:0000 07\n`)).toThrow(
      /less then 8 columns/,
    );
    expect(() =>
      parseUdpQueues(`${HEADER}  1: 0100007F:0035 00000000:0000 07 00000000 00:00000000 00000000 0 0 1\n`),
    ).toThrow(/tx\/rx queues/);
    expect(() =>
      parseUdpQueues(
        `${HEADER}  1: 0100007F:0035 00000000:0000 07 0000000g:00000000 00:00000000 00000000 0 0 1\n`,
      ),
    ).toThrow(/tx\/rx queues/);
  });
});
