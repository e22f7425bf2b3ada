import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parsePressure } from '../../../src/collectors/pressure.parse';

const fixture = (name: string): string =>
  readFileSync(path.join(__dirname, '../../fixtures/host/proc/pressure', name), 'utf8');

describe('parsePressure', () => {
  it('reads the some and full lines', () => {
    expect(parsePressure(fixture('io'))).toEqual({
      some: { avg10: 0, avg60: 0.03, avg300: 0.27, total: 2767322 },
      full: { avg10: 0, avg60: 0.03, avg300: 0.27, total: 2615149 },
    });
  });

  it('accepts a file with only a some line (cpu before Linux 5.13) and ignores unknown prefixes', () => {
    const stats = parsePressure('some avg10=1.75 avg60=1.18 avg300=1.52 total=10448486\nnew avg10=1\n');
    expect(stats.some?.total).toBe(10448486);
    expect(stats.full).toBeUndefined();
  });

  it('rejects a malformed line', () => {
    expect(() => parsePressure('some avg10=x avg60=0 avg300=0 total=1\n')).toThrow(
      /unexpected pressure line/,
    );
  });
});
