import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSchedstat } from '../../../src/collectors/schedstat.parse';

const FIXTURE = readFileSync(path.join(__dirname, '../../fixtures/host/proc/schedstat'), 'utf8');

describe('parseSchedstat', () => {
  it('reads running, waiting and timeslices of each cpu line, skipping domain lines', () => {
    expect(parseSchedstat(FIXTURE)).toEqual([
      { cpu: '0', runningNanoseconds: 2230333480914, waitingNanoseconds: 184283416588, timeslices: 1276473 },
      { cpu: '1', runningNanoseconds: 1847474843432, waitingNanoseconds: 179346287263, timeslices: 1097436 },
      { cpu: '3', runningNanoseconds: 1500000000, waitingNanoseconds: 2500000, timeslices: 4242 },
    ]);
  });

  it('skips cpu lines with too few counters and files without cpu lines', () => {
    expect(parseSchedstat('version 15\ntimestamp 1\ncpu0 1 2 3\n')).toEqual([]);
  });
});
