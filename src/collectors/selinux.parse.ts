/** SELinux enforcement modes as node_exporter reports them (opencontainers/selinux's enum). */
export const SELINUX_ENFORCING = 1;
export const SELINUX_PERMISSIVE = 0;
export const SELINUX_DISABLED = -1;

/** Mode configured in /etc/selinux/config (`SELINUX=enforcing|permissive|disabled`); anything else is disabled. */
export function parseSelinuxConfigMode(text: string | undefined): number {
  if (text === undefined) return SELINUX_DISABLED;
  let mode: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const m = /^SELINUX\s*=\s*(\S+)/.exec(line);
    if (m !== null) mode = (m[1] as string).replace(/^["']|["']$/g, '');
  }
  if (mode === 'enforcing') return SELINUX_ENFORCING;
  if (mode === 'permissive') return SELINUX_PERMISSIVE;
  return SELINUX_DISABLED;
}

/** The process's SELinux context from /proc/self/attr/current, NUL-terminated; "kernel" means no policy. */
export function isLabelled(attrCurrent: string): boolean {
  const context = attrCurrent.replace(/\0+$/, '').trim();
  return context !== '' && context !== 'kernel';
}
