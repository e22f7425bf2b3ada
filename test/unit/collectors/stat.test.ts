import { statCollector } from '../../../src/collectors/stat';
import { collectOnce, family, valueOf } from '../../helpers/collect';

describe('stat collector', () => {
  it('exports the /proc/stat scalars with node_exporter names, types and help', async () => {
    const families = await collectOnce(statCollector);
    const summary = Object.fromEntries(families.map((f) => [f.name, [f.type, f.help, f.samples[0]?.value]]));
    expect(summary).toEqual({
      node_intr_total: ['counter', 'Total number of interrupts serviced.', 1287345],
      node_context_switches_total: ['counter', 'Total number of context switches.', 2345678],
      node_forks_total: ['counter', 'Total number of forks.', 45678],
      node_boot_time_seconds: ['gauge', 'Node boot time, in unixtime.', 1700000000],
      node_procs_running: ['gauge', 'Number of processes in runnable state.', 3],
      node_procs_blocked: ['gauge', 'Number of processes blocked waiting for I/O to complete.', 1],
    });
  });

  it('exports softirqs per vector only with the softirq option', async () => {
    const families = await collectOnce(statCollector, { softirq: true });
    const softirqs = family(families, 'node_softirqs_total');
    expect(softirqs.type).toBe('counter');
    expect(softirqs.help).toBe('Number of softirq calls.');
    expect(softirqs.samples).toHaveLength(10);
    expect(valueOf(families, 'node_softirqs_total', { vector: 'net_rx' })).toBe(45678);
    expect(valueOf(families, 'node_softirqs_total', { vector: 'rcu' })).toBe(348673);
    expect(valueOf(families, 'node_softirqs_total', { vector: 'block_iopoll' })).toBe(0);
  });
});
