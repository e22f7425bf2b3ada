import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { countProcessors, memTotalBytes } from '../../../src/collectors/docker/machine.parse';

const FX = path.join(__dirname, '../../fixtures/docker/v1/proc');

describe('machine parsers', () => {
  it('counts logical CPUs and reads MemTotal in bytes', () => {
    expect(countProcessors(readFileSync(path.join(FX, 'cpuinfo'), 'utf8'))).toBe(2);
    expect(memTotalBytes(readFileSync(path.join(FX, 'meminfo'), 'utf8'))).toBe(24684096 * 1024);
  });

  it('handles empty input', () => {
    expect(countProcessors('')).toBe(0);
    expect(memTotalBytes('MemFree: 1 kB\n')).toBeUndefined();
  });
});
