import { parseSoftLimit, RLIM_INFINITY } from '../../../src/exporter/limits.parse';

// /proc/self/limits as Linux 6.1 prints it (columns padded with spaces).
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            20000                20000                files     
Max address space         68719476736          unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
`;

describe('parseSoftLimit', () => {
  it('reads the soft limit of a resource', () => {
    expect(parseSoftLimit(LIMITS, 'Max address space')).toBe(68719476736);
    expect(parseSoftLimit(LIMITS, 'Max open files')).toBe(20000);
  });

  it('gives RLIM_INFINITY for unlimited: the float Go makes of the largest uint64', () => {
    expect(parseSoftLimit(LIMITS, 'Max cpu time')).toBe(RLIM_INFINITY);
    expect(RLIM_INFINITY).toBe(Number(18446744073709551615n));
    expect(String(RLIM_INFINITY)).toBe('18446744073709552000');
    expect(Number('1.8446744073709552e+19')).toBe(RLIM_INFINITY); // node_exporter's text
  });

  it('gives undefined for a missing or unreadable line', () => {
    expect(parseSoftLimit(LIMITS, 'Max realtime timeout')).toBeUndefined();
    expect(
      parseSoftLimit(
        'Max address space         lots                 lots                 bytes',
        'Max address space',
      ),
    ).toBeUndefined();
  });
});
