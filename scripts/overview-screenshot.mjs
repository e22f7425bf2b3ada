#!/usr/bin/env node
/* global document */
// Regenerates the overview page's screenshots in docs/images/ (README, docs/overview.md):
// overview-light.png and overview-dark.png (the Live tab of this machine, light and dark theme) and
// overview-history.png (History, 7 d, of a seeded host). It seeds a database (hostscope seed --hosts 3
// --days 14), runs `hostscope exporter` and `hostscope sink` scraping it every second for 30 s, and takes the
// screenshots with the system Chromium (puppeteer-core, no browser download), in UTC.
//
//   npm run docs:overview                                    # a private PostgreSQL cluster (needs root)
//   npm run docs:overview -- --database.url=postgres://...   # or a scratch database (the seed writes to it)
//
// Needs dist/ (npm run build). The charts' values change with the machine and the time; their layout does not.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { freePort, privateCluster, sleep, waitForHttp } from './bench-lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist/cli.js');
const WIDTH = 1280;
const HEIGHT = 1000;
const SHOTS = [
  { file: 'docs/images/overview-light.png', scheme: 'light', hash: 'tab=live' },
  { file: 'docs/images/overview-dark.png', scheme: 'dark', hash: 'tab=live' },
  {
    file: 'docs/images/overview-history.png',
    scheme: 'light',
    hash: 'tab=history&host=seed-host-01:9100&range=7d',
  },
];

const given = process.argv.find((a) => a.startsWith('--database.url='))?.slice('--database.url='.length);
const cluster = given === undefined ? await privateCluster() : undefined;
const url = given ?? cluster.url;
const out = mkdtempSync(join(tmpdir(), 'hostscope-overview-shot-'));
let sink;
let exporter;
try {
  execFileSync(
    process.execPath,
    [
      cli,
      'seed',
      '--hosts=3',
      '--days=14',
      '--seed.interval=5m',
      `--database.url=${url}`,
      '--log.level=warn',
    ],
    {
      stdio: 'inherit',
    },
  );
  const port = await freePort();
  const exporterPort = await freePort();
  // The exporter on its own, so that the mounts of the machine that makes the screenshots (scratch and
  // sandbox mounts under /tmp, /mnt, /var/lib/docker) stay out of the pictures.
  exporter = spawn(
    process.execPath,
    [
      cli,
      'exporter',
      `--web.listen-address=127.0.0.1:${exporterPort}`,
      '--collector.filesystem.mount-points-exclude=^/(dev|proc|run|sys|tmp|mnt|var/lib/docker)($|/)',
      '--log.level=warn',
    ],
    { stdio: 'inherit' },
  );
  await waitForHttp(`http://127.0.0.1:${exporterPort}/health`, 60_000);
  sink = spawn(
    process.execPath,
    [
      cli,
      'sink',
      `--scrape.target=http://127.0.0.1:${exporterPort}/metrics`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--database.url=${url}`,
      '--scrape.interval=1s',
      '--maintain.schedule=',
      `--buffer.dir=${join(out, 'buffer')}`,
      '--log.level=warn',
    ],
    { stdio: 'inherit' },
  );
  await waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);
  await sleep(30_000);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, TZ: 'UTC' },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      `--user-data-dir=${join(out, 'chrome')}`,
    ],
  });
  try {
    for (const shot of SHOTS) {
      const page = await browser.newPage();
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: shot.scheme }]);
      await page.setViewport({ width: WIDTH, height: HEIGHT, deviceScaleFactor: 1 });
      await page.goto(`http://127.0.0.1:${port}/#${shot.hash}`, { waitUntil: 'load' });
      await page.waitForFunction(
        (history) =>
          history
            ? document.body.dataset.historyState === 'ready'
            : document.body.dataset.liveTime !== undefined,
        { timeout: 60_000 },
        shot.hash.includes('history'),
      );
      await sleep(1500);
      // The mouse off the charts: no cursor, legends at rest.
      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(repo, shot.file), fullPage: false });
      await page.close();
      console.log(shot.file);
    }
  } finally {
    await browser.close();
  }
} finally {
  for (const child of [sink, exporter])
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  rmSync(out, { recursive: true, force: true });
  cluster?.stop();
}
