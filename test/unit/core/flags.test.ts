import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  envName,
  FlagValues,
  parseFlags,
  parseListenAddress,
  type FlagSpec,
} from '../../../src/config/flags';
import { buildExporterConfig, exporterFlagSpecs } from '../../../src/exporter/config';
import { loadavgCollector } from '../../../src/collectors/loadavg';
import type { CollectorDefinition } from '../../../src/collectors/types';

const SPECS: FlagSpec[] = [
  { name: 'web.listen-address', kind: 'address', default: ':9100', help: '' },
  { name: 'collector.timeout', kind: 'duration', default: '5s', help: '' },
  { name: 'web.max-requests', kind: 'number', min: 0, default: 40, help: '' },
  { name: 'collector.cpu', kind: 'boolean', help: '' },
  { name: 'scrape.target', kind: 'list', help: '' },
  { name: 'database.url', kind: 'string', secret: true, envAliases: ['DATABASE_URL'], help: '' },
  { name: 'log.level', kind: 'enum', choices: ['debug', 'info'], default: 'info', help: '' },
];

describe('parseFlags', () => {
  it('reads --name=value, --name value, booleans and their --no- form', () => {
    const r = parseFlags(
      SPECS,
      ['--web.listen-address=127.0.0.1:1', '--collector.timeout', '2s', '--no-collector.cpu'],
      {},
    );
    expect(r.problems).toEqual([]);
    expect(r.values.get('web.listen-address')).toBe('127.0.0.1:1');
    expect(r.values.get('collector.timeout')).toBe('2s');
    expect(r.values.get('collector.cpu')).toBe(false);
    expect(r.values.get('web.max-requests')).toBe(40);
  });

  it('falls back to HOSTSCOPE_* env, then aliases; flags win over env', () => {
    const env = {
      HOSTSCOPE_WEB_MAX_REQUESTS: '3',
      DATABASE_URL: 'postgres://x',
      HOSTSCOPE_LOG_LEVEL: 'debug',
    };
    const r = parseFlags(SPECS, ['--log.level=info'], env);
    expect(r.problems).toEqual([]);
    expect(r.values.get('web.max-requests')).toBe(3);
    expect(r.values.get('database.url')).toBe('postgres://x');
    expect(r.values.get('log.level')).toBe('info');
  });

  it('reads secrets from *_FILE', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flags-'));
    const file = path.join(dir, 'url');
    writeFileSync(file, 'postgres://secret\n');
    const r = parseFlags(SPECS, [], { HOSTSCOPE_DATABASE_URL_FILE: file });
    expect(r.values.get('database.url')).toBe('postgres://secret');
  });

  it('collects repeatable list flags from args, or comma-separated from env', () => {
    expect(
      parseFlags(SPECS, ['--scrape.target=a', '--scrape.target', 'b'], {}).values.get('scrape.target'),
    ).toEqual(['a', 'b']);
    expect(parseFlags(SPECS, [], { HOSTSCOPE_SCRAPE_TARGET: 'a, b' }).values.get('scrape.target')).toEqual([
      'a',
      'b',
    ]);
  });

  it('reports every problem at once, naming flag and env variable', () => {
    const r = parseFlags(
      SPECS,
      [
        '--web.listen-address=nope',
        '--collector.timeout=soon',
        '--web.max-requests=-1',
        '--bogus',
        '--log.level=loud',
        'stray',
      ],
      { HOSTSCOPE_DATABASE_URL_FILE: '/nonexistent/secret' },
    );
    expect(r.problems).toHaveLength(7);
    expect(r.problems.join('\n')).toMatch(/--web\.listen-address \(env HOSTSCOPE_WEB_LISTEN_ADDRESS\)/);
    expect(r.problems.join('\n')).toMatch(/--collector\.timeout .*"soon"/);
    expect(r.problems.join('\n')).toMatch(/--web\.max-requests .*>= 0/);
    expect(r.problems.join('\n')).toMatch(/unknown flag --bogus/);
    expect(r.problems.join('\n')).toMatch(/one of debug\|info/);
    expect(r.problems.join('\n')).toMatch(/unexpected argument "stray"/);
    expect(r.problems.join('\n')).toMatch(/HOSTSCOPE_DATABASE_URL_FILE "\/nonexistent\/secret"/);
  });

  it('names env variables like node_exporter flags', () => {
    expect(envName('collector.filesystem.mount-points-exclude')).toBe(
      'HOSTSCOPE_COLLECTOR_FILESYSTEM_MOUNT_POINTS_EXCLUDE',
    );
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress(':9100')).toEqual({ host: undefined, port: 9100 });
    expect(parseListenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
  });
});

describe('exporter config', () => {
  const off: CollectorDefinition = { ...loadavgCollector, name: 'offbydefault', defaultEnabled: false };
  const defs = [loadavgCollector, off];

  function config(argv: string[], env: NodeJS.ProcessEnv = {}) {
    const parsed = parseFlags(exporterFlagSpecs(defs), argv, env);
    expect(parsed.problems).toEqual([]);
    return buildExporterConfig(new FlagValues(parsed.values), defs);
  }

  it('enables default collectors, honours --collector.X and --no-collector.X', () => {
    expect(config([]).collectors.map((c) => c.definition.name)).toEqual(['loadavg']);
    expect(
      config(['--collector.offbydefault', '--no-collector.loadavg']).collectors.map((c) => c.definition.name),
    ).toEqual(['offbydefault']);
  });

  it('--collector.disable-defaults leaves only explicitly enabled collectors', () => {
    expect(config(['--collector.disable-defaults']).collectors).toEqual([]);
    expect(
      config(['--collector.disable-defaults', '--collector.loadavg']).collectors.map(
        (c) => c.definition.name,
      ),
    ).toEqual(['loadavg']);
  });

  it('derives procfs, sysfs and udev paths from --path.rootfs unless given', () => {
    expect(config(['--path.rootfs=/host']).paths).toEqual({
      rootfs: '/host',
      procfs: '/host/proc',
      sysfs: '/host/sys',
      udevData: '/host/run/udev/data',
    });
    expect(config(['--path.rootfs=/host', '--path.procfs=/hp']).paths.procfs).toBe('/hp');
    expect(config([]).paths).toEqual({
      rootfs: '/',
      procfs: '/proc',
      sysfs: '/sys',
      udevData: '/run/udev/data',
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(config([]))).toBe(true);
  });
});
