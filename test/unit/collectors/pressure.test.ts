import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pressureCollector } from '../../../src/collectors/pressure';
import { NoDataError } from '../../../src/errors';
import { collectOnce, FIXTURE_PATHS } from '../../helpers/collect';

describe('pressure collector', () => {
  it('exports the stall totals in seconds with node_exporter help texts', async () => {
    const families = await collectOnce(pressureCollector);
    expect(families.map((f) => [f.name, f.type, f.help, f.samples[0]?.value])).toEqual([
      [
        'node_pressure_cpu_waiting_seconds_total',
        'counter',
        'Total time in seconds that processes have waited for CPU time',
        10.448486,
      ],
      [
        'node_pressure_io_waiting_seconds_total',
        'counter',
        'Total time in seconds that processes have waited due to IO congestion',
        2.767322,
      ],
      [
        'node_pressure_io_stalled_seconds_total',
        'counter',
        'Total time in seconds no process could make progress due to IO congestion',
        // node_exporter divides by 1000 twice, which gives this float rather than 2.615149.
        2.6151489999999997,
      ],
      [
        'node_pressure_memory_waiting_seconds_total',
        'counter',
        'Total time in seconds that processes have waited for memory',
        0.123456,
      ],
      [
        'node_pressure_memory_stalled_seconds_total',
        'counter',
        'Total time in seconds no process could make progress due to memory congestion',
        0.065432,
      ],
    ]);
  });

  it('reports no data when the kernel has no /proc/pressure', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'hostscope-pressure-'));
    try {
      await expect(
        collectOnce(pressureCollector, {}, { ...FIXTURE_PATHS, procfs: empty }),
      ).rejects.toBeInstanceOf(NoDataError);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
