/**
 * Parsers for /sys/class/thermal, with node_exporter 1.5's (procfs 0.8's) strictness: a zone's type,
 * policy and temp are required and temp must be an integer (millidegrees Celsius); cooling devices need
 * integer max_state and cur_state (cur_state may be -1, e.g. intel_powerclamp). Disabled zones are still
 * reported: 1.5 does not look at `mode`.
 */

const ZONE_DIR = /^thermal_zone[0-9]/;
const COOLING_DIR = /^cooling_device[0-9]/;
const GO_INT = /^[+-]?[0-9]+$/;
const GO_UINT = /^\+?[0-9]+$/;

/** A sysfs attribute as procfs's SysReadFile returns it: surrounding white space trimmed. */
export function sysfsValue(text: string): string {
  return text.trim();
}

/** Go's strconv.ParseInt(s, 10, 64) (ParseUint when unsigned); throws on anything else, as procfs does. */
export function parseSysfsInt(file: string, text: string, unsigned = false): number {
  const s = sysfsValue(text);
  if (!(unsigned ? GO_UINT : GO_INT).test(s)) {
    throw new Error(
      `strconv.Parse${unsigned ? 'Uint' : 'Int'}: parsing ${JSON.stringify(s)} in ${file}: invalid syntax`,
    );
  }
  return Number(s);
}

/** Sorted like Go's filepath.Glob, which is what orders the zones and devices. */
function globSorted(entries: readonly string[], pattern: RegExp): string[] {
  return entries.filter((e) => pattern.test(e)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function thermalZoneDirs(entries: readonly string[]): string[] {
  return globSorted(entries, ZONE_DIR);
}

export function coolingDeviceDirs(entries: readonly string[]): string[] {
  return globSorted(entries, COOLING_DIR);
}

export interface ThermalZone {
  /** The number after `thermal_zone`, as a string (the `zone` label). */
  readonly zone: string;
  readonly type: string;
  readonly tempCelsius: number;
}

export interface CoolingDevice {
  /** The number after `cooling_device` (the `name` label). */
  readonly name: string;
  readonly type: string;
  readonly curState: number;
  readonly maxState: number;
}

export function parseThermalZone(dir: string, type: string, temp: string): ThermalZone {
  return {
    zone: dir.slice('thermal_zone'.length),
    type: sysfsValue(type),
    tempCelsius: parseSysfsInt(`${dir}/temp`, temp) / 1000,
  };
}

export function parseCoolingDevice(
  dir: string,
  type: string,
  maxState: string,
  curState: string,
): CoolingDevice {
  return {
    name: dir.slice('cooling_device'.length),
    type: sysfsValue(type),
    maxState: parseSysfsInt(`${dir}/max_state`, maxState),
    curState: parseSysfsInt(`${dir}/cur_state`, curState),
  };
}
