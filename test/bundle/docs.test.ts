/**
 * docs/metrics.md and docs/configuration.md are generated (npm run docs): they must equal what the code
 * generates now, and agree with what the built CLI and exporter actually do. Needs dist/ (npm test builds).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { commandDocs, builtHelp, docsDrift, renderDocs } from '../../src/reference/generate';
import { parseHelpFlags } from '../../src/reference/configuration';

const REPO = path.join(__dirname, '../..');
const read = (f: string): string => readFileSync(path.join(REPO, 'docs', f), 'utf8');

describe('generated references', () => {
  let rendered: Map<string, string>;

  beforeAll(async () => {
    rendered = await renderDocs();
  }, 120_000);

  it('docs/metrics.md and docs/configuration.md are up to date (run npm run docs after changing flags or metrics)', () => {
    // Compared as text first, so a failure shows the lines that differ.
    for (const [file, text] of rendered) expect({ file, text }).toEqual({ file, text: read(file) });
    expect(docsDrift(rendered)).toEqual([]);
  });

  it('lists every family of the golden fixture scrape in metrics.md, with its type', () => {
    const golden = readFileSync(path.join(REPO, 'test/golden/exporter.prom'), 'utf8');
    const metrics = read('metrics.md');
    // node_* and hostscope_* only: the others are the textfile fixture's own (user) metrics.
    const types = [...golden.matchAll(/^# TYPE ((?:node|hostscope)_\S+) (\S+)$/gm)];
    expect(types.length).toBeGreaterThan(100);
    for (const [, name = '', type = ''] of types) {
      expect(metrics).toContain(`| \`${name}\` | ${type} |`);
    }
  });

  it('lists the families cAdvisor users rely on and the sink metrics the alerts use', () => {
    const metrics = read('metrics.md');
    for (const name of [
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'container_spec_memory_limit_bytes',
      'machine_cpu_cores',
      'hostscope_container_restarts_total',
      'hostscope_sink_last_successful_write_timestamp_seconds',
      'hostscope_sink_samples_dropped_total',
      'node_scrape_collector_success',
      'hostscope_system_info',
    ]) {
      expect(metrics).toMatch(new RegExp(`^\\| \`${name}\` \\| \\w+ \\|`, 'm'));
    }
  });

  it('documents exactly the flags each command accepts (its --help)', async () => {
    const docs = await commandDocs();
    expect(docs.map((d) => d.command).sort()).toEqual([
      'exporter',
      'import',
      'maintain',
      'migrate',
      'report',
      'seed',
      'sink',
    ]);
    const configuration = read('configuration.md');
    for (const d of docs) {
      const help = parseHelpFlags(await builtHelp(d.command)).map((f) => f.name);
      expect(d.flags.map((f) => f.name)).toEqual(help);
      const section = configuration.split(`## hostscope ${d.command}\n`)[1]?.split('\n## ')[0] ?? '';
      const documented = [...section.matchAll(/^\| `--([\w.-]+)` \|/gm)].map((m) => m[1]);
      expect(documented).toEqual(help);
    }
  }, 60_000);

  it('gives every flag its environment variable and the secret flags their _FILE variant', () => {
    const configuration = read('configuration.md');
    expect(configuration).toContain(
      '| `--web.listen-address` | address | `:9100` | `HOSTSCOPE_WEB_LISTEN_ADDRESS` |',
    );
    expect(configuration).toMatch(/\| `--database\.url` \|[^\n]*`DATABASE_URL`[^\n]*`DATABASE_URL_FILE`/);
    expect(configuration).toMatch(/\| `--collector\.docker\.host` \| string \|/);
  });
});
