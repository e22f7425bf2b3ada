/**
 * docs/alerting.md shows a screenshot of a `hostscope report --dry-run` that scripts/report-screenshot.mjs
 * (npm run docs:report) regenerates. Seed and report run at a fixed instant (--now), so the script draws
 * the same image every time: the test runs it against a private PostgreSQL into a temporary file and
 * compares that with the committed docs/images/report.png pixel by pixel, with a small tolerance for font
 * antialiasing. A change to the report's layout, figures or seed that is not followed by `npm run
 * docs:report` fails here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { CLI, runCli } from '../helpers/exporter-process';
import { hasPostgres, startPostgres, type PgServer } from '../helpers/postgres';
import { describeWithService } from '../helpers/services';

const REPO = path.join(__dirname, '../..');
const COMMITTED = path.join(REPO, 'docs/images/report.png');
const SCRIPT = path.join(REPO, 'scripts/report-screenshot.mjs');
const CHROMIUM = '/usr/bin/chromium';

describe('report screenshot in docs/alerting.md', () => {
  const doc = readFileSync(path.join(REPO, 'docs/alerting.md'), 'utf8');
  const script = readFileSync(SCRIPT, 'utf8');

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
    const png = readFileSync(COMMITTED);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const width = png.readUInt32BE(16);
    expect(script).toContain(`width: ${width},`);
    expect(png.readUInt32BE(20)).toBeGreaterThan(1000);
  });
});

interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

async function decode(file: string): Promise<Pixels> {
  const image = await loadImage(readFileSync(file));
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  return {
    width: image.width,
    height: image.height,
    data: ctx.getImageData(0, 0, image.width, image.height).data,
  };
}

/** Pixels whose largest channel difference exceeds `threshold` (antialiasing moves edges by less). */
function differingPixels(a: Pixels, b: Pixels, threshold: number): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    let d = 0;
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs((a.data[i + c] ?? 0) - (b.data[i + c] ?? 0)));
    if (d > threshold) n++;
  }
  return n;
}

// The script draws the same bytes on this machine. A single changed letter in the report ("reporting" ->
// "reportinq") moves 34 pixels, 11 of them by more than 32 levels; antialiasing of the same text by another
// FreeType or Skia build moves edges by small deltas. So: same size, and no pixel off by more than 24 levels.
const CHANNEL_THRESHOLD = 24;
const MAX_DIFFERING_PIXELS = 0;

describe('differingPixels', () => {
  it('counts a changed pixel and ignores small channel deltas', () => {
    const a: Pixels = { width: 2, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255, 10, 10, 10, 255]) };
    const b: Pixels = { width: 2, height: 1, data: new Uint8ClampedArray([200, 0, 0, 255, 30, 10, 10, 255]) };
    expect(differingPixels(a, b, CHANNEL_THRESHOLD)).toBe(1);
  });
});

const run = promisify(execFile);
const available = (): boolean => hasPostgres() && existsSync(CLI) && existsSync(CHROMIUM);

describeWithService('PostgreSQL, Chromium and a built dist/', available, 'docs/images/report.png', () => {
  let pg: PgServer;
  const work = mkdtempSync(path.join(tmpdir(), 'hs-report-shot-'));

  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await pg?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('is what `npm run docs:report` draws now (regenerate it with that script when this fails)', async () => {
    const fresh = path.join(work, 'report.png');
    await run(process.execPath, [SCRIPT, `--database.url=${pg.url}`, `--png=${fresh}`], {
      cwd: REPO,
      timeout: 240_000,
    });
    const [now, committed] = await Promise.all([decode(fresh), decode(COMMITTED)]);
    expect({ width: now.width, height: now.height }).toEqual({
      width: committed.width,
      height: committed.height,
    });
    expect(differingPixels(now, committed, CHANNEL_THRESHOLD)).toBeLessThanOrEqual(MAX_DIFFERING_PIXELS);
  }, 300_000);

  it('does not depend on when it runs: seed and report take --now, and refuse a malformed one', async () => {
    const r = await runCli(['seed', '--now=yesterday', `--database.url=${pg.url}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--now (env HOSTSCOPE_NOW): expected an RFC 3339 time');
    const r2 = await runCli([
      'report',
      '--report.to=a@example.com',
      '--smtp.host=x',
      '--now=2025-06-02T08:00:00Z',
    ]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--now (env HOSTSCOPE_NOW): only with --once or --dry-run');
  });
});
