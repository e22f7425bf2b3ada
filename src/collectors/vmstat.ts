import { MetricSet } from '../metrics/metric-set';
import { parseVmstat } from './vmstat.parse';
import type { CollectorDefinition } from './types';

/** node_exporter 1.5's default: page-in/out, swap-in/out, page faults and OOM kills. */
export const DEFAULT_VMSTAT_FIELDS = '^(oom_kill|pgpg|pswp|pg.*fault).*';

export const vmstatCollector: CollectorDefinition = {
  name: 'vmstat',
  defaultEnabled: true,
  help: 'Exposes statistics from /proc/vmstat.',
  options: [
    {
      name: 'fields',
      kind: 'regex',
      default: DEFAULT_VMSTAT_FIELDS,
      help: 'Regexp of fields to return for vmstat collector.',
    },
  ],
  create: ({ fs, options }) => {
    // Matched unanchored, as node_exporter's Go regexp.MatchString does.
    const include = new RegExp(options.string('fields'));
    return {
      async update() {
        const metrics = new MetricSet();
        for (const { name, value } of parseVmstat(await fs.readText(fs.proc('vmstat')), include)) {
          metrics.untyped(`node_vmstat_${name}`, `/proc/vmstat information field ${name}.`, value);
        }
        return metrics.families();
      },
    };
  },
};
