import { DeviceFilter } from '../../../src/collectors/device-filter';

describe('DeviceFilter', () => {
  it('ignores nothing without patterns', () => {
    expect(new DeviceFilter('', '').ignored('eth0')).toBe(false);
  });

  it('matches unanchored, like Go MatchString', () => {
    const filter = new DeviceFilter('lo', '');
    expect(filter.ignored('lo')).toBe(true);
    expect(filter.ignored('vlo1')).toBe(true);
    expect(filter.ignored('eth0')).toBe(false);
  });

  it('ignores devices outside the include pattern, and exclude wins over include', () => {
    const filter = new DeviceFilter('eth1', '^eth');
    expect(filter.ignored('eth0')).toBe(false);
    expect(filter.ignored('eth1')).toBe(true);
    expect(filter.ignored('wlan0')).toBe(true);
  });
});
