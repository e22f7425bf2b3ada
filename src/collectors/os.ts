import { promises as fsp } from 'node:fs';
import { isNotFound } from '../host/host-fs';
import { NoDataError } from '../errors';
import { MetricSet } from '../metrics/metric-set';
import { EMPTY_RELEASE, parseOsRelease, type OsRelease } from './os.parse';
import type { CollectorDefinition } from './types';

interface Cached {
  readonly file: string;
  readonly mtimeNs: bigint;
  readonly release: OsRelease;
}

/**
 * node_os_info / node_os_version from os-release under --path.rootfs: /etc/os-release, else
 * /usr/lib/os-release (the os-release(5) order). The parsed file is kept until its path or mtime changes,
 * as node_exporter 1.5 does, so a scrape costs one stat.
 */
export const osCollector: CollectorDefinition = {
  name: 'os',
  defaultEnabled: true,
  help: 'Exposes OS release information from os-release files.',
  create: ({ fs }) => {
    const candidates = [fs.root('etc', 'os-release'), fs.root('usr', 'lib', 'os-release')];
    let cached: Cached | undefined;

    async function load(): Promise<OsRelease> {
      for (const file of candidates) {
        let mtimeNs: bigint;
        try {
          mtimeNs = (await fsp.stat(file, { bigint: true })).mtimeNs;
        } catch (err) {
          if (isNotFound(err)) continue;
          throw err;
        }
        if (cached !== undefined && cached.file === file && cached.mtimeNs === mtimeNs) return cached.release;
        try {
          const release = parseOsRelease(await fs.readText(file));
          cached = { file, mtimeNs, release };
          return release;
        } catch (err) {
          // node_exporter 1.5 records the file as read before parsing it: the scrape that meets a malformed
          // file fails, and later scrapes report empty labels until the file changes. Kept for parity.
          cached = { file, mtimeNs, release: EMPTY_RELEASE };
          throw err;
        }
      }
      throw new NoDataError(`no os-release file found (tried ${candidates.join(', ')})`);
    }

    return {
      async update() {
        const os = await load();
        const set = new MetricSet().gauge(
          'node_os_info',
          "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, " +
            'name, pretty_name, variant, variant_id, version, version_codename, version_id.',
          1,
          {
            build_id: os.buildId,
            id: os.id,
            id_like: os.idLike,
            image_id: os.imageId,
            image_version: os.imageVersion,
            name: os.name,
            pretty_name: os.prettyName,
            variant: os.variant,
            variant_id: os.variantId,
            version: os.version,
            version_codename: os.versionCodename,
            version_id: os.versionId,
          },
        );
        if (os.versionNumber > 0) {
          set.gauge(
            'node_os_version',
            'Metric containing the major.minor part of the OS version.',
            os.versionNumber,
            {
              id: os.id,
              id_like: os.idLike,
              name: os.name,
            },
          );
        }
        return set.families();
      },
    };
  },
};
