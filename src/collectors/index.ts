import { arpCollector } from './arp';
import { conntrackCollector } from './conntrack';
import { cpuCollector } from './cpu';
import { cpufreqCollector } from './cpufreq';
import { diskstatsCollector } from './diskstats';
import { dmiCollector } from './dmi';
import { dockerCollector } from './docker/definition';
import { entropyCollector } from './entropy';
import { filefdCollector } from './filefd';
import { filesystemCollector } from './filesystem';
import { hwmonCollector } from './hwmon';
import { loadavgCollector } from './loadavg';
import { meminfoCollector } from './meminfo';
import { netclassCollector } from './netclass';
import { netdevCollector } from './netdev';
import { netstatCollector } from './netstat';
import { osCollector } from './os';
import { pressureCollector } from './pressure';
import { schedstatCollector } from './schedstat';
import { selinuxCollector } from './selinux';
import { sockstatCollector } from './sockstat';
import { softnetCollector } from './softnet';
import { statCollector } from './stat';
import { textfileCollector } from './textfile';
import { thermalZoneCollector } from './thermal_zone';
import { timeCollector } from './time';
import { timexCollector } from './timex';
import { udpQueuesCollector } from './udp_queues';
import { unameCollector } from './uname';
import { vmstatCollector } from './vmstat';
import type { CollectorDefinition } from './types';

/**
 * Every collector hostscope knows, by name. This map generates `--collector.X` / `--no-collector.X`
 * and the `--collector.X.option` flags. One entry per line, sorted by name.
 */
// prettier-ignore
const ALL: readonly CollectorDefinition[] = [
  arpCollector,
  conntrackCollector,
  cpuCollector,
  cpufreqCollector,
  diskstatsCollector,
  dmiCollector,
  dockerCollector,
  entropyCollector,
  filefdCollector,
  filesystemCollector,
  hwmonCollector,
  loadavgCollector,
  meminfoCollector,
  netclassCollector,
  netdevCollector,
  netstatCollector,
  osCollector,
  pressureCollector,
  schedstatCollector,
  selinuxCollector,
  sockstatCollector,
  softnetCollector,
  statCollector,
  textfileCollector,
  thermalZoneCollector,
  timeCollector,
  timexCollector,
  udpQueuesCollector,
  unameCollector,
  vmstatCollector,
];

// Code-point order, not localeCompare: the collation would map ~2 MB of ICU data into every exporter.
export const COLLECTORS: readonly CollectorDefinition[] = [...ALL].sort((a, b) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
);

export function findCollector(name: string): CollectorDefinition | undefined {
  return COLLECTORS.find((c) => c.name === name);
}
