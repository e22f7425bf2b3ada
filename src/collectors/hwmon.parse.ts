/**
 * Pure parts of the hwmon collector: sensor file names, chip names, and the mapping from a chip's raw
 * sysfs values to node_hwmon_* samples, following node_exporter 1.5's hwmon collector and the kernel's
 * sysfs-interface units (milli-volts/-degrees/-amps, micro-watts/-joules, rpm).
 */

/** The sensor types node_exporter reads; other files (name, uevent, device, subsystem...) are ignored. */
const SENSOR_TYPES: ReadonlySet<string> = new Set([
  'vrm',
  'beep_enable',
  'update_interval',
  'in',
  'cpu',
  'fan',
  'pwm',
  'temp',
  'curr',
  'power',
  'energy',
  'humidity',
  'intrusion',
]);

/** `<type><number>_<property>`; the type is everything up to the first digit, underscores included. */
const SENSOR_FILENAME = /^([^0-9]+)([0-9]*)?(_(.+))?$/;
const INVALID_METRIC_CHARS = /[^a-z0-9:_]/gu;
const EDGE_UNDERSCORES = /^_+|_+$/g;
const LEADING_ZEROS = /^0+(?=[0-9])/;
const INT64_MAX = '9223372036854775807';
const GO_FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const GO_INF = /^[+-]?(inf|infinity)$/i;
const GO_NAN = /^nan$/i;
const EDGE_NEWLINES = /^\n+|\n+$/g;

export interface SensorFile {
  /** Sensor key: type plus the number without leading zeros (`temp1`, `in0`, `beep_enable0`). */
  readonly sensor: string;
  readonly type: string;
  /** `input`, `crit`, `label`...; empty for a file that is just `<type><n>` (e.g. `pwm1`). */
  readonly property: string;
}

/** Classifies a file in a hwmon directory; undefined for files that are not sensor attributes. */
export function sensorFile(filename: string): SensorFile | undefined {
  const m = SENSOR_FILENAME.exec(filename);
  if (m === null) return undefined;
  const type = m[1] ?? '';
  if (!SENSOR_TYPES.has(type)) return undefined;
  const digits = (m[2] ?? '').replace(LEADING_ZEROS, '');
  // Go parses the number as an int; one that overflows int64 makes the file unusable.
  if (digits.length > INT64_MAX.length || (digits.length === INT64_MAX.length && digits > INT64_MAX)) {
    return undefined;
  }
  return { sensor: type + (digits === '' ? '0' : digits), type, property: m[4] ?? '' };
}

/** Lower-cases, turns every character outside [a-z0-9:_] into `_`, and trims `_` at both ends. */
export function cleanMetricName(name: string): string {
  return name.toLowerCase().replace(INVALID_METRIC_CHARS, '_').replace(EDGE_UNDERSCORES, '');
}

/**
 * The chip label node_exporter derives from the resolved `device` link: `<parent dir>_<device dir>`
 * (`/sys/devices/platform/coretemp.0` -> `platform_coretemp_0`), or just the device dir when the parent
 * cleans to nothing; undefined when neither gives a name.
 */
export function chipNameFromDevicePath(devicePath: string): string | undefined {
  const parts = devicePath.split('/');
  const devName = cleanMetricName(parts[parts.length - 1] ?? '');
  let i = parts.length - 2;
  while (i >= 0 && parts[i] === '') i--;
  const devType = cleanMetricName(i >= 0 ? (parts[i] ?? '') : '');
  if (devType !== '' && devName !== '') return `${devType}_${devName}`;
  return devName !== '' ? devName : undefined;
}

/** Go's strconv.ParseFloat for decimal input: no surrounding blanks, no hex, out-of-range is an error. */
export function parseGoFloat(text: string): number | undefined {
  if (GO_INF.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (GO_NAN.test(text)) return NaN;
  if (!GO_FLOAT.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** A sysfs attribute value as node_exporter keeps it: newlines trimmed at both ends, nothing else. */
export function trimNewlines(text: string): string {
  return text.replace(EDGE_NEWLINES, '');
}

/** One chip's readings: sensor key -> its type and property -> raw value. */
export type ChipData = Map<string, { readonly type: string; readonly props: Map<string, string> }>;

export interface HwmonSample {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly value: number;
  readonly labels: Record<string, string>;
}

/** Builds the samples of one chip's sensors (node_hwmon_chip_names is added by the caller). */
export function hwmonSamples(chip: string, data: ChipData): HwmonSample[] {
  const out: HwmonSample[] = [];
  for (const [sensor, { type: sensorType, props }] of data) {
    const labels = { chip, sensor };
    const gauge = (name: string, help: string, value: number) =>
      out.push({ name, help, type: 'gauge', value, labels });

    const labelText = props.get('label');
    if (labelText !== undefined) {
      out.push({
        name: 'node_hwmon_sensor_label',
        help: 'Label for given chip and sensor',
        type: 'gauge',
        value: 1,
        labels: { chip, sensor, label: labelText },
      });
    }

    if (sensorType === 'beep_enable') {
      gauge('node_hwmon_beep_enabled', 'Hardware beep enabled', props.get('') === '1' ? 1 : 0);
      continue;
    }
    if (sensorType === 'vrm' || sensorType === 'update_interval') {
      const v = parseGoFloat(props.get('') ?? '');
      if (v === undefined) continue;
      if (sensorType === 'vrm')
        gauge('node_hwmon_voltage_regulator_version', 'Hardware voltage regulator', v);
      else gauge('node_hwmon_update_interval_seconds', 'Hardware monitor update interval', v * 0.001);
      continue;
    }

    const prefix = `node_hwmon_${sensorType}`;
    for (const [prop, raw] of props) {
      if (prop === 'label') continue;
      let element = prop;
      let name = prefix;
      if (element === 'input') {
        // `<type><n>_input` is the reading; it only gets its own suffix when a bare `<type><n>` exists too.
        if (props.has('')) name += '_input';
      } else if (element !== '') {
        name += `_${cleanMetricName(element)}`;
      }
      const value = parseGoFloat(raw);
      if (value === undefined) continue;

      if (element === 'fault' || element === 'alarm') {
        gauge(name, `Hardware sensor ${element} status (${sensorType})`, value);
      } else if (element === 'beep') {
        gauge(`${name}_enabled`, 'Hardware monitor sensor has beeping enabled', value);
      } else if (sensorType === 'in' || sensorType === 'cpu') {
        gauge(`${name}_volts`, `Hardware monitor for voltage (${element})`, value * 0.001);
      } else if (sensorType === 'temp' && element !== 'type') {
        if (element === '') element = 'input';
        gauge(`${name}_celsius`, `Hardware monitor for temperature (${element})`, value * 0.001);
      } else if (sensorType === 'curr') {
        gauge(`${name}_amps`, `Hardware monitor for current (${element})`, value * 0.001);
      } else if (sensorType === 'energy') {
        out.push({
          name: `${name}_joule_total`,
          help: `Hardware monitor for joules used so far (${element})`,
          type: 'counter',
          value: value / 1e6,
          labels,
        });
      } else if (sensorType === 'power' && element === 'accuracy') {
        gauge(name, 'Hardware monitor power meter accuracy, as a ratio', value / 1e6);
      } else if (
        sensorType === 'power' &&
        (element === 'average_interval' ||
          element === 'average_interval_min' ||
          element === 'average_interval_max')
      ) {
        gauge(`${name}_seconds`, `Hardware monitor power usage update interval (${element})`, value * 0.001);
      } else if (sensorType === 'power') {
        gauge(`${name}_watt`, `Hardware monitor for power usage in watts (${element})`, value / 1e6);
      } else if (sensorType === 'humidity') {
        gauge(
          name,
          `Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) (${element})`,
          value / 1e6,
        );
      } else if (
        sensorType === 'fan' &&
        (element === 'input' || element === 'min' || element === 'max' || element === 'target')
      ) {
        gauge(`${name}_rpm`, `Hardware monitor for fan revolutions per minute (${element})`, value);
      } else {
        gauge(name, `Hardware monitor ${sensorType} element ${element}`, value);
      }
    }
  }
  return out;
}
