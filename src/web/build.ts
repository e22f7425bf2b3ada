import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';

/**
 * Builds the overview page into dist/web/public (part of `npm run build`; esbuild is a dev dependency,
 * the built files ship): src/web/client/main.ts bundled with uPlot and its CSS, minified, names hashed,
 * index.html pointing at them, and a brotli and a gzip copy of every file for the server to send as the
 * browser accepts. No CDN: the page works on machines without internet.
 */

export const CLIENT_DIR = path.join(__dirname, '../../src/web/client');
export const OUT_DIR = path.join(__dirname, 'public');

export interface BuiltFile {
  readonly name: string;
  readonly bytes: number;
  readonly gzip: number;
  readonly br: number;
}

export async function buildPage(clientDir = CLIENT_DIR, outDir = OUT_DIR): Promise<BuiltFile[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(clientDir, 'main.ts') },
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    outdir: outDir,
    entryNames: '[name]-[hash]',
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (js === undefined || css === undefined)
    throw new Error(`esbuild made ${outputs.join(', ')}: no .js or .css`);
  const html = readFileSync(path.join(clientDir, 'index.html'), 'utf8')
    .replace('%JS%', js)
    .replace('%CSS%', css);
  writeFileSync(path.join(outDir, 'index.html'), html);
  const built: BuiltFile[] = [];
  for (const name of readdirSync(outDir).sort()) {
    const body = readFileSync(path.join(outDir, name));
    const gz = gzipSync(body, { level: 9 });
    const br = brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    });
    writeFileSync(path.join(outDir, `${name}.gz`), gz);
    writeFileSync(path.join(outDir, `${name}.br`), br);
    built.push({ name, bytes: body.length, gzip: gz.length, br: br.length });
  }
  return built;
}

if (require.main === module) {
  buildPage().then(
    (files) => {
      const total = files.reduce((s, f) => s + f.br, 0);
      process.stdout.write(
        `overview page: ${files.map((f) => `${f.name} ${f.bytes} B (br ${f.br} B)`).join(', ')}; ${total} B brotli in all\n`,
      );
    },
    (err: unknown) => {
      process.stderr.write(`building the overview page failed: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
