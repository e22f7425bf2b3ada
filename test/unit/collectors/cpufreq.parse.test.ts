import { parseCpuFrequencies, parseKhzAttribute } from '../../../src/collectors/cpufreq.parse';

describe('cpufreq parsers', () => {
  it('converts kHz attributes to hertz', () => {
    expect(parseKhzAttribute('scaling_cur_freq', '2596158\n')).toBe(2596158000);
  });

  it('keeps only the attributes that were readable', () => {
    expect(parseCpuFrequencies({ scaling_cur_freq: '1800000', cpuinfo_max_freq: '3700000' })).toEqual({
      scaling_cur_freq: 1.8e9,
      cpuinfo_max_freq: 3.7e9,
    });
  });

  it('rejects a value that is not an unsigned integer', () => {
    expect(() => parseCpuFrequencies({ scaling_max_freq: '<unknown>' })).toThrow(/scaling_max_freq/);
  });
});
