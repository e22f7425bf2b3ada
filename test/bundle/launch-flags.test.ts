/**
 * hostscope is launched with a few V8 flags and MALLOC_ARENA_MAX=1 (see the Dockerfile for why). They are
 * written in three places: the npm start scripts, the image's ENTRYPOINT and ENV, and the benchmarks'
 * NODE_FLAGS and NODE_ENV_VARS, which must measure what users run. This test fails when one of them
 * drifts, or when this Node.js rejects a flag.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO = path.join(__dirname, '../..');
const read = (f: string): string => readFileSync(path.join(REPO, f), 'utf8');

function scriptFlags(script: string): string[] {
  const m = /\bnode ((?:--\S+ )*)dist\/cli\.js/.exec(script);
  if (m === null) throw new Error(`no "node ... dist/cli.js" in: ${script}`);
  return (m[1] ?? '').trim().split(' ').filter(Boolean);
}

describe('V8 launch flags', () => {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'));
  const bench = /export const NODE_FLAGS = \[([^\]]*)\]/.exec(read('scripts/bench-lib.mjs'));
  const benchFlags = [...(bench?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');

  it('are the same in the npm start scripts, the Dockerfile ENTRYPOINT and the benchmarks', () => {
    expect(benchFlags.length).toBeGreaterThan(0);
    expect(scriptFlags(pkg.scripts.start ?? '')).toEqual(benchFlags);
    expect(scriptFlags(pkg.scripts['start:exporter'] ?? '')).toEqual(benchFlags);
    expect(entrypoint).not.toBeNull();
    const argv = JSON.parse(entrypoint?.[1] ?? '[]') as string[];
    expect(argv[0]).toBe('node');
    expect(argv.slice(1, -1)).toEqual(benchFlags);
    expect(argv[argv.length - 1]).toBe('/app/dist/cli.js');
  });

  it('come with the same environment in the Dockerfile, the npm start scripts and the benchmarks', () => {
    const env = /export const NODE_ENV_VARS = \{([^}]*)\}/.exec(read('scripts/bench-lib.mjs'));
    const pairs = [...(env?.[1] ?? '').matchAll(/(\w+): '([^']*)'/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) {
      expect(read('Dockerfile')).toMatch(new RegExp(`^ENV ${pair}$`, 'm'));
      for (const script of ['start', 'start:exporter'])
        expect(pkg.scripts[script]).toMatch(new RegExp(`&& (\\S+=\\S+ )*${pair} (\\S+=\\S+ )*node `));
    }
    expect(read('scripts/bench-exporter.mjs')).toMatch(/NODE_ENV_VARS,\s*\),/);
  });

  it('are accepted by this Node.js', () => {
    const r = spawnSync(process.execPath, [...benchFlags, '-e', '0'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
