export interface MountEntry {
  readonly device: string;
  /** As the kernel lists it (under rootfs when the exporter runs in a container); `\040`/`\011` decoded. */
  readonly mountPoint: string;
  readonly fsType: string;
  /** True when the mount options contain `ro`. */
  readonly readOnly: boolean;
}

/**
 * Parses /proc/<pid>/mounts (fstab(5) format: device, mount point, type, options, dump, pass). Like
 * node_exporter 1.5 only the space (`\040`) and tab (`\011`) escapes of the mount point are decoded, and a
 * line with fewer than four fields fails the whole file.
 */
export function parseMounts(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) throw new Error(`malformed mount point information: ${JSON.stringify(line)}`);
    const [device, mountPoint, fsType, options] = fields as [string, string, string, string];
    mounts.push({
      device,
      mountPoint: mountPoint.replaceAll('\\040', ' ').replaceAll('\\011', '\t'),
      fsType,
      readOnly: options.split(',').includes('ro'),
    });
  }
  return mounts;
}

/**
 * Drops excluded mount points and types, then keeps the first of mounts with the same device, mount point
 * and type: node_exporter 1.5 exports each such series once (the first; later duplicates are dropped by
 * its registry, with an error in its log).
 */
export function selectMounts(
  mounts: readonly MountEntry[],
  mountPointsExclude: RegExp | undefined,
  fsTypesExclude: RegExp | undefined,
): MountEntry[] {
  const seen = new Set<string>();
  const selected: MountEntry[] = [];
  for (const m of mounts) {
    if (mountPointsExclude?.test(m.mountPoint) === true || fsTypesExclude?.test(m.fsType) === true) continue;
    const key = `${m.device}\u0000${m.mountPoint}\u0000${m.fsType}`;
    if (seen.has(key)) continue;
    seen.add(key);
    selected.push(m);
  }
  return selected;
}
