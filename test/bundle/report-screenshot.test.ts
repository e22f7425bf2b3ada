/**
 * docs/alerting.md shows a screenshot of a `hostscope report --dry-run` that scripts/report-screenshot.mjs
 * (npm run docs:report) regenerates. The report's dates change with every run, so the check is on what
 * the script produces, not on pixels: the file the document links is the one the script writes, a PNG at
 * the script's phone width, and the script is wired to npm.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO = path.join(__dirname, '../..');

describe('report screenshot in docs/alerting.md', () => {
  const doc = readFileSync(path.join(REPO, 'docs/alerting.md'), 'utf8');
  const script = readFileSync(path.join(REPO, 'scripts/report-screenshot.mjs'), 'utf8');

  it('links the image the script writes, and names the npm script that regenerates it', () => {
    expect(doc).toContain('](images/report.png)');
    expect(script).toContain("'docs/images/report.png'");
    expect(doc).toContain('npm run docs:report');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['docs:report']).toContain('scripts/report-screenshot.mjs');
  });

  it('is a PNG at the phone width the script renders', () => {
    const png = readFileSync(path.join(REPO, 'docs/images/report.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const width = png.readUInt32BE(16);
    expect(script).toContain(`width: ${width},`);
    expect(png.readUInt32BE(20)).toBeGreaterThan(1000);
  });
});
