/**
 * Live comparison with the real node_exporter 1.5 on this machine, at the same moment: for every collector
 * hostscope implements, the same family names, types, HELP texts, label names and label sets, the same
 * collector success, and values within the tolerances below (exact for static values).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { COLLECTORS } from '../../src/collectors';
import { parseExposition } from '../../src/expfmt/parse';
import type { ParsedFamily } from '../../src/expfmt/types';
import { startExporterProcess, type ExporterProcess } from '../helpers/exporter-process';
import { hasNodeExporter, startNodeExporter, type NodeExporterProcess } from '../helpers/node-exporter';
import { describeWithService, hasBinary } from '../helpers/services';

/** node_exporter 1.5's Linux collectors that hostscope implements under the same name. */
const SHARED = [
  'arp',
  'conntrack',
  'cpu',
  'cpufreq',
  'diskstats',
  'dmi',
  'entropy',
  'filefd',
  'filesystem',
  'hwmon',
  'loadavg',
  'meminfo',
  'netclass',
  'netdev',
  'netstat',
  'os',
  'pressure',
  'schedstat',
  'selinux',
  'sockstat',
  'softnet',
  'stat',
  'textfile',
  'thermal_zone',
  'time',
  'timex',
  'udp_queues',
  'uname',
  'vmstat',
];

/** Upstream 1.5 defaults; Debian's package patches these two, so the oracle is given upstream's. */
const UPSTREAM_DEFAULTS = [
  '--collector.netdev.device-exclude=',
  '--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
];

interface Tolerance {
  /** Allowed |a - b| = abs + rel * max(|a|, |b|). */
  readonly abs: number;
  readonly rel: number;
}
const EXACT: Tolerance = { abs: 0, rel: 0 };
const MIB = 1024 * 1024;

/** First match wins. Values that move between two scrapes a few ms apart get a stated slack. */
const TOLERANCES: ReadonlyArray<readonly [RegExp, Tolerance | 'presence']> = [
  // Static for the life of the host.
  [/^node_(boot_time_seconds|filefd_maximum|entropy_pool_size_bits|nf_conntrack_entries_limit)$/, EXACT],
  [
    /^node_memory_(MemTotal|SwapTotal|VmallocTotal|Hugepagesize|HugePages_Total|CommitLimit)(_bytes)?$/,
    EXACT,
  ],
  [/^node_filesystem_(size_bytes|files|readonly|device_error)$/, EXACT],
  [/^node_(uname|os|dmi|disk|network|time_clocksource_(available|current))_info$/, EXACT],
  [/^node_os_version$|^node_time_zone_offset_seconds$|^node_textfile_/, EXACT],
  [
    /^node_network_(up|mtu_bytes|flags|iface_id|iface_link|iface_link_mode|carrier|speed_bytes|dormant)$/,
    EXACT,
  ],
  [
    /^node_network_(address_assign_type|name_assign_type|device_id|protocol_type|net_dev_group|transmit_queue_length)$/,
    EXACT,
  ],
  [/^node_network_carrier_(up_|down_)?changes_total$/, { abs: 1, rel: 0 }],
  [/^node_cpu_(guest_seconds_total|frequency|scaling)/, { abs: 1, rel: 0 }],
  [/^node_timex_(tick_seconds|status|sync_status|loop_time_constant|tai_offset_seconds|pps_.*)$/, EXACT],
  [/^node_netstat_Ip_Forwarding$/, EXACT],
  // Moving values.
  [/^node_procs_(running|blocked)$/, 'presence'],
  [
    /^node_timex_(offset_seconds|frequency_adjustment_ratio|maxerror_seconds|estimated_error_seconds)$/,
    'presence',
  ],
  [/^node_time_seconds$/, { abs: 5, rel: 0 }],
  [/^node_load(1|5|15)$/, { abs: 0.5, rel: 0.1 }],
  [/^node_cpu_seconds_total$/, { abs: 3, rel: 0.001 }],
  [/^node_pressure_/, { abs: 3, rel: 0.01 }],
  [/^node_memory_/, { abs: 256 * MIB, rel: 0.05 }],
  [/^node_filesystem_(free|avail)_bytes$/, { abs: 512 * MIB, rel: 0.01 }],
  [/^node_filesystem_files_free$/, { abs: 20_000, rel: 0.01 }],
  [/^node_network_(receive|transmit)_bytes_total$/, { abs: 4 * MIB, rel: 0.05 }],
  [/^node_network_(receive|transmit)_/, { abs: 5000, rel: 0.05 }],
  [/^node_(netstat|sockstat)_/, { abs: 5000, rel: 0.05 }],
  [/^node_(context_switches|intr|forks)_total$|^node_softnet_|^node_vmstat_/, { abs: 50_000, rel: 0.05 }],
  [/^node_disk_/, { abs: 64 * MIB, rel: 0.05 }],
  [/^node_schedstat_/, { abs: 5e9, rel: 0.05 }],
  [/^node_udp_queues$/, { abs: 256 * 1024, rel: 0 }],
  [/^node_(nf_conntrack_|arp_entries|filefd_allocated|entropy_available_bits)/, { abs: 500, rel: 0.2 }],
  [/^node_(hwmon|thermal_zone|cooling_device)_/, { abs: 5, rel: 0.1 }],
];

function toleranceFor(name: string): Tolerance | 'presence' {
  for (const [re, tol] of TOLERANCES) if (re.test(name)) return tol;
  return { abs: 10, rel: 0.05 };
}

function seriesKey(labels: Readonly<Record<string, string>>, sampleName: string): string {
  return `${sampleName}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
}

/** Families that belong to the compared collectors (not the exporters' own go_/process_/nodejs_ metrics). */
function hostFamilies(text: string): Map<string, ParsedFamily> {
  const out = new Map<string, ParsedFamily>();
  for (const f of parseExposition(text, 'text')) {
    if (!f.name.startsWith('node_') || f.name === 'node_exporter_build_info') continue;
    out.set(f.name, f);
  }
  return out;
}

describeWithService(
  'node_exporter (prometheus-node-exporter)',
  hasNodeExporter,
  'live comparison with node_exporter 1.5',
  () => {
    let ours: ExporterProcess;
    let theirs: NodeExporterProcess;
    let oursFamilies: Map<string, ParsedFamily>;
    let theirFamilies: Map<string, ParsedFamily>;
    const implemented = SHARED.filter((name) => COLLECTORS.some((c) => c.name === name));

    beforeAll(async () => {
      // A textfile directory with one file, so the textfile collector is compared on real content.
      const dir = mkdtempSync(path.join(tmpdir(), 'oracle-textfile-'));
      writeFileSync(
        path.join(dir, 'backup.prom'),
        '# HELP backup_last_success_seconds Last backup.\n# TYPE backup_last_success_seconds gauge\nbackup_last_success_seconds{job="db"} 1.7e+09\n',
      );
      const enable = implemented.map((c) => `--collector.${c}`);
      const textfile = `--collector.textfile.directory=${dir}`;
      [theirs, ours] = await Promise.all([
        startNodeExporter([
          '--collector.disable-defaults',
          ...enable,
          ...UPSTREAM_DEFAULTS,
          ...(implemented.includes('textfile') ? [textfile] : []),
        ]),
        startExporterProcess([
          '--collector.disable-defaults',
          ...enable,
          ...(implemented.includes('textfile') ? [textfile] : []),
          '--inventory.interval=0',
        ]),
      ]);
      // Warm both up once (first-scrape effects such as lazily loaded libraries), then scrape together.
      await Promise.all([fetch(`${theirs.url}/metrics`), fetch(`${ours.url}/metrics`)]);
      const [a, b] = await Promise.all([
        fetch(`${theirs.url}/metrics`).then((r) => r.text()),
        fetch(`${ours.url}/metrics`).then((r) => r.text()),
      ]);
      theirFamilies = hostFamilies(a);
      oursFamilies = hostFamilies(b);
    });

    afterAll(async () => {
      await Promise.all([ours?.stop(), theirs?.stop()]);
    });

    it('implements every node_exporter 1.5 Linux collector the issue names', () => {
      expect(implemented).toEqual(SHARED);
    });

    it('reports the same collector success for every collector', () => {
      const success = (fams: Map<string, ParsedFamily>): Record<string, number> =>
        Object.fromEntries(
          (fams.get('node_scrape_collector_success')?.samples ?? []).map((s) => [
            s.labels.collector ?? '',
            s.value,
          ]),
        );
      expect(success(oursFamilies)).toEqual(success(theirFamilies));
    });

    it('exposes exactly the same family names', () => {
      // Guard against a vacuous pass: this machine gives node_exporter well over 200 host families.
      expect(theirFamilies.size).toBeGreaterThan(150);
      const missing = [...theirFamilies.keys()].filter((n) => !oursFamilies.has(n)).sort();
      const extra = [...oursFamilies.keys()].filter((n) => !theirFamilies.has(n)).sort();
      expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    });

    it('uses the same types and HELP texts', () => {
      const diffs: string[] = [];
      for (const [name, theirs] of theirFamilies) {
        const mine = oursFamilies.get(name);
        if (mine === undefined) continue;
        if (mine.type !== theirs.type) diffs.push(`${name}: type ${mine.type} != ${theirs.type}`);
        if (mine.help !== theirs.help)
          diffs.push(`${name}: help ${JSON.stringify(mine.help)} != ${JSON.stringify(theirs.help)}`);
      }
      expect(diffs).toEqual([]);
    });

    it('has the same label sets, with values within tolerance', () => {
      const diffs: string[] = [];
      for (const [name, theirs] of theirFamilies) {
        if (name === 'node_scrape_collector_duration_seconds') continue;
        const mine = oursFamilies.get(name);
        if (mine === undefined) continue;
        const mineByKey = new Map(mine.samples.map((s) => [seriesKey(s.labels, s.name), s.value]));
        const theirKeys = new Set(theirs.samples.map((s) => seriesKey(s.labels, s.name)));
        for (const key of mineByKey.keys()) if (!theirKeys.has(key)) diffs.push(`extra series ${key}`);
        const tol = toleranceFor(name);
        for (const s of theirs.samples) {
          const key = seriesKey(s.labels, s.name);
          const v = mineByKey.get(key);
          if (v === undefined) {
            diffs.push(`missing series ${key}`);
            continue;
          }
          if (tol === 'presence') continue;
          const allowed = tol.abs + tol.rel * Math.max(Math.abs(v), Math.abs(s.value));
          const same = Object.is(v, s.value) || Math.abs(v - s.value) <= allowed;
          if (!same) diffs.push(`${key}: ours ${v}, node_exporter ${s.value} (allowed ±${allowed})`);
        }
      }
      expect(diffs).toEqual([]);
    });
  },
);

describeWithService(
  'node_exporter (prometheus-node-exporter) and prlimit',
  () => hasNodeExporter() && hasBinary('prlimit'),
  "the exporters' own process metrics beside node_exporter's",
  () => {
    let ours: ExporterProcess;
    let theirs: NodeExporterProcess;

    beforeAll(async () => {
      [theirs, ours] = await Promise.all([
        startNodeExporter(['--collector.disable-defaults']),
        startExporterProcess(['--collector.disable-defaults', '--inventory.interval=0']),
      ]);
    });

    afterAll(async () => {
      await Promise.all([ours?.stop(), theirs?.stop()]);
    });

    const processFamilies = async (url: string): Promise<Map<string, ParsedFamily>> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return new Map(
        parseExposition(text, 'text')
          .filter((f) => f.name.startsWith('process_'))
          .map((f) => [f.name, f]),
      );
    };
    const value = (families: Map<string, ParsedFamily>, name: string): number | undefined =>
      families.get(name)?.samples[0]?.value;

    it('has every process_* family node_exporter has (Node Exporter Full plots them), with its type and HELP', async () => {
      const [a, b] = await Promise.all([processFamilies(theirs.url), processFamilies(ours.url)]);
      expect(a.has('process_virtual_memory_max_bytes')).toBe(true);
      const describe = (m: Map<string, ParsedFamily>, names: readonly string[]): string[] =>
        names.map((n) => `${n} ${m.get(n)?.type ?? 'missing'} ${m.get(n)?.help ?? ''}`);
      const names = [...a.keys()].sort();
      expect(describe(b, names)).toEqual(describe(a, names));
    });

    it('reports the same process_virtual_memory_max_bytes: unlimited, then under a limit set with prlimit', async () => {
      const both = async (): Promise<(number | undefined)[]> => {
        const [a, b] = await Promise.all([processFamilies(theirs.url), processFamilies(ours.url)]);
        return [value(a, 'process_virtual_memory_max_bytes'), value(b, 'process_virtual_memory_max_bytes')];
      };
      // Both started by this test, so both inherit its limit (unlimited here: RLIM_INFINITY as a float).
      const [theirsBefore, oursBefore] = await both();
      expect(oursBefore).toBe(theirsBefore);
      // A soft limit well above what either maps, set on the running processes: read at every scrape.
      const limit = 2 ** 40;
      for (const pid of [theirs.pid, ours.child.pid])
        execFileSync('prlimit', [`--pid=${String(pid)}`, `--as=${limit}:`]);
      expect(await both()).toEqual([limit, limit]);
    });
  },
);
