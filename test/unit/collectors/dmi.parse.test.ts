import { DMI_LABELS, dmiLabels } from '../../../src/collectors/dmi.parse';

describe('dmiLabels', () => {
  it('maps attribute files to labels, renaming sys_vendor and trimming values', () => {
    expect(
      dmiLabels(
        new Map([
          ['sys_vendor', 'QEMU\n'],
          ['product_name', 'Standard PC (Q35 + ICH9, 2009)\n'],
          ['bios_version', ' 1.16.2-debian-1.16.2-1 \n'],
        ]),
      ),
    ).toEqual({
      system_vendor: 'QEMU',
      product_name: 'Standard PC (Q35 + ICH9, 2009)',
      bios_version: '1.16.2-debian-1.16.2-1',
    });
  });

  it('keeps empty attributes as empty labels and ignores files node_exporter does not report', () => {
    expect(
      dmiLabels(
        new Map([
          ['board_asset_tag', '\n'],
          ['chassis_type', '23\n'],
          ['modalias', 'dmi:bvn...\n'],
          ['uevent', 'MODALIAS=dmi:...\n'],
        ]),
      ),
    ).toEqual({ board_asset_tag: '' });
  });

  it('knows the 20 labels of node_dmi_info', () => {
    expect([...DMI_LABELS.values()].sort()).toEqual([
      'bios_date',
      'bios_release',
      'bios_vendor',
      'bios_version',
      'board_asset_tag',
      'board_name',
      'board_serial',
      'board_vendor',
      'board_version',
      'chassis_asset_tag',
      'chassis_serial',
      'chassis_vendor',
      'chassis_version',
      'product_family',
      'product_name',
      'product_serial',
      'product_sku',
      'product_uuid',
      'product_version',
      'system_vendor',
    ]);
  });
});
