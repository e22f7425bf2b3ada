#!/usr/bin/env node
// Regenerates docs/images/report.png, the screenshot of a `hostscope report --dry-run` in docs/alerting.md:
// seeds a database (hostscope seed --hosts 3 --days 14), renders the report's HTML part, and takes a
// phone-width screenshot with the system Chromium (puppeteer-core, no browser download).
//
//   npm run docs:report -- --database.url=postgres://user:pass@127.0.0.1:5432/scratch_db [--png=FILE]
//
// Seed and report both run at the fixed instant NOW (--now), so the same code always draws the same
// image: test/bundle/report-screenshot.test.ts runs this script into a temporary file and compares it
// with the committed one. The database should be a scratch one: the seed writes into it (a second run on
// the same database writes the same rows). --png writes elsewhere than docs/images/report.png.
// Needs dist/ (npm run build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

/** A Monday at 08:00 UTC, when the default schedule sends the weekly report. */
const NOW = '2025-06-02T08:00:00Z';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const url = process.argv.find((a) => a.startsWith('--database.url='));
if (url === undefined) {
  console.error(
    'usage: report-screenshot.mjs --database.url=postgres://... (a scratch database) [--png=FILE]',
  );
  process.exit(2);
}
const png = resolve(
  process.argv.find((a) => a.startsWith('--png='))?.slice('--png='.length) ??
    join(repo, 'docs/images/report.png'),
);
const cli = join(repo, 'dist/cli.js');
const out = mkdtempSync(join(tmpdir(), 'hostscope-report-shot-'));
try {
  const run = (args) =>
    execFileSync(process.execPath, [cli, ...args, url, '--log.level=warn'], { stdio: 'inherit' });
  run(['seed', '--hosts=3', '--days=14', '--seed.interval=5m', `--now=${NOW}`]);
  run([
    'report',
    '--dry-run',
    `--out=${out}`,
    '--report.grafana-url=https://grafana.example.com',
    `--now=${NOW}`,
  ]);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      `--user-data-dir=${join(out, 'chrome')}`,
    ],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 414, height: 900, deviceScaleFactor: 1 });
    await page.goto(`file://${join(out, 'report.html')}`, { waitUntil: 'load' });
    await page.screenshot({ path: png, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(relative(process.cwd(), png) || png);
} finally {
  rmSync(out, { recursive: true, force: true });
}
