import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MetricSet } from '../metrics/metric-set';
import { clockSourceDirs, lookupZone, parseClockSource, parseTzif, UTC_ZONE, type Zone } from './time.parse';
import type { CollectorDefinition } from './types';

/** Where Go looks for a zone named by $TZ (platformZoneSources on Linux). */
const ZONE_DIRS = ['/usr/share/zoneinfo/', '/usr/share/lib/zoneinfo/', '/usr/lib/locale/TZ/'];

async function loadZoneFile(file: string): Promise<Zone | undefined> {
  try {
    return parseTzif(await fsp.readFile(file));
  } catch {
    return undefined;
  }
}

/**
 * The exporter process's own local zone, resolved the way Go initialises time.Local (so the label matches
 * node_exporter run the same way): $TZ unset -> /etc/localtime; $TZ empty or "UTC" -> UTC; $TZ=[:]/abs/path
 * -> that file; $TZ=[:]Area/City -> the zoneinfo directories; anything unloadable -> UTC. This is the
 * process's zone, not the monitored host's, which is why it does not go through --path.rootfs.
 */
export async function loadProcessZone(env: NodeJS.ProcessEnv = process.env): Promise<Zone> {
  let tz = env.TZ;
  if (tz === undefined) return (await loadZoneFile('/etc/localtime')) ?? UTC_ZONE;
  if (tz.startsWith(':')) tz = tz.slice(1);
  if (tz.startsWith('/')) return (await loadZoneFile(tz)) ?? UTC_ZONE;
  if (tz === '' || tz === 'UTC') return UTC_ZONE;
  for (const dir of ZONE_DIRS) {
    const zone = await loadZoneFile(path.join(dir, tz));
    if (zone !== undefined) return zone;
  }
  return UTC_ZONE;
}

/** Builds the time collector around a zone source (tests pass a fixture zone; Go loads time.Local once). */
export function makeTimeCollector(loadZone: () => Promise<Zone>): CollectorDefinition {
  return {
    name: 'time',
    defaultEnabled: true,
    help: 'Exposes the current system time.',
    create: ({ fs }) => {
      let zone: Promise<Zone> | undefined;
      return {
        async update() {
          zone ??= loadZone();
          const dir = fs.sys('devices', 'system', 'clocksource');
          const [localZone, entries] = await Promise.all([zone, fs.readDirOptional(dir)]);
          const sources = await Promise.all(
            clockSourceDirs(entries).map(async (name) => {
              const [available, current] = await Promise.all([
                fs.readText(path.join(dir, name, 'available_clocksource')),
                fs.readText(path.join(dir, name, 'current_clocksource')),
              ]);
              return parseClockSource(available, current);
            }),
          );

          const nowMs = Date.now();
          const { name, offset } = lookupZone(localZone, Math.floor(nowMs / 1000));
          const set = new MetricSet()
            .gauge('node_time_seconds', 'System time in seconds since epoch (1970).', nowMs / 1000)
            .gauge('node_time_zone_offset_seconds', 'System time zone offset in seconds.', offset, {
              time_zone: name,
            });
          sources.forEach((source, i) => {
            const device = String(i);
            for (const clocksource of source.available) {
              set.gauge(
                'node_time_clocksource_available_info',
                "Available clocksources read from '/sys/devices/system/clocksource'.",
                1,
                { device, clocksource },
              );
            }
            set.gauge(
              'node_time_clocksource_current_info',
              "Current clocksource read from '/sys/devices/system/clocksource'.",
              1,
              { device, clocksource: source.current },
            );
          });
          return set.families();
        },
      };
    },
  };
}

export const timeCollector: CollectorDefinition = makeTimeCollector(() => loadProcessZone());
