/**
 * Reads the hardware/OS inventory through systeminformation (which shells out to lsblk, dmidecode, ...).
 * Run as a child process of the exporter (see readInventoryInChild): it prints the snapshot as JSON on
 * stdout and exits, so systeminformation and the Node.js modules it loads (https, dns, readline, ...)
 * never stay resident in the exporter for a refresh every few minutes.
 */
import * as si from 'systeminformation';
import type { InventorySnapshot } from './inventory-metrics';

export async function readInventory(): Promise<InventorySnapshot> {
  const [cpu, memory, disks, nics, system, os] = await Promise.all([
    si.cpu(),
    si.memLayout(),
    si.diskLayout(),
    si.networkInterfaces(),
    si.system(),
    si.osInfo(),
  ]);
  return { cpu, memory, disks, nics: Array.isArray(nics) ? nics : [nics], system, os };
}

if (require.main === module) {
  readInventory().then(
    (snapshot) => process.stdout.write(JSON.stringify(snapshot)),
    (err: unknown) => {
      process.stderr.write(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
