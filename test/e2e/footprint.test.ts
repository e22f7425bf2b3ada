import * as path from 'node:path';
import { startExporterProcess } from '../helpers/exporter-process';

const PRELOAD = path.join(__dirname, '../fixtures/preload/report-modules.js');

/**
 * What the exporter keeps resident is mostly code: every module it loads stays in memory for the life of
 * the process. Modules needed only for an option the run does not use are loaded on demand; this checks
 * that a default run (host collectors, no web config, no docker collector) brings none of them in, through
 * startup and two scrapes.
 */
describe('exporter footprint', () => {
  it('loads no TLS, crypto, validation, YAML, bcrypt or Docker code when they are not used', async () => {
    const exporter = await startExporterProcess(['--no-collector.docker'], {
      NODE_OPTIONS: `--require ${PRELOAD}`,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${exporter.url}/metrics`);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('node_cpu_seconds_total');
      }
    } finally {
      expect(await exporter.stop()).toBe(0);
    }
    const line = /^LOADED MODULES (.*)$/m.exec(exporter.output());
    expect(line).not.toBeNull();
    const report = JSON.parse(line?.[1] ?? '{}') as { builtins: string[]; files: string[] };
    // The report works: it lists what the exporter does need.
    expect(report.builtins).toContain('http');
    expect(report.files.some((f) => f.includes(`${path.sep}pino${path.sep}`))).toBe(true);

    const builtins = report.builtins.filter((m) =>
      /^(crypto|tls|https|_tls_wrap|internal\/crypto\/)/.test(m),
    );
    expect(builtins).toEqual([]);
    const packages = report.files
      .map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1])
      .filter((p): p is string => p !== undefined);
    const unwanted = ['zod', 'yaml', 'bcryptjs', 'dockerode', 'docker-modem', 'ssh2', '@opentelemetry/api'];
    expect([...new Set(packages)].filter((p) => unwanted.includes(p))).toEqual([]);
    // The docker collector's own modules (cgroup readers, engine client): only its definition is needed.
    const dockerModules = report.files.filter((f) => /collectors[/\\]docker[/\\]/.test(f));
    expect(dockerModules.map((f) => path.basename(f))).toEqual(['definition.js']);
  });

  /** The young generation's size as the exporter reports it after 10 rounds of 20 concurrent scrapes. */
  async function youngGenerationAfterBurst(args: readonly string[]): Promise<number> {
    const exporter = await startExporterProcess(['--no-collector.docker', ...args]);
    try {
      const scrape = async (): Promise<string> => (await fetch(`${exporter.url}/metrics`)).text();
      for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 20 }, scrape));
      const size = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(await scrape());
      expect(size).not.toBeNull();
      return Number(size?.[1]);
    } finally {
      expect(await exporter.stop()).toBe(0);
    }
  }

  it("keeps V8's young generation at 2 MB through a burst of concurrent scrapes", async () => {
    const MiB = 1024 * 1024;
    expect(await youngGenerationAfterBurst([])).toBeLessThanOrEqual(2 * MiB);
    // Without --runtime.memory-trim, startup and the same burst grow it: the check above can fail.
    expect(await youngGenerationAfterBurst(['--no-runtime.memory-trim'])).toBeGreaterThan(2 * MiB);
  });
});
