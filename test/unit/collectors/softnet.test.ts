import { softnetCollector } from '../../../src/collectors/softnet';
import { collectOnce, family, valueOf } from '../../helpers/collect';

describe('softnet collector', () => {
  it('exports processed, dropped and squeezed counters per CPU', async () => {
    const families = await collectOnce(softnetCollector);
    expect(families.map((f) => [f.name, f.type, f.help])).toEqual([
      ['node_softnet_processed_total', 'counter', 'Number of processed packets'],
      ['node_softnet_dropped_total', 'counter', 'Number of dropped packets'],
      ['node_softnet_times_squeezed_total', 'counter', 'Number of times processing packets ran out of quota'],
    ]);
    expect(valueOf(families, 'node_softnet_processed_total', { cpu: '1' })).toBe(10033);
    expect(valueOf(families, 'node_softnet_times_squeezed_total', { cpu: '1' })).toBe(10);
    // The third row belongs to CPU 3 (CPU 2 is offline), as its 13th column says.
    expect(valueOf(families, 'node_softnet_dropped_total', { cpu: '3' })).toBe(17);
    expect(family(families, 'node_softnet_dropped_total').samples.map((s) => s.labels.cpu)).toEqual([
      '0',
      '1',
      '3',
    ]);
  });
});
