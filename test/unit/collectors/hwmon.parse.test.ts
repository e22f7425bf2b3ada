import {
  chipNameFromDevicePath,
  cleanMetricName,
  hwmonSamples,
  parseGoFloat,
  sensorFile,
  trimNewlines,
  type ChipData,
} from '../../../src/collectors/hwmon.parse';

/** Builds chip data from `sensor -> {prop: raw}` with the sensor type taken from the key. */
function chip(sensors: Record<string, Record<string, string>>): ChipData {
  return new Map(
    Object.entries(sensors).map(([sensor, props]) => [
      sensor,
      { type: sensor.replace(/[0-9]+$/, ''), props: new Map(Object.entries(props)) },
    ]),
  );
}

const render = (samples: ReturnType<typeof hwmonSamples>) =>
  samples
    .map(
      (s) =>
        `${s.type} ${s.name}{${Object.entries(s.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}} ${s.value} # ${s.help}`,
    )
    .sort();

describe('sensorFile', () => {
  it.each([
    ['temp1_input', { sensor: 'temp1', type: 'temp', property: 'input' }],
    ['temp1_crit_alarm', { sensor: 'temp1', type: 'temp', property: 'crit_alarm' }],
    ['in0_input', { sensor: 'in0', type: 'in', property: 'input' }],
    ['fan12_min', { sensor: 'fan12', type: 'fan', property: 'min' }],
    ['pwm1', { sensor: 'pwm1', type: 'pwm', property: '' }],
    ['beep_enable', { sensor: 'beep_enable0', type: 'beep_enable', property: '' }],
    ['update_interval', { sensor: 'update_interval0', type: 'update_interval', property: '' }],
    ['vrm', { sensor: 'vrm0', type: 'vrm', property: '' }],
    ['temp', { sensor: 'temp0', type: 'temp', property: '' }],
    ['power1_average_interval', { sensor: 'power1', type: 'power', property: 'average_interval' }],
    ['temp01_input', { sensor: 'temp1', type: 'temp', property: 'input' }],
  ])('classifies %s', (name, expected) => {
    expect(sensorFile(name)).toEqual(expected);
  });

  it.each([
    'name',
    'uevent',
    'device',
    'subsystem',
    'of_node',
    'temp_input',
    'temp1a_input',
    'freq1_input',
    '1temp',
  ])('ignores %s', (name) => {
    expect(sensorFile(name)).toBeUndefined();
  });

  it('ignores sensor numbers that overflow int64', () => {
    expect(sensorFile('temp9223372036854775807_input')?.sensor).toBe('temp9223372036854775807');
    expect(sensorFile('temp9223372036854775808_input')).toBeUndefined();
  });
});

describe('name helpers', () => {
  it('cleans names into metric-safe text', () => {
    expect(cleanMetricName('nct6779\n')).toBe('nct6779');
    expect(cleanMetricName('coretemp.0')).toBe('coretemp_0');
    expect(cleanMetricName('  Package id 0 ')).toBe('package_id_0');
    expect(cleanMetricName('ACPI0000:00')).toBe('acpi0000:00');
    expect(cleanMetricName('fan🙂1')).toBe('fan_1');
    expect(cleanMetricName('---')).toBe('');
  });

  it('names a chip after its device and the device parent', () => {
    expect(chipNameFromDevicePath('/sys/devices/platform/coretemp.0')).toBe('platform_coretemp_0');
    expect(chipNameFromDevicePath('/sys/devices/pci0000:00/0000:00:18.3')).toBe('pci0000:00_0000:00:18_3');
    expect(chipNameFromDevicePath('/nvme0')).toBe('nvme0');
    expect(chipNameFromDevicePath('/---')).toBeUndefined();
  });

  it('trims only newlines from values', () => {
    expect(trimNewlines('\nPackage id 0 \n\n')).toBe('Package id 0 ');
  });

  it('parses numbers like Go strconv.ParseFloat', () => {
    expect(parseGoFloat('45000')).toBe(45000);
    expect(parseGoFloat('-1.5e3')).toBe(-1500);
    expect(parseGoFloat('+.5')).toBe(0.5);
    expect(parseGoFloat('Inf')).toBe(Infinity);
    expect(parseGoFloat('-infinity')).toBe(-Infinity);
    expect(parseGoFloat('NaN')).toBeNaN();
    for (const bad of ['', ' 1', '1 ', '0x10', '1e400', '+nan', 'enabled', '1_000']) {
      expect(parseGoFloat(bad)).toBeUndefined();
    }
  });
});

describe('hwmonSamples', () => {
  it('converts temperatures, labels and alarms (coretemp)', () => {
    const samples = hwmonSamples(
      'platform_coretemp_0',
      chip({
        temp1: { input: '45000', label: 'Package id 0', crit: '100000', crit_alarm: '0', max: '80000' },
      }),
    );
    expect(render(samples)).toEqual(
      [
        'gauge node_hwmon_sensor_label{chip=platform_coretemp_0,sensor=temp1,label=Package id 0} 1 # Label for given chip and sensor',
        'gauge node_hwmon_temp_celsius{chip=platform_coretemp_0,sensor=temp1} 45 # Hardware monitor for temperature (input)',
        'gauge node_hwmon_temp_crit_celsius{chip=platform_coretemp_0,sensor=temp1} 100 # Hardware monitor for temperature (crit)',
        'gauge node_hwmon_temp_crit_alarm_celsius{chip=platform_coretemp_0,sensor=temp1} 0 # Hardware monitor for temperature (crit_alarm)',
        'gauge node_hwmon_temp_max_celsius{chip=platform_coretemp_0,sensor=temp1} 80 # Hardware monitor for temperature (max)',
      ].sort(),
    );
  });

  it('names a bare reading after the type and gives `_input` its own name only then', () => {
    const samples = hwmonSamples('c', chip({ temp0: { '': '27800', input: '28000' } }));
    expect(render(samples)).toEqual([
      'gauge node_hwmon_temp_celsius{chip=c,sensor=temp0} 27.8 # Hardware monitor for temperature (input)',
      'gauge node_hwmon_temp_input_celsius{chip=c,sensor=temp0} 28 # Hardware monitor for temperature (input)',
    ]);
  });

  it('converts fans, voltages, pwm and the generic elements (nct6779)', () => {
    const samples = hwmonSamples(
      'n',
      chip({
        fan1: { input: '1200', min: '300', alarm: '0', beep: '1', pulses: '2', target: '1000' },
        in0: { input: '1040', max: '1744' },
        cpu0: { vid: '1100' },
        pwm1: { '': '128', enable: '5' },
        intrusion0: { alarm: '1' },
        temp1: { type: '4' },
      }),
    );
    expect(render(samples)).toEqual(
      [
        'gauge node_hwmon_fan_rpm{chip=n,sensor=fan1} 1200 # Hardware monitor for fan revolutions per minute (input)',
        'gauge node_hwmon_fan_min_rpm{chip=n,sensor=fan1} 300 # Hardware monitor for fan revolutions per minute (min)',
        'gauge node_hwmon_fan_target_rpm{chip=n,sensor=fan1} 1000 # Hardware monitor for fan revolutions per minute (target)',
        'gauge node_hwmon_fan_alarm{chip=n,sensor=fan1} 0 # Hardware sensor alarm status (fan)',
        'gauge node_hwmon_fan_beep_enabled{chip=n,sensor=fan1} 1 # Hardware monitor sensor has beeping enabled',
        'gauge node_hwmon_fan_pulses{chip=n,sensor=fan1} 2 # Hardware monitor fan element pulses',
        'gauge node_hwmon_in_volts{chip=n,sensor=in0} 1.04 # Hardware monitor for voltage (input)',
        'gauge node_hwmon_in_max_volts{chip=n,sensor=in0} 1.744 # Hardware monitor for voltage (max)',
        'gauge node_hwmon_cpu_vid_volts{chip=n,sensor=cpu0} 1.1 # Hardware monitor for voltage (vid)',
        'gauge node_hwmon_pwm{chip=n,sensor=pwm1} 128 # Hardware monitor pwm element ',
        'gauge node_hwmon_pwm_enable{chip=n,sensor=pwm1} 5 # Hardware monitor pwm element enable',
        'gauge node_hwmon_intrusion_alarm{chip=n,sensor=intrusion0} 1 # Hardware sensor alarm status (intrusion)',
        'gauge node_hwmon_temp_type{chip=n,sensor=temp1} 4 # Hardware monitor temp element type',
      ].sort(),
    );
  });

  it('converts power, energy, current and humidity to base units', () => {
    const samples = hwmonSamples(
      'p',
      chip({
        power1: { average: '15500000', average_interval: '1000', accuracy: '95000', cap: '50000000' },
        energy1: { input: '123456789' },
        curr1: { input: '1500' },
        humidity1: { input: '45500' },
      }),
    );
    expect(render(samples)).toEqual(
      [
        'gauge node_hwmon_power_average_watt{chip=p,sensor=power1} 15.5 # Hardware monitor for power usage in watts (average)',
        'gauge node_hwmon_power_average_interval_seconds{chip=p,sensor=power1} 1 # Hardware monitor power usage update interval (average_interval)',
        'gauge node_hwmon_power_accuracy{chip=p,sensor=power1} 0.095 # Hardware monitor power meter accuracy, as a ratio',
        'gauge node_hwmon_power_cap_watt{chip=p,sensor=power1} 50 # Hardware monitor for power usage in watts (cap)',
        'counter node_hwmon_energy_joule_total{chip=p,sensor=energy1} 123.456789 # Hardware monitor for joules used so far (input)',
        'gauge node_hwmon_curr_amps{chip=p,sensor=curr1} 1.5 # Hardware monitor for current (input)',
        'gauge node_hwmon_humidity{chip=p,sensor=humidity1} 0.0455 # Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) (input)',
      ].sort(),
    );
  });

  it('handles the whole-sensor types: beep_enable, vrm, update_interval', () => {
    const samples = hwmonSamples(
      'w',
      chip({
        beep_enable0: { '': '0' },
        vrm0: { '': '90' },
        update_interval0: { '': '2000' },
      }),
    );
    expect(render(samples)).toEqual(
      [
        'gauge node_hwmon_beep_enabled{chip=w,sensor=beep_enable0} 0 # Hardware beep enabled',
        'gauge node_hwmon_voltage_regulator_version{chip=w,sensor=vrm0} 90 # Hardware voltage regulator',
        'gauge node_hwmon_update_interval_seconds{chip=w,sensor=update_interval0} 2 # Hardware monitor update interval',
      ].sort(),
    );
  });

  it('skips values that are not numbers but still reports the label', () => {
    const samples = hwmonSamples('n', chip({ temp2: { input: '', label: 'CPUTIN' }, vrm0: { '': 'n/a' } }));
    expect(render(samples)).toEqual([
      'gauge node_hwmon_sensor_label{chip=n,sensor=temp2,label=CPUTIN} 1 # Label for given chip and sensor',
    ]);
  });
});
