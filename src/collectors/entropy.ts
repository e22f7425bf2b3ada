import { MetricSet } from '../metrics/metric-set';
import { parseKernelRandomValue } from './entropy.parse';
import type { CollectorDefinition } from './types';

export const entropyCollector: CollectorDefinition = {
  name: 'entropy',
  defaultEnabled: true,
  help: 'Exposes available entropy.',
  create: ({ fs }) => ({
    async update() {
      const read = async (file: string): Promise<number> =>
        parseKernelRandomValue(await fs.readText(fs.proc('sys', 'kernel', 'random', file)), file);
      const [available, poolSize] = await Promise.all([read('entropy_avail'), read('poolsize')]);
      return new MetricSet()
        .gauge('node_entropy_available_bits', 'Bits of available entropy.', available)
        .gauge('node_entropy_pool_size_bits', 'Bits of entropy pool.', poolSize)
        .families();
    },
  }),
};
