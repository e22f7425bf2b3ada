import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseLoadAvg } from '../../../src/collectors/loadavg.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/loadavg');

describe('parseLoadAvg', () => {
  it('reads the three load averages from the fixture', () => {
    expect(parseLoadAvg(readFileSync(FIXTURE, 'utf8'))).toEqual({ load1: 0.21, load5: 0.35, load15: 0.4 });
  });

  it('rejects truncated content', () => {
    expect(() => parseLoadAvg('0.1 0.2')).toThrow(/unexpected \/proc\/loadavg/);
  });
});
