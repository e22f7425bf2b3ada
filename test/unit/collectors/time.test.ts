import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadProcessZone, makeTimeCollector, timeCollector } from '../../../src/collectors/time';
import { parseTzif, UTC_ZONE } from '../../../src/collectors/time.parse';
import { encode } from '../../../src/exposition/encode';
import { collectOnce, family, FIXTURE_PATHS, FIXTURE_ROOT, valueOf } from '../../helpers/collect';

const ZONEINFO = path.join(FIXTURE_ROOT, 'rootfs/usr/share/zoneinfo');
const fixtureZone = (name: string) => async () => parseTzif(readFileSync(path.join(ZONEINFO, name)));

describe('time collector', () => {
  it('reports the time, the zone and the clocksources of the fixture host', async () => {
    const before = Date.now() / 1000;
    const families = await collectOnce(makeTimeCollector(fixtureZone('Etc/UTC')));
    const after = Date.now() / 1000;

    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['node_time_seconds', 'gauge'],
      ['node_time_zone_offset_seconds', 'gauge'],
      ['node_time_clocksource_available_info', 'gauge'],
      ['node_time_clocksource_current_info', 'gauge'],
    ]);
    const now = valueOf(families, 'node_time_seconds');
    expect(now).toBeGreaterThanOrEqual(Math.floor(before * 1000) / 1000);
    expect(now).toBeLessThanOrEqual(after);
    expect(family(families, 'node_time_zone_offset_seconds').samples).toEqual([
      { labels: { time_zone: 'UTC' }, value: 0 },
    ]);
    expect(family(families, 'node_time_clocksource_available_info').samples.map((s) => s.labels)).toEqual([
      { device: '0', clocksource: 'tsc' },
      { device: '0', clocksource: 'hpet' },
      { device: '0', clocksource: 'acpi_pm' },
    ]);
    expect(family(families, 'node_time_clocksource_current_info').samples).toEqual([
      { labels: { device: '0', clocksource: 'tsc' }, value: 1 },
    ]);
    expect(family(families, 'node_time_clocksource_current_info').help).toBe(
      "Current clocksource read from '/sys/devices/system/clocksource'.",
    );
  });

  it('reports the clocksources exactly as node_exporter 1.5 for the same fixture', async () => {
    const families = await collectOnce(makeTimeCollector(fixtureZone('Etc/UTC')));
    const oracle = path.join(__dirname, '../../fixtures/oracle/node_exporter-1.5/time_clocksource.prom');
    expect(encode(families.filter((f) => f.name.startsWith('node_time_clocksource_')))).toBe(
      readFileSync(oracle, 'utf8'),
    );
  });

  it("reports the zone's abbreviation and offset in effect now", async () => {
    const families = await collectOnce(makeTimeCollector(fixtureZone('America/Sao_Paulo')));
    expect(family(families, 'node_time_zone_offset_seconds').samples).toEqual([
      { labels: { time_zone: '-03' }, value: -10800 },
    ]);
  });

  it('reports time without clocksource families when sysfs has no clocksource directory', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'hostscope-time-'));
    try {
      const families = await collectOnce(
        makeTimeCollector(fixtureZone('Etc/UTC')),
        {},
        {
          ...FIXTURE_PATHS,
          sysfs: empty,
        },
      );
      expect(families.map((f) => f.name)).toEqual(['node_time_seconds', 'node_time_zone_offset_seconds']);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('runs with the process zone', async () => {
    const families = await collectOnce(timeCollector);
    expect(family(families, 'node_time_zone_offset_seconds').samples).toHaveLength(1);
  });
});

describe('loadProcessZone (Go time.Local rules)', () => {
  it('uses UTC for an empty TZ, for TZ=UTC and for a zone that cannot be loaded', async () => {
    expect(await loadProcessZone({ TZ: '' })).toBe(UTC_ZONE);
    expect(await loadProcessZone({ TZ: 'UTC' })).toBe(UTC_ZONE);
    expect(await loadProcessZone({ TZ: 'Nowhere/Atlantis' })).toBe(UTC_ZONE);
    expect(await loadProcessZone({ TZ: '/nonexistent/zone' })).toBe(UTC_ZONE);
  });

  it('loads an absolute TZ path, with or without the leading colon', async () => {
    const file = path.join(ZONEINFO, 'Europe/Berlin');
    for (const tz of [file, `:${file}`]) {
      const zone = await loadProcessZone({ TZ: tz });
      expect(zone.extend).toBe('CET-1CEST,M3.5.0,M10.5.0/3');
    }
  });

  it('falls back to UTC when a TZ file is not a zone file', async () => {
    expect(await loadProcessZone({ TZ: path.join(FIXTURE_ROOT, 'proc/loadavg') })).toBe(UTC_ZONE);
  });

  it('reads /etc/localtime when TZ is unset', async () => {
    const zone = await loadProcessZone({});
    expect(zone.types.length).toBeGreaterThan(0);
  });
});
