import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { NoDataError } from '../errors';
import { isNotFound } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import { DMI_LABELS, dmiLabels } from './dmi.parse';
import type { CollectorDefinition } from './types';

const HELP =
  "A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, bios_version, " +
  'board_asset_tag, board_name, board_serial, board_vendor, board_version, chassis_asset_tag, ' +
  'chassis_serial, chassis_vendor, chassis_version, product_family, product_name, product_serial, ' +
  'product_sku, product_uuid, product_version, system_vendor if provided by DMI.';

function isDenied(err: unknown): boolean {
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * node_dmi_info from /sys/class/dmi/id. DMI data cannot change until the next boot, so, like node_exporter,
 * it is read once (on the first scrape here) and reused; a host without DMI (most VMs on ARM, this kind of
 * microVM) reports no data.
 */
export const dmiCollector: CollectorDefinition = {
  name: 'dmi',
  defaultEnabled: true,
  help: 'Exposes Desktop Management Interface (DMI) info from /sys/class/dmi/id.',
  create: ({ fs }) => {
    let labels: Promise<Record<string, string>> | undefined;

    async function read(): Promise<Record<string, string>> {
      const dir = fs.sys('class', 'dmi', 'id');
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return {};
        throw new Error(`failed to read Desktop Management Interface (DMI) information: ${String(err)}`, {
          cause: err,
        });
      }
      const files = new Map<string, string>();
      await Promise.all(
        entries
          .filter((e) => e.isFile() && DMI_LABELS.has(e.name))
          .map(async (e) => {
            try {
              files.set(e.name, await fs.readText(path.join(dir, e.name)));
            } catch (err) {
              if (!isDenied(err)) throw err;
            }
          }),
      );
      return dmiLabels(files);
    }

    return {
      async update() {
        labels ??= read().catch((err: unknown) => {
          labels = undefined; // not cached: the next scrape tries again
          throw err;
        });
        const values = await labels;
        if (Object.keys(values).length === 0) {
          throw new NoDataError('platform does not provide Desktop Management Interface (DMI) information');
        }
        return new MetricSet().gauge('node_dmi_info', HELP, 1, values).families();
      },
    };
  },
};
