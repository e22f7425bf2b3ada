import * as path from 'node:path';
import type { HostFs } from '../host/host-fs';
import { MetricSet } from '../metrics/metric-set';
import {
  coolingDeviceDirs,
  parseCoolingDevice,
  parseSysfsInt,
  parseThermalZone,
  thermalZoneDirs,
  type CoolingDevice,
  type ThermalZone,
} from './thermal_zone.parse';
import type { CollectorDefinition } from './types';

function isMissingOrDenied(err: unknown): boolean {
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return code === 'ENOENT' || code === 'EACCES' || code === 'EPERM';
}

/** An optional attribute: absent or unreadable for permissions is fine, any other failure is not. */
async function readOptional(fs: HostFs, file: string): Promise<string | undefined> {
  try {
    return await fs.readText(file);
  } catch (err) {
    if (isMissingOrDenied(err)) return undefined;
    throw err;
  }
}

async function readZone(fs: HostFs, root: string, dir: string): Promise<ThermalZone> {
  const p = (f: string) => path.join(root, dir, f);
  const [type, , temp, , passive] = await Promise.all([
    fs.readText(p('type')),
    fs.readText(p('policy')),
    fs.readText(p('temp')),
    readOptional(fs, p('mode')),
    readOptional(fs, p('passive')),
  ]);
  // node_exporter 1.5 does not report `passive`, but a malformed one fails the zone (procfs validates it).
  if (passive !== undefined) parseSysfsInt(p('passive'), passive, true);
  return parseThermalZone(dir, type, temp);
}

async function readCoolingDevice(fs: HostFs, root: string, dir: string): Promise<CoolingDevice> {
  const p = (f: string) => path.join(root, dir, f);
  const [type, maxState, curState] = await Promise.all([
    fs.readText(p('type')),
    fs.readText(p('max_state')),
    fs.readText(p('cur_state')),
  ]);
  return parseCoolingDevice(dir, type, maxState, curState);
}

/**
 * Thermal zones and cooling devices from /sys/class/thermal. As in node_exporter 1.5, one unreadable or
 * malformed zone or device fails the collector; no thermal class at all is simply no metrics.
 */
export const thermalZoneCollector: CollectorDefinition = {
  name: 'thermal_zone',
  defaultEnabled: true,
  help: 'Exposes thermal zone & cooling device statistics from /sys/class/thermal.',
  create: ({ fs }) => ({
    async update() {
      const root = fs.sys('class', 'thermal');
      const entries = await fs.readDirOptional(root);
      const [zones, devices] = await Promise.all([
        Promise.all(thermalZoneDirs(entries).map((d) => readZone(fs, root, d))),
        Promise.all(coolingDeviceDirs(entries).map((d) => readCoolingDevice(fs, root, d))),
      ]);
      const set = new MetricSet();
      for (const z of zones) {
        set.gauge('node_thermal_zone_temp', 'Zone temperature in Celsius', z.tempCelsius, {
          zone: z.zone,
          type: z.type,
        });
      }
      for (const d of devices) {
        const labels = { name: d.name, type: d.type };
        set.gauge(
          'node_cooling_device_cur_state',
          'Current throttle state of the cooling device',
          d.curState,
          labels,
        );
        set.gauge(
          'node_cooling_device_max_state',
          'Maximum throttle state of the cooling device',
          d.maxState,
          labels,
        );
      }
      return set.families();
    },
  }),
};
