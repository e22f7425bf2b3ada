import { MetricSet } from '../metrics/metric-set';
import { parseFileNr } from './filefd.parse';
import type { CollectorDefinition } from './types';

export const filefdCollector: CollectorDefinition = {
  name: 'filefd',
  defaultEnabled: true,
  help: 'Exposes file descriptor statistics from /proc/sys/fs/file-nr.',
  create: ({ fs }) => ({
    async update() {
      const stats = parseFileNr(await fs.readText(fs.proc('sys', 'fs', 'file-nr')));
      return new MetricSet()
        .gauge('node_filefd_allocated', 'File descriptor statistics: allocated.', stats.allocated)
        .gauge('node_filefd_maximum', 'File descriptor statistics: maximum.', stats.maximum)
        .families();
    },
  }),
};
