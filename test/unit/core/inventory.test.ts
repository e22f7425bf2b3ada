import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Inventory, readInventoryInChild } from '../../../src/inventory/inventory';
import { inventoryFamilies, type InventorySnapshot } from '../../../src/inventory/inventory-metrics';
import { silentLogger } from '../../../src/log/logger';

const SNAPSHOT = {
  cpu: {
    manufacturer: 'AMD',
    brand: 'EPYC 7763',
    family: '25',
    model: '1',
    stepping: '1',
    cores: 8,
    physicalCores: 4,
    processors: 1,
    speedMax: 3.5,
    virtualization: true,
  },
  memory: [
    {
      bank: 'DIMM_A1',
      type: 'DDR4',
      size: 17179869184,
      clockSpeed: 3200,
      formFactor: 'DIMM',
      manufacturer: 'Samsung',
      partNum: 'M393A2K43',
      serialNum: 'S1',
    },
  ],
  disks: [
    {
      device: '/dev/nvme0n1',
      type: 'NVMe',
      name: 'Samsung SSD 980',
      vendor: 'Samsung',
      size: 1000204886016,
      interfaceType: 'PCIe',
      serialNum: 'X1',
      firmwareRevision: '3B4Q',
    },
  ],
  nics: [
    {
      iface: 'eth0',
      mac: '02:00:00:00:00:01',
      ip4: '10.0.0.5',
      ip6: '',
      type: 'wired',
      speed: 1000,
      mtu: 1500,
      virtual: false,
      internal: false,
    },
  ],
  system: {
    manufacturer: 'Dell Inc.',
    model: 'PowerEdge R640',
    version: '',
    serial: 'ABC123',
    uuid: 'u-1',
    virtual: false,
    virtualHost: '',
  },
  os: { distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64', hostname: 'web-1' },
} as unknown as InventorySnapshot;

describe('inventory metrics', () => {
  it('maps a snapshot to *_info gauges of value 1 with descriptive labels', () => {
    const families = inventoryFamilies(SNAPSHOT);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(byName.get('hostscope_cpu_info')?.samples[0]?.labels).toMatchObject({
      vendor: 'AMD',
      brand: 'EPYC 7763',
      cores: '8',
      physical_cores: '4',
      sockets: '1',
      max_mhz: '3500',
    });
    expect(byName.get('hostscope_memory_module_info')?.samples[0]?.labels).toMatchObject({
      slot: 'DIMM_A1',
      size_bytes: '17179869184',
    });
    expect(byName.get('hostscope_disk_info')?.samples[0]?.labels).toMatchObject({
      device: '/dev/nvme0n1',
      serial: 'X1',
    });
    expect(byName.get('hostscope_network_interface_info')?.samples[0]?.labels).toMatchObject({
      interface: 'eth0',
      speed_mbps: '1000',
    });
    expect(byName.get('hostscope_system_info')?.samples[0]?.labels).toMatchObject({
      vendor: 'Dell Inc.',
      model: 'PowerEdge R640',
      hostname: 'web-1',
    });
    for (const f of families) for (const s of f.samples) expect(s.value).toBe(1);
  });

  it('keeps the previous snapshot when a refresh fails, and says so', async () => {
    let fail = false;
    const inventory = new Inventory(60_000, silentLogger(), async () => {
      if (fail) throw new Error('dmidecode exploded');
      return SNAPSHOT;
    });
    await inventory.refresh();
    fail = true;
    await inventory.refresh();
    const families = await inventory.collect();
    expect(families.some((f) => f.name === 'hostscope_cpu_info')).toBe(true);
    expect(families.find((f) => f.name === 'hostscope_inventory_refresh_success')?.samples[0]?.value).toBe(0);
  });

  it('stops a refresh in progress when stopped, without logging a failure', async () => {
    let aborted = false;
    const inventory = new Inventory(
      60_000,
      silentLogger(),
      (signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    );
    void inventory.refresh();
    await inventory.stop();
    expect(aborted).toBe(true);
  });
});

describe('readInventoryInChild', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hostscope-inventory-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads this machine through systeminformation in the built child process', async () => {
    // npm test builds dist/ first; the child is the built read-inventory.js.
    const script = path.join(__dirname, '../../../dist/inventory/read-inventory.js');
    const snapshot = await readInventoryInChild(undefined, script);
    expect(snapshot.cpu.cores).toBe(os.cpus().length);
    expect(snapshot.os.hostname).toBe(os.hostname());
    const families = inventoryFamilies(snapshot);
    expect(families.map((f) => f.name)).toEqual(
      expect.arrayContaining(['hostscope_cpu_info', 'hostscope_system_info']),
    );
  }, 60_000);

  it('fails with what the child said when it fails or prints no snapshot', async () => {
    const failing = path.join(dir, 'fail.js');
    writeFileSync(failing, "process.stderr.write('lsblk: not found'); process.exit(3);");
    await expect(readInventoryInChild(undefined, failing)).rejects.toThrow(
      /inventory reader failed: lsblk: not found/,
    );
    const garbage = path.join(dir, 'garbage.js');
    writeFileSync(garbage, "process.stdout.write('{not json');");
    await expect(readInventoryInChild(undefined, garbage)).rejects.toThrow(/printed no snapshot/);
  });
});
