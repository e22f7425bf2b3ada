import { MetricSet } from '../metrics/metric-set';
import { isLabelled, parseSelinuxConfigMode } from './selinux.parse';
import type { CollectorDefinition } from './types';

const HELP = {
  enabled: 'SELinux is enabled, 1 is true, 0 is false',
  configMode: 'Configured SELinux enforcement mode',
  currentMode: 'Current SELinux enforcement mode',
};

/**
 * node_exporter's selinux collector: enabled when selinuxfs is mounted and this process runs under a
 * policy label; then the configured mode (/etc/selinux/config under rootfs) and the current one
 * (/sys/fs/selinux/enforce), as 1 enforcing, 0 permissive, -1 disabled.
 */
export const selinuxCollector: CollectorDefinition = {
  name: 'selinux',
  defaultEnabled: true,
  help: 'Exposes SELinux statistics.',
  create: ({ fs }) => ({
    async update() {
      const metrics = new MetricSet();
      const [enforce, context] = await Promise.all([
        fs.readAttr(fs.sys('fs', 'selinux', 'enforce')),
        fs.readAttr(fs.proc('self', 'attr', 'current')),
      ]);
      const enabled = enforce !== undefined && context !== undefined && isLabelled(context);
      metrics.gauge('node_selinux_enabled', HELP.enabled, enabled ? 1 : 0);
      if (!enabled) return metrics.families();
      const current = Number(enforce);
      if (!Number.isFinite(current))
        throw new Error(`unexpected /sys/fs/selinux/enforce content "${enforce}"`);
      metrics.gauge(
        'node_selinux_config_mode',
        HELP.configMode,
        parseSelinuxConfigMode(await fs.readAttr(fs.root('etc', 'selinux', 'config'))),
      );
      metrics.gauge('node_selinux_current_mode', HELP.currentMode, current);
      return metrics.families();
    },
  }),
};
