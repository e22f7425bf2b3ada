import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { osCollector } from '../../../src/collectors/os';
import type { CollectorDefinition } from '../../../src/collectors/types';
import { NoDataError } from '../../../src/errors';
import { encode } from '../../../src/exposition/encode';
import { HostFs } from '../../../src/host/host-fs';
import { silentLogger } from '../../../src/log/logger';
import { buildOptions } from '../../../src/collectors/options';
import type { MetricFamily } from '../../../src/metrics/types';
import { collectOnce, family, FIXTURE_PATHS } from '../../helpers/collect';

/** A collector instance over a temporary rootfs, kept across scrapes (to exercise its cache). */
function instance(def: CollectorDefinition, rootfs: string) {
  const c = def.create({
    fs: new HostFs({ ...FIXTURE_PATHS, rootfs }),
    logger: silentLogger(),
    options: buildOptions([], {}),
  });
  return (): Promise<MetricFamily[]> =>
    c.update({ signal: new AbortController().signal, deadlineMs: Date.now() + 60_000 });
}

const labelsOf = (families: MetricFamily[], name: string) =>
  family(families, name).samples.map((s) => s.labels);

describe('os collector', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'hostscope-os-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reports node_os_info and node_os_version from the fixture /etc/os-release', async () => {
    const families = await collectOnce(osCollector);
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['node_os_info', 'gauge'],
      ['node_os_version', 'gauge'],
    ]);
    expect(family(families, 'node_os_info').samples).toEqual([
      {
        value: 1,
        labels: {
          build_id: '2023-08-10 "nightly"',
          id: 'ubuntu',
          id_like: 'debian',
          image_id: '',
          image_version: '',
          name: 'Ubuntu',
          pretty_name: 'Ubuntu 22.04.3 LTS',
          variant: 'Server Edition',
          variant_id: '',
          version: '22.04.3 LTS (Jammy Jellyfish)',
          version_codename: 'jammy',
          version_id: '22.04',
        },
      },
    ]);
    expect(family(families, 'node_os_version').samples).toEqual([
      { value: 22.04, labels: { id: 'ubuntu', id_like: 'debian', name: 'Ubuntu' } },
    ]);
  });

  it('matches node_exporter 1.5 on the same fixture', async () => {
    const oracle = path.join(__dirname, '../../fixtures/oracle/node_exporter-1.5/os.prom');
    expect(encode(await collectOnce(osCollector))).toBe(readFileSync(oracle, 'utf8'));
  });

  it('falls back to /usr/lib/os-release, and omits node_os_version without a numeric VERSION_ID', async () => {
    mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
    writeFileSync(path.join(root, 'usr/lib/os-release'), 'NAME="Arch Linux"\nID=arch\nVERSION_ID=rolling\n');
    const families = await instance(osCollector, root)();
    expect(families.map((f) => f.name)).toEqual(['node_os_info']);
    expect(labelsOf(families, 'node_os_info')[0]).toMatchObject({
      name: 'Arch Linux',
      id: 'arch',
      version_id: 'rolling',
    });
  });

  it('prefers /etc/os-release over /usr/lib/os-release', async () => {
    mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'usr/lib/os-release'), 'ID=debian\n');
    writeFileSync(path.join(root, 'etc/os-release'), 'ID=custom\n');
    expect(labelsOf(await instance(osCollector, root)(), 'node_os_info')[0]?.id).toBe('custom');
  });

  it('reports no data without any os-release file', async () => {
    await expect(instance(osCollector, root)()).rejects.toThrow(NoDataError);
  });

  it('re-reads the file only when its mtime changes', async () => {
    mkdirSync(path.join(root, 'etc'));
    const file = path.join(root, 'etc/os-release');
    writeFileSync(file, 'ID=one\nVERSION_ID=1\n');
    utimesSync(file, 1_000_000, 1_000_000);
    const scrape = instance(osCollector, root);
    expect(labelsOf(await scrape(), 'node_os_info')[0]?.id).toBe('one');

    writeFileSync(file, 'ID=two\nVERSION_ID=2\n');
    utimesSync(file, 1_000_000, 1_000_000); // same mtime: the cached parse is used
    expect(labelsOf(await scrape(), 'node_os_info')[0]?.id).toBe('one');

    utimesSync(file, 2_000_000, 2_000_000);
    const families = await scrape();
    expect(labelsOf(families, 'node_os_info')[0]?.id).toBe('two');
    expect(family(families, 'node_os_version').samples[0]?.value).toBe(2);
  });

  it('fails on a malformed file, then reports empty labels until it changes (as node_exporter 1.5)', async () => {
    mkdirSync(path.join(root, 'etc'));
    const file = path.join(root, 'etc/os-release');
    writeFileSync(file, 'NAME="Broken\nID=x\n');
    const scrape = instance(osCollector, root);
    await expect(scrape()).rejects.toThrow(/unmatched "/);
    const families = await scrape();
    expect(families.map((f) => f.name)).toEqual(['node_os_info']);
    expect(Object.values(labelsOf(families, 'node_os_info')[0] ?? { x: 'missing' })).toEqual(
      Array(12).fill(''),
    );

    writeFileSync(file, 'NAME="Fixed"\n');
    utimesSync(file, 3_000_000, 3_000_000);
    expect(labelsOf(await scrape(), 'node_os_info')[0]?.name).toBe('Fixed');
  });
});
