import * as path from 'node:path';
import fc from 'fast-check';
import { joinPath } from '../../../src/host/host-fs';

describe('joinPath', () => {
  it('gives what path.join gives, for any root and parts', () => {
    const piece = fc.constantFrom(
      '',
      '.',
      '..',
      '/',
      '//',
      'proc',
      'net',
      'a.b',
      '..x',
      'x/',
      '/y',
      'a/../b',
      ' ',
    );
    const part = fc.array(piece, { maxLength: 3 }).map((p) => p.join(''));
    const root = fc.oneof(
      fc.constantFrom(
        '/',
        '/proc',
        '/host/proc',
        '/host/proc/',
        'test/fixtures/host/proc',
        './proc',
        '',
        '//',
      ),
      part,
    );
    fc.assert(
      fc.property(root, fc.array(part, { maxLength: 4 }), (r, parts) => {
        expect(joinPath(r, parts)).toBe(path.join(r, ...parts));
      }),
      { numRuns: 20_000, seed: 20_240_501 },
    );
  });

  it('joins plain names under a normal root by concatenation', () => {
    expect(joinPath('/proc', ['net', 'netstat'])).toBe('/proc/net/netstat');
    expect(joinPath('/', ['sys', 'class'])).toBe('/sys/class');
    expect(joinPath('/host/sys/', ['class'])).toBe('/host/sys/class');
  });
});
