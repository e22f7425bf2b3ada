import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { NoDataError } from '../errors';
import { isNotFound, type HostFs } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import {
  chipNameFromDevicePath,
  cleanMetricName,
  hwmonSamples,
  sensorFile,
  trimNewlines,
  type ChipData,
  type HwmonSample,
} from './hwmon.parse';
import type { CollectorDefinition } from './types';

async function readOptional(fs: HostFs, file: string): Promise<string | undefined> {
  try {
    return await fs.readText(file);
  } catch {
    return undefined;
  }
}

async function realpathOptional(p: string): Promise<string | undefined> {
  try {
    return await fsp.realpath(p);
  } catch {
    return undefined;
  }
}

/** Reads every sensor attribute in one directory; unreadable files (directories, EIO, EAGAIN) are skipped. */
async function readSensorDir(
  fs: HostFs,
  dir: string,
): Promise<[sensor: string, type: string, prop: string, raw: string][]> {
  const entries = (await fs.readDir(dir)).sort();
  const found = await Promise.all(
    entries.map(async (entry) => {
      const file = sensorFile(entry);
      if (file === undefined) return undefined;
      const raw = await readOptional(fs, path.join(dir, entry));
      return raw === undefined
        ? undefined
        : ([file.sensor, file.type, file.property, trimNewlines(raw)] as const);
    }),
  );
  return found.filter((f): f is [string, string, string, string] => f !== undefined);
}

/**
 * The chip label: from the resolved `device` link (stable across module load order), else the cleaned
 * `name` file, else the hwmonN directory name.
 */
async function chipLabel(dir: string, device: string | undefined, name: string | undefined): Promise<string> {
  if (device !== undefined) {
    const fromDevice = chipNameFromDevicePath(device);
    if (fromDevice !== undefined) return fromDevice;
  }
  if (name !== undefined && name !== '') {
    const clean = cleanMetricName(name);
    if (clean !== '') return clean;
  }
  const real = await fsp.realpath(dir);
  const clean = cleanMetricName(path.basename(real));
  if (clean !== '') return clean;
  throw new Error(`could not derive a monitoring name for ${dir}`);
}

async function readChip(fs: HostFs, dir: string): Promise<HwmonSample[]> {
  const [device, nameRaw] = await Promise.all([
    realpathOptional(path.join(dir, 'device')),
    readOptional(fs, path.join(dir, 'name')),
  ]);
  const chip = await chipLabel(dir, device, nameRaw);

  // Attributes of older drivers live in device/; read after the chip's own, they win on a clash.
  const [own, ofDevice] = await Promise.all([
    readSensorDir(fs, dir),
    device === undefined ? [] : readSensorDir(fs, path.join(dir, 'device')),
  ]);
  const data: ChipData = new Map();
  for (const [sensor, type, prop, raw] of [...own, ...ofDevice]) {
    let entry = data.get(sensor);
    if (entry === undefined) {
      entry = { type, props: new Map() };
      data.set(sensor, entry);
    }
    entry.props.set(prop, raw);
  }

  const samples: HwmonSample[] = [];
  const chipName = nameRaw === undefined ? '' : cleanMetricName(nameRaw);
  if (chipName !== '') {
    samples.push({
      name: 'node_hwmon_chip_names',
      help: 'Annotation metric for human-readable chip names',
      type: 'gauge',
      value: 1,
      labels: { chip, chip_name: chipName },
    });
  }
  samples.push(...hwmonSamples(chip, data));
  return samples;
}

/** Hardware monitoring chips under /sys/class/hwmon (temperatures, fans, voltages, power), like lm-sensors. */
export const hwmonCollector: CollectorDefinition = {
  name: 'hwmon',
  defaultEnabled: true,
  help: 'Exposes hardware monitoring and sensor data from /sys/class/hwmon.',
  create: ({ fs }) => ({
    async update() {
      const root = fs.sys('class', 'hwmon');
      let entries: string[];
      try {
        entries = await fs.readDir(root);
      } catch (err) {
        if (isNotFound(err)) throw new NoDataError(`hwmon collector metrics are not available: no ${root}`);
        throw err;
      }
      const chips = await Promise.all(
        entries.sort().map(async (entry) => {
          const dir = path.join(root, entry);
          let stat: Stats;
          try {
            stat = await fsp.lstat(dir);
          } catch {
            return { samples: [] }; // gone since the listing
          }
          if (stat.isSymbolicLink()) {
            try {
              stat = await fsp.stat(dir);
            } catch (error) {
              // A dangling hwmonN link is skipped but, as in node_exporter 1.5, fails the collector.
              return { samples: [], error };
            }
          }
          if (!stat.isDirectory()) return { samples: [] };
          try {
            return { samples: await readChip(fs, dir) };
          } catch (error) {
            return { samples: [], error };
          }
        }),
      );

      const set = new MetricSet();
      let lastError: unknown;
      for (const chip of chips) {
        for (const s of chip.samples) set.add(s.name, s.type, s.help, s.value, s.labels);
        if ('error' in chip) lastError = chip.error;
      }
      // As node_exporter: every readable chip is reported, and one failing chip fails the collector.
      if (lastError !== undefined) throw lastError;
      return set.families();
    },
  }),
};
