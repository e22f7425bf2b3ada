/**
 * Writes docs/metrics.md and docs/configuration.md (npm run docs; needs dist/ from npm run build, since
 * the metrics reference runs the built exporter). With --check it writes nothing and exits 1 when a
 * committed file differs from what the code generates.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  knownCommandDocs,
  parseHelpFlags,
  renderConfiguration,
  withKnownSpecs,
  type CommandDoc,
} from './configuration';
import { metricSections, renderMetrics, REPO_ROOT } from './metrics';

export const DOCS_DIR = path.join(REPO_ROOT, 'docs');
const CLI = path.join(REPO_ROOT, 'dist/cli.js');

/** `hostscope <command> --help` of the built CLI. */
export function builtHelp(command: string, cli = CLI): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, command, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.once('error', reject);
    // 'close', not 'exit': under load the process can exit before its last stdout chunk is read.
    child.once('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out).toString())
        : reject(new Error(`hostscope ${command} --help exited with ${String(code)}`)),
    );
  });
}

/** Every command's flags: the importable specs, and `seed` from its --help (its specs are not exported). */
export async function commandDocs(cli = CLI): Promise<CommandDoc[]> {
  const known = knownCommandDocs();
  const seedHelp = await builtHelp('seed', cli);
  const summary = seedHelp.split('\n')[2] ?? '';
  return [...known, { command: 'seed', summary, flags: withKnownSpecs(parseHelpFlags(seedHelp)) }];
}

export async function renderDocs(cli = CLI): Promise<Map<string, string>> {
  const [sections, commands] = await Promise.all([metricSections(cli), commandDocs(cli)]);
  return new Map([
    ['metrics.md', renderMetrics(sections)],
    ['configuration.md', renderConfiguration(commands)],
  ]);
}

export function docsDrift(rendered: ReadonlyMap<string, string>, dir = DOCS_DIR): string[] {
  const drift: string[] = [];
  for (const [file, text] of rendered) {
    const p = path.join(dir, file);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) drift.push(file);
  }
  return drift;
}

async function main(argv: readonly string[]): Promise<number> {
  const rendered = await renderDocs();
  if (argv.includes('--check')) {
    const drift = docsDrift(rendered);
    if (drift.length === 0) return 0;
    process.stderr.write(`docs out of date (run npm run docs): ${drift.join(', ')}\n`);
    return 1;
  }
  for (const [file, text] of rendered) {
    writeFileSync(path.join(DOCS_DIR, file), text);
    process.stdout.write(`docs/${file}\n`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
