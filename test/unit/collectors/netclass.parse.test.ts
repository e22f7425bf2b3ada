import {
  NETCLASS_ATTRS,
  netClassSpeedBytes,
  parseNetClassIface,
} from '../../../src/collectors/netclass.parse';

describe('parseNetClassIface', () => {
  it('parses integers like Go ParseInt base 0 and keeps text attributes', () => {
    const iface = parseNetClassIface('eth0', {
      address: '52:54:00:12:34:56',
      operstate: 'up',
      flags: '0x1003',
      dev_id: '0x0',
      mtu: '1500',
      netdev_group: '010',
      speed: '-1',
    });
    expect(iface.text).toEqual({
      address: '52:54:00:12:34:56',
      broadcast: '',
      duplex: '',
      ifalias: '',
      operstate: 'up',
    });
    expect(iface.numeric).toEqual({ flags: 4099, dev_id: 0, mtu: 1500, netdev_group: 8, speed: -1 });
  });

  it('drops values that are not integers (no sample, as procfs leaves them nil)', () => {
    const iface = parseNetClassIface('x', { mtu: 'lots', carrier: '', speed: '1e3', dormant: '09' });
    expect(iface.numeric).toEqual({});
  });

  it('reads the 22 attributes node_exporter 1.5 uses', () => {
    expect(NETCLASS_ATTRS).toHaveLength(22);
    expect(NETCLASS_ATTRS).toContain('carrier_up_count');
    expect(NETCLASS_ATTRS).toContain('tx_queue_len');
  });
});

describe('netClassSpeedBytes', () => {
  it('converts Mbit/s to bytes/s with int64 truncation', () => {
    expect(netClassSpeedBytes(1000)).toBe(125000000);
    expect(netClassSpeedBytes(-1)).toBe(-125000);
    expect(netClassSpeedBytes(0)).toBe(0);
  });
});
