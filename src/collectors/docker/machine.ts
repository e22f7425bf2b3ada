import type { HostFs } from '../../host/host-fs';
import { countProcessors, memTotalBytes } from './machine.parse';

export interface MachineInfo {
  readonly cpuCores: number;
  readonly memoryBytes: number | undefined;
  /** cAdvisor's base labels of machine_* metrics (empty strings when unknown). */
  readonly labels: Readonly<{ machine_id: string; system_uuid: string; boot_id: string }>;
}

async function firstAttr(fs: HostFs, files: readonly string[]): Promise<string> {
  for (const f of files) {
    const v = await fs.readAttr(f);
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

/**
 * Reads cAdvisor's machine info: logical CPUs, memory capacity, and the machine_id / system_uuid /
 * boot_id labels cAdvisor puts on machine_* metrics. Cheap, but the docker collector still caches it
 * and refreshes it every few minutes (CPU hotplug and memory resizes are rare).
 */
export async function readMachineInfo(fs: HostFs): Promise<MachineInfo> {
  const [cpuinfo, meminfo, machineId, systemUuid, bootId] = await Promise.all([
    fs.readText(fs.proc('cpuinfo')).catch(() => ''),
    fs.readText(fs.proc('meminfo')).catch(() => ''),
    firstAttr(fs, [fs.root('etc', 'machine-id'), fs.root('var', 'lib', 'dbus', 'machine-id')]),
    firstAttr(fs, [fs.sys('class', 'dmi', 'id', 'product_uuid'), fs.proc('device-tree', 'system-id')]),
    firstAttr(fs, [fs.proc('sys', 'kernel', 'random', 'boot_id')]),
  ]);
  return {
    cpuCores: countProcessors(cpuinfo),
    memoryBytes: memTotalBytes(meminfo),
    labels: { machine_id: machineId, system_uuid: systemUuid, boot_id: bootId },
  };
}
