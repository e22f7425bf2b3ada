/**
 * node_dmi_info labels from /sys/class/dmi/id attribute files. As in node_exporter 1.5, only attributes
 * that exist (and are readable: the serials and product_uuid are root-only) become labels, so the label
 * set varies by machine; sys_vendor is reported as system_vendor and chassis_type is not reported.
 */

/** Attribute file -> label name, for the attributes node_exporter reports. */
export const DMI_LABELS: ReadonlyMap<string, string> = new Map([
  ['bios_date', 'bios_date'],
  ['bios_release', 'bios_release'],
  ['bios_vendor', 'bios_vendor'],
  ['bios_version', 'bios_version'],
  ['board_asset_tag', 'board_asset_tag'],
  ['board_name', 'board_name'],
  ['board_serial', 'board_serial'],
  ['board_vendor', 'board_vendor'],
  ['board_version', 'board_version'],
  ['chassis_asset_tag', 'chassis_asset_tag'],
  ['chassis_serial', 'chassis_serial'],
  ['chassis_vendor', 'chassis_vendor'],
  ['chassis_version', 'chassis_version'],
  ['product_family', 'product_family'],
  ['product_name', 'product_name'],
  ['product_serial', 'product_serial'],
  ['product_sku', 'product_sku'],
  ['product_uuid', 'product_uuid'],
  ['product_version', 'product_version'],
  ['sys_vendor', 'system_vendor'],
]);

/** Builds the label set from the attribute files read (file name -> raw content). */
export function dmiLabels(files: ReadonlyMap<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [file, raw] of files) {
    const label = DMI_LABELS.get(file);
    if (label !== undefined) labels[label] = raw.trim();
  }
  return labels;
}
