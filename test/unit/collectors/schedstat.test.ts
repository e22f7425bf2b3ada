import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { schedstatCollector } from '../../../src/collectors/schedstat';
import { NoDataError } from '../../../src/errors';
import { collectOnce, family, FIXTURE_PATHS, valueOf } from '../../helpers/collect';

describe('schedstat collector', () => {
  it('exports running and waiting seconds and timeslices per CPU', async () => {
    const families = await collectOnce(schedstatCollector);
    expect(family(families, 'node_schedstat_running_seconds_total').help).toBe(
      'Number of seconds CPU spent running a process.',
    );
    expect(family(families, 'node_schedstat_waiting_seconds_total').help).toBe(
      'Number of seconds spent by processing waiting for this CPU.',
    );
    expect(family(families, 'node_schedstat_timeslices_total').help).toBe(
      'Number of timeslices executed by CPU.',
    );
    expect(families.every((f) => f.type === 'counter' && f.samples.length === 3)).toBe(true);
    expect(valueOf(families, 'node_schedstat_running_seconds_total', { cpu: '0' })).toBe(2230.333480914);
    expect(valueOf(families, 'node_schedstat_waiting_seconds_total', { cpu: '3' })).toBe(0.0025);
    expect(valueOf(families, 'node_schedstat_timeslices_total', { cpu: '1' })).toBe(1097436);
  });

  it('reports no data on a kernel without CONFIG_SCHEDSTATS', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'hostscope-schedstat-'));
    try {
      await expect(
        collectOnce(schedstatCollector, {}, { ...FIXTURE_PATHS, procfs: empty }),
      ).rejects.toBeInstanceOf(NoDataError);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
