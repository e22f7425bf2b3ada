import * as os from 'node:os';
import { MetricSet } from '../metrics/metric-set';
import type { CollectorDefinition } from './types';

/** The utsname fields node_exporter reports, and the /proc/sys/kernel file holding each. */
const UTS_FILES = {
  sysname: 'ostype',
  release: 'osrelease',
  version: 'version',
  nodename: 'hostname',
  domainname: 'domainname',
} as const;

/** A /proc/sys value without its trailing newline; inner and other whitespace is part of the value. */
function procValue(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * node_exporter calls uname(2). The same strings are in /proc/sys/kernel (hostname and domainname per UTS
 * namespace, as uname's), read here so a fixture tree or --path.procfs drives them; the machine (hardware
 * name) has no /proc/sys file and comes from libuv's uname(2).
 */
export const unameCollector: CollectorDefinition = {
  name: 'uname',
  defaultEnabled: true,
  help: 'Exposes system information as provided by the uname system call.',
  create: ({ fs }) => ({
    async update() {
      const keys = Object.keys(UTS_FILES) as (keyof typeof UTS_FILES)[];
      const values = await Promise.all(keys.map((k) => fs.readText(fs.proc('sys', 'kernel', UTS_FILES[k]))));
      const labels: Record<string, string> = { machine: os.machine() };
      keys.forEach((k, i) => {
        labels[k] = procValue(values[i] ?? '');
      });
      return new MetricSet()
        .gauge(
          'node_uname_info',
          'Labeled system information as provided by the uname system call.',
          1,
          labels,
        )
        .families();
    },
  }),
};
