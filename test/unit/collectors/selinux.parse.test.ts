import { isLabelled, parseSelinuxConfigMode } from '../../../src/collectors/selinux.parse';

describe('parseSelinuxConfigMode', () => {
  it('maps SELINUX= to 1 enforcing, 0 permissive, -1 disabled, ignoring comments', () => {
    expect(parseSelinuxConfigMode('#SELINUX=permissive\nSELINUX=enforcing\n')).toBe(1);
    expect(parseSelinuxConfigMode('SELINUX=permissive\nSELINUXTYPE=targeted\n')).toBe(0);
    expect(parseSelinuxConfigMode('SELINUX=disabled\n')).toBe(-1);
    expect(parseSelinuxConfigMode('SELINUXTYPE=targeted\n')).toBe(-1);
    expect(parseSelinuxConfigMode(undefined)).toBe(-1);
  });
});

describe('isLabelled', () => {
  it('treats the kernel context and an empty one as no policy', () => {
    expect(isLabelled('system_u:system_r:node_exporter_t:s0\0')).toBe(true);
    expect(isLabelled('kernel\0')).toBe(false);
    expect(isLabelled('')).toBe(false);
  });
});
