/**
 * Golden end-to-end test: the fixture /proc + /sys tree (test/fixtures/host, see its README) -> the built
 * exporter -> the full /metrics output, diffed against test/golden/exporter.prom. Values that vary by
 * nature (durations, the live clock, statfs of real directories, file mtimes) are masked, not skipped.
 * Rewrite the golden file with UPDATE_GOLDEN=1 npm test -- test/e2e/golden.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURE_PATHS } from '../helpers/collect';
import { startExporterProcess } from '../helpers/exporter-process';
import { describeWithService, hasBinary } from '../helpers/services';

const GOLDEN = path.join(__dirname, '../golden/exporter.prom');
const TEXTFILE_DIR = path.join(__dirname, '../fixtures/textfile');

/** Series whose value is masked, by metric name. */
const MASK_VALUE = [
  /^node_scrape_collector_duration_seconds$/,
  /^node_time_seconds$/,
  /^node_timex_/, // the adjtimex syscall of the machine running the test
  /^node_filesystem_(size|free|avail)_bytes$|^node_filesystem_files(_free)?$/, // statfs of real directories
  /^node_textfile_mtime_seconds$/, // checkout time
];
/** Series whose labels are masked too (values that name this machine or its runtime). */
const MASK_LABELS = [/^hostscope_build_info$/, /^node_time_zone_offset_seconds$/];

function mask(text: string): string {
  const root = path.join(__dirname, '../..');
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('#') || line === '') return line;
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '';
      if (MASK_LABELS.some((re) => re.test(name))) return `${name}{<masked>} <masked>`;
      if (MASK_VALUE.some((re) => re.test(name))) return line.replace(/ [^ ]+$/, ' <masked>');
      return line;
    })
    .join('\n')
    .split(root)
    .join('<repo>');
}

describe('golden /metrics from the fixture tree', () => {
  it('matches test/golden/exporter.prom', async () => {
    const exporter = await startExporterProcess(
      [
        `--path.procfs=${FIXTURE_PATHS.procfs}`,
        `--path.sysfs=${FIXTURE_PATHS.sysfs}`,
        `--path.rootfs=${FIXTURE_PATHS.rootfs}`,
        `--path.udev.data=${FIXTURE_PATHS.udevData}`,
        `--collector.textfile.directory=${TEXTFILE_DIR}`,
        '--no-collector.docker',
        '--web.disable-exporter-metrics',
        '--inventory.interval=0',
      ],
      { TZ: 'UTC' },
    );
    try {
      const raw = await (await fetch(`${exporter.url}/metrics`)).text();
      const body = mask(raw);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, body);
      expect(body).toBe(readFileSync(GOLDEN, 'utf8'));
    } finally {
      await exporter.stop();
    }
  });
});

describeWithService(
  'promtool',
  () => hasBinary('promtool'),
  'exposition validity',
  () => {
    it('is accepted by promtool check metrics, textfile escapes included', async () => {
      const exporter = await startExporterProcess([
        `--collector.textfile.directory=${TEXTFILE_DIR}`,
        '--no-collector.docker',
      ]);
      try {
        const raw = await (await fetch(`${exporter.url}/metrics`)).text();
        const r = spawnSync('promtool', ['check', 'metrics'], { input: raw, encoding: 'utf8' });
        // Exit 3 means style lint findings only (node_exporter's own names such as node_memory_MemTotal_bytes
        // trigger them too); exit 1 would be a parse error.
        expect(r.stderr).not.toMatch(/error while linting|parsing error/);
        expect([0, 3]).toContain(r.status);
      } finally {
        await exporter.stop();
      }
    });
  },
);
