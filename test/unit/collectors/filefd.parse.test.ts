import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseFileNr } from '../../../src/collectors/filefd.parse';

const FIXTURE = path.join(__dirname, '../../fixtures/host/proc/sys/fs/file-nr');

describe('parseFileNr', () => {
  it('reads allocated and maximum from the fixture, skipping the always-zero free count', () => {
    // The fixture's maximum is LONG_MAX, as on kernels with fs.file-max unset: rounded to the nearest double,
    // 2^63, like Go's ParseFloat (node_exporter prints 9.223372036854776e+18).
    expect(parseFileNr(readFileSync(FIXTURE, 'utf8'))).toEqual({ allocated: 1472, maximum: 2 ** 63 });
  });

  it('accepts spaces as well as tabs between fields', () => {
    expect(parseFileNr('10 0 20\n')).toEqual({ allocated: 10, maximum: 20 });
  });

  it('rejects too few fields', () => {
    expect(() => parseFileNr('1472\t0\n')).toThrow(/unexpected number of file stats/);
  });

  it('rejects a non-numeric value', () => {
    expect(() => parseFileNr('1472\t0\tmany\n')).toThrow(/invalid value "many"/);
  });
});
