/**
 * The README and docs/overview.md show screenshots of the overview page that scripts/overview-screenshot.mjs
 * (npm run docs:overview) regenerates. What the charts show changes with the machine and the time, so the
 * check is structural, as for the report's screenshot: every image a document links is one the script
 * writes, a PNG of the script's viewport size, and the script is wired to npm.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO = path.join(__dirname, '../..');
const read = (f: string): string => readFileSync(path.join(REPO, f), 'utf8');

describe('overview page screenshots', () => {
  const script = read('scripts/overview-screenshot.mjs');
  const written = [...script.matchAll(/file: '(docs\/images\/overview-[a-z]+\.png)'/g)].map(
    (m) => m[1] ?? '',
  );

  it('are written by the script, one per theme and one of History, and wired to npm run docs:overview', () => {
    expect(written.sort()).toEqual([
      'docs/images/overview-dark.png',
      'docs/images/overview-history.png',
      'docs/images/overview-light.png',
    ]);
    expect(script).toContain("scheme: 'dark'");
    expect(script).toContain("scheme: 'light'");
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['docs:overview']).toContain('scripts/overview-screenshot.mjs');
  });

  it('are linked from the README (its first screen) and docs/overview.md, which name the script', () => {
    const readme = read('README.md');
    const link = readme.indexOf('](docs/images/overview-light.png)');
    expect(link).toBeGreaterThan(0);
    // Within the first screen: before the first section heading after the title.
    expect(link).toBeLessThan(readme.indexOf('\n## '));
    expect(readme.slice(0, link)).toContain('http://localhost:9101/');
    const doc = read('docs/overview.md');
    for (const f of written) expect(doc).toContain(`](${f.replace('docs/', '')})`);
    expect(doc).toContain('npm run docs:overview');
  });

  it('are PNGs of the viewport the script renders', () => {
    const width = Number(/const WIDTH = (\d+);/.exec(script)?.[1]);
    const height = Number(/const HEIGHT = (\d+);/.exec(script)?.[1]);
    for (const f of written) {
      const png = readFileSync(path.join(REPO, f));
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect([f, png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([f, width, height]);
    }
  });
});
