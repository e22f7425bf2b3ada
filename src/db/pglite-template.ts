import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { extractTarGz, writeTarGz } from './tar';

/**
 * A cluster template for the embedded database: the data directory PGlite's initdb makes, made once by
 * `npm run build` and copied into an empty data directory at first start. Running initdb in WebAssembly
 * takes ~650 MB at its peak (a second PostgreSQL instance, the initdb program and the new cluster in
 * memory), and WebAssembly memory is never given back; extracting the template takes a few MB.
 *
 * The template holds no hostscope schema (migrations run at start as on any database), and it is named
 * after the PGlite version that made it: a build with another PGlite makes its own, and without one for
 * the installed PGlite the data directory is initialised by initdb as before.
 */

/** `dist/` of this package, from the compiled code (dist/db) and from the sources under ts-jest (src/db). */
const DIST_DIR = path.resolve(__dirname, '..', '..', 'dist');

function pgliteVersion(): string {
  const pkg = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export function templateFile(dir = DIST_DIR): string {
  return path.join(dir, `pglite-template-${pgliteVersion()}.tar.gz`);
}

/** How a data directory came to hold a cluster when it was opened. */
export type DataDirOrigin = 'existing' | 'template' | 'initdb';

/**
 * Copies the template into `dataDir` when that is missing or empty and the template exists. Extracts into
 * a sibling directory first and renames it into place, so a crash midway leaves no half cluster behind.
 * Returns 'initdb' when PGlite will have to initialise the directory itself.
 */
export async function prepareDataDir(dataDir: string, template = templateFile()): Promise<DataDirOrigin> {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return 'existing';
  const empty = !existsSync(dataDir) || readdirSync(dataDir).length === 0;
  if (!empty || !existsSync(template)) return 'initdb';
  const staging = `${dataDir}.template-tmp`;
  rmSync(staging, { recursive: true, force: true });
  await extractTarGz(template, staging);
  if (existsSync(dataDir)) rmdirSync(dataDir);
  renameSync(staging, dataDir);
  return 'template';
}

/** Runs initdb in a scratch directory and writes the cluster it made to `file`. */
export async function createTemplate(file: string): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'hostscope-pglite-template-'));
  try {
    const dataDir = path.join(work, 'data');
    const db = new PGlite(dataDir);
    await db.waitReady;
    await db.close();
    const staging = `${file}.${process.pid}.tmp`;
    await writeTarGz(dataDir, staging);
    renameSync(staging, file);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `npm run build`: makes the template for the installed PGlite unless it exists; removes older ones. */
async function main(): Promise<void> {
  const file = templateFile();
  for (const f of existsSync(DIST_DIR) ? readdirSync(DIST_DIR) : []) {
    if (/^pglite-template-.*\.tar\.gz(\..*\.tmp)?$/.test(f) && path.join(DIST_DIR, f) !== file) {
      rmSync(path.join(DIST_DIR, f));
    }
  }
  if (existsSync(file)) return;
  await createTemplate(file);
  process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
