import { parseGoInt } from '../../../src/collectors/go-int';

describe('parseGoInt', () => {
  it.each([
    ['0', 0],
    ['1500', 1500],
    ['-1', -1],
    ['+7', 7],
    ['0x1003', 4099],
    ['0X1f', 31],
    ['-0x10', -16],
    ['010', 8],
    ['0o17', 15],
    ['0b101', 5],
  ])('parses %s as %d', (text, value) => {
    expect(parseGoInt(text)).toBe(value);
  });

  it.each(['', ' 1', '1.5', '1e3', '09', '0x', '0b2', 'abc', '--1'])('rejects %j', (text) => {
    expect(parseGoInt(text)).toBeUndefined();
  });
});
