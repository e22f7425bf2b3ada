import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseKernelRandomValue } from '../../../src/collectors/entropy.parse';

const RANDOM = path.join(__dirname, '../../fixtures/host/proc/sys/kernel/random');

describe('parseKernelRandomValue', () => {
  it('reads entropy_avail and poolsize from the fixture', () => {
    expect(
      parseKernelRandomValue(readFileSync(path.join(RANDOM, 'entropy_avail'), 'utf8'), 'entropy_avail'),
    ).toBe(3754);
    expect(parseKernelRandomValue(readFileSync(path.join(RANDOM, 'poolsize'), 'utf8'), 'poolsize')).toBe(
      4096,
    );
  });

  it('rejects empty or non-numeric content, naming the file', () => {
    expect(() => parseKernelRandomValue('\n', 'poolsize')).toThrow(/invalid value in poolsize/);
    expect(() => parseKernelRandomValue('-1\n', 'entropy_avail')).toThrow(/entropy_avail/);
    expect(() => parseKernelRandomValue('12 34\n', 'entropy_avail')).toThrow(/entropy_avail/);
  });
});
