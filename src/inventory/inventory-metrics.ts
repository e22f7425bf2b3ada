import type { Systeminformation } from 'systeminformation';
import { MetricSet } from '../metrics/metric-set';
import type { MetricFamily } from '../metrics/types';

export interface InventorySnapshot {
  readonly cpu: Systeminformation.CpuData;
  readonly memory: readonly Systeminformation.MemLayoutData[];
  readonly disks: readonly Systeminformation.DiskLayoutData[];
  readonly nics: readonly Systeminformation.NetworkInterfacesData[];
  readonly system: Systeminformation.SystemData;
  readonly os: Systeminformation.OsData;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).trim();
}

/** Maps an inventory snapshot to `*_info` gauges of value 1 (pure: no I/O). */
export function inventoryFamilies(inv: InventorySnapshot): MetricFamily[] {
  const set = new MetricSet();
  const { cpu, system, os } = inv;
  set.gauge('hostscope_cpu_info', 'CPU model and topology, from the inventory.', 1, {
    vendor: text(cpu.manufacturer || cpu.vendor),
    brand: text(cpu.brand),
    family: text(cpu.family),
    model: text(cpu.model),
    stepping: text(cpu.stepping),
    cores: text(cpu.cores),
    physical_cores: text(cpu.physicalCores),
    sockets: text(cpu.processors),
    max_mhz: text(cpu.speedMax ? Math.round(cpu.speedMax * 1000) : ''),
    virtualization: text(cpu.virtualization),
  });
  inv.memory.forEach((m, index) => {
    set.gauge('hostscope_memory_module_info', 'Memory modules (DIMMs) where the firmware reports them.', 1, {
      slot: text(m.bank) || String(index),
      type: text(m.type),
      size_bytes: text(m.size),
      clock_mhz: text(m.clockSpeed || ''),
      form_factor: text(m.formFactor),
      manufacturer: text(m.manufacturer),
      part_number: text(m.partNum),
      serial: text(m.serialNum),
    });
  });
  for (const d of inv.disks) {
    set.gauge('hostscope_disk_info', 'Physical disks, from the inventory.', 1, {
      device: text(d.device),
      type: text(d.type),
      name: text(d.name),
      vendor: text(d.vendor),
      size_bytes: text(d.size),
      interface: text(d.interfaceType),
      serial: text(d.serialNum),
      firmware: text(d.firmwareRevision),
    });
  }
  for (const n of inv.nics) {
    set.gauge('hostscope_network_interface_info', 'Network interfaces, from the inventory.', 1, {
      interface: text(n.iface),
      mac: text(n.mac),
      ip4: text(n.ip4),
      ip6: text(n.ip6),
      type: text(n.type),
      speed_mbps: text(n.speed ?? ''),
      mtu: text(n.mtu ?? ''),
      virtual: text(n.virtual),
      internal: text(n.internal),
    });
  }
  set.gauge('hostscope_system_info', 'Host system: vendor, model, virtualization and OS.', 1, {
    vendor: text(system.manufacturer),
    model: text(system.model),
    version: text(system.version),
    serial: text(system.serial),
    uuid: text(system.uuid),
    virtual: text(system.virtual),
    virtualization: text(system.virtualHost ?? ''),
    os: text(os.distro),
    os_release: text(os.release),
    kernel: text(os.kernel),
    arch: text(os.arch),
    hostname: text(os.hostname),
  });
  return set.families();
}
