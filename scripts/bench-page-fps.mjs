#!/usr/bin/env node
/* global window, document, performance, requestAnimationFrame, PerformanceObserver, queueMicrotask */
// Frame rate of the overview page's History charts while they pan and zoom (`npm run bench:page:fps`).
// Seeds one host with 30 days of 15 s data (hostscope seed), serves it with `hostscope sink`, opens History
// (30 d) in the system Chromium (puppeteer-core, headless, 1280x1000) and records every frame with
// requestAnimationFrame, and frames longer than 50 ms with the Long Animation Frames API, while it:
//  - idle: does nothing (the frame pacing of this machine, the noise floor);
//  - pan: slides a 7-day window across the 30 days, a step every frame, on every chart at once (what a
//    pan gesture does each frame: setScale on each synchronised chart);
//  - zoom: narrows the window from 30 days to 1 day over as many frames (a wheel or pinch zoom);
//  - drag-zoom: a real mouse drag across the load chart (the page's zoom gesture: a selection rectangle and
//    synchronised cursors on every chart), released, and the page's reload of the selected span from
//    the server (its answers parsed and every chart updated), until the charts are ready;
//  - pan after zoom: the pan again, over the reloaded (finer) data.
// For each: frames, frames/s at the median frame interval, p95 and worst interval, and for the
// programmatic phases the page's own work per frame (setScale and uPlot's redraw, measured in the page).
// No pass/fail: the figures are printed with the load average of the machine.
//
//   npm run bench:page:fps                                     # a private PostgreSQL cluster (needs root)
//   npm run bench:page:fps -- --database.url=postgres://...    # or a scratch database (the seed writes to it)
//   options: --days=30 --interval=15s --frames=240
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { freePort, percentile, privateCluster, sleep, table, waitForHttp } from './bench-lib.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist/cli.js');
const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DAYS = Number(arg('days', '30'));
const INTERVAL = arg('interval', '15s');
const FRAMES = Number(arg('frames', '240'));
const HOST = 'seed-host-01:9100';
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** In the page: starts recording rAF timestamps and long animation frames. */
function startRecording() {
  const rec = { frames: [], work: [], loaf: [], running: true };
  window.__fps = rec;
  const tick = (t) => {
    rec.frames.push(t);
    if (rec.running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  try {
    rec.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        rec.loaf.push(e.duration);
        if (window.__fpsDebug)
          console.log(
            `LoAF ${e.duration.toFixed(0)} ms at ${e.startTime.toFixed(0)}: ` +
              (e.scripts ?? [])
                .map((x) => `${x.invoker} ${x.duration.toFixed(0)} ms (${x.sourceFunctionName})`)
                .join('; '),
          );
      }
    });
    rec.observer.observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    rec.loaf = null; // not supported
  }
}

/** In the page: stops recording and hands the figures over. */
function stopRecording() {
  const rec = window.__fps;
  rec.running = false;
  rec.observer?.disconnect();
  return { frames: rec.frames, work: rec.work, loaf: rec.loaf };
}

/**
 * In the page: `frames` frames, each moving every History chart's x range to `window(i)` (unix seconds)
 * in its animation frame; the work (setScale, and uPlot's redraw in the microtask it queues) is timed.
 */
function animate(kind, frames, from, to) {
  const charts = [...window.hostscope.charts.history.values()].filter((c) => c.plot !== undefined);
  const span = to - from;
  const at = (i) => {
    const f = frames > 1 ? i / (frames - 1) : 1;
    if (kind === 'pan') {
      const w = 7 * 86_400;
      const min = from + f * (span - w);
      return [min, min + w];
    }
    const w = span * (1 - f) + 86_400 * f; // zoom: the whole range to one day, centred
    const mid = from + span / 2;
    return [mid - w / 2, mid + w / 2];
  };
  return new Promise((resolve) => {
    let i = 0;
    const step = () => {
      if (i >= frames) {
        resolve(charts.length);
        return;
      }
      const [min, max] = at(i++);
      const t0 = performance.now();
      for (const c of charts) c.setRange(min, max);
      // uPlot redraws in a microtask queued by setScale: time up to the one queued after it.
      queueMicrotask(() => queueMicrotask(() => window.__fps.work.push(performance.now() - t0)));
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
}

function summarise(name, rec) {
  const intervals = rec.frames.slice(1).map((t, i) => t - rec.frames[i]);
  const median = percentile(intervals, 50);
  const row = [
    name,
    String(intervals.length),
    (1000 / median).toFixed(1),
    percentile(intervals, 95).toFixed(1),
    Math.max(...intervals).toFixed(1),
    rec.work.length > 0 ? percentile(rec.work, 50).toFixed(2) : '',
    rec.work.length > 0 ? percentile(rec.work, 95).toFixed(2) : '',
    rec.work.length > 0 ? Math.max(...rec.work).toFixed(2) : '',
    rec.loaf === null
      ? 'n/a'
      : `${rec.loaf.length}${rec.loaf.length > 0 ? ` (max ${Math.max(...rec.loaf).toFixed(0)})` : ''}`,
  ];
  return row;
}

const loadAtStart = load();
const given = arg('database.url', undefined);
const cluster = given === undefined ? await privateCluster() : undefined;
const url = given ?? cluster.url;
const out = mkdtempSync(join(tmpdir(), 'hostscope-bench-fps-'));
let sink;
try {
  const seedStart = Date.now();
  execFileSync(
    process.execPath,
    [
      cli,
      'seed',
      '--hosts=1',
      `--days=${DAYS}`,
      `--seed.interval=${INTERVAL}`,
      `--database.url=${url}`,
      '--log.level=warn',
    ],
    { stdio: 'inherit' },
  );
  const seedSeconds = (Date.now() - seedStart) / 1000;
  const port = await freePort();
  sink = spawn(
    process.execPath,
    [
      cli,
      'sink',
      '--scrape.target=',
      '--web.enable-alertmanager-webhook', // a source, so that the sink runs with no target
      `--web.listen-address=127.0.0.1:${port}`,
      `--database.url=${url}`,
      '--maintain.schedule=',
      `--buffer.dir=${join(out, 'buffer')}`,
      '--log.level=warn',
    ],
    { stdio: 'inherit' },
  );
  await waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);
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
  const version = await browser.version();
  const rows = [
    [
      'phase',
      'frames',
      'frames/s (median)',
      'p95 frame ms',
      'worst frame ms',
      'work/frame p50 ms',
      'p95',
      'max',
      'frames > 50 ms (LoAF)',
    ],
  ];
  const notes = [];
  try {
    const page = await browser.newPage();
    if (process.env.BENCH_DEBUG !== undefined) {
      page.on('console', (m) => console.log(`  page: ${m.text()}`));
      await page.evaluateOnNewDocument(() => {
        window.__fpsDebug = true;
      });
    }
    await page.setViewport({ width: 1280, height: 1000, deviceScaleFactor: 1 });
    const loadStart = Date.now();
    await page.goto(`http://127.0.0.1:${port}/#tab=history&host=${HOST}&range=30d`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.historyState === 'ready', { timeout: 120_000 });
    notes.push(`History 30 d loaded in ${((Date.now() - loadStart) / 1000).toFixed(2)} s`);
    const range = await page.evaluate(() => ({
      from: Number(document.body.dataset.historyFrom),
      to: Number(document.body.dataset.historyTo),
      info: document.getElementById('history-info')?.textContent ?? '',
      points: Math.max(
        ...[...window.hostscope.charts.history.values()].map((c) => c.plot?.data[0]?.length ?? 0),
      ),
      series: [...window.hostscope.charts.history.values()].reduce(
        (s, c) => s + Math.max(0, (c.plot?.data.length ?? 1) - 1),
        0,
      ),
    }));
    notes.push(
      `30 d view: ${range.info}; ${range.series} series on 8 charts, up to ${range.points} points each`,
    );
    await page.mouse.move(0, 0);

    const measure = async (name, run) => {
      await page.evaluate(startRecording);
      await run();
      rows.push(summarise(name, await page.evaluate(stopRecording)));
    };
    await measure('idle', () => sleep((FRAMES / 60) * 1000));
    await measure('pan, 7 d window over 30 d', () =>
      page.evaluate(animate, 'pan', FRAMES, range.from, range.to),
    );
    await measure('zoom, 30 d to 1 d', () => page.evaluate(animate, 'zoom', FRAMES, range.from, range.to));

    // Back to the whole range, then the real gesture: drag across the load chart and release.
    await page.evaluate(
      (from, to) => {
        for (const c of window.hostscope.charts.history.values()) c.setRange(from, to);
      },
      range.from,
      range.to,
    );
    const box = await (await page.$('figure[data-chart="load"] .u-over')).boundingBox();
    const y = box.y + box.height / 2;
    let reloadMs = 0;
    await measure('drag-zoom (mouse) and reload', async () => {
      await page.mouse.move(box.x + box.width * 0.7, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.93, y, { steps: 60 });
      const released = Date.now();
      await page.mouse.up();
      await page.waitForFunction(
        (from) =>
          document.body.dataset.historyState === 'ready' &&
          Number(document.body.dataset.historyFrom) !== from,
        { timeout: 60_000, polling: 'raf' },
        range.from,
      );
      reloadMs = Date.now() - released;
      await sleep(300);
    });
    const zoomed = await page.evaluate(() => ({
      from: Number(document.body.dataset.historyFrom),
      to: Number(document.body.dataset.historyTo),
      info: document.getElementById('history-info')?.textContent ?? '',
    }));
    notes.push(`drag-zoom: reloaded in ${reloadMs} ms after release; then ${zoomed.info}`);
    await measure('pan after zoom', () =>
      page.evaluate(animate, 'pan', FRAMES, zoomed.from - 3 * 86_400, zoomed.to + 3 * 86_400),
    );
    // The page's pan gesture: Shift+drag, redrawn once a frame, and the span let go at reloaded.
    await page.evaluate(
      (from, to) => {
        for (const c of window.hostscope.charts.history.values()) c.setRange(from, to);
      },
      zoomed.from,
      zoomed.to,
    );
    let panReloadMs = 0;
    await measure('Shift+drag pan (mouse) and reload', async () => {
      await page.keyboard.down('Shift');
      await page.mouse.move(box.x + box.width * 0.8, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.2, y, { steps: 90 });
      const released = Date.now();
      await page.mouse.up();
      await page.keyboard.up('Shift');
      await page.waitForFunction(
        (from) =>
          document.body.dataset.historyState === 'ready' &&
          Number(document.body.dataset.historyFrom) !== from,
        { timeout: 60_000, polling: 'raf' },
        zoomed.from,
      );
      panReloadMs = Date.now() - released;
      await sleep(300);
    });
    notes.push(`Shift+drag pan: reloaded in ${panReloadMs} ms after release`);
    await page.close();
  } finally {
    await browser.close();
  }
  console.log(
    `overview page frame rate: ${DAYS} d of ${INTERVAL} data for one host (seeded in ${seedSeconds.toFixed(0)} s), ` +
      `headless ${version}, ` +
      `1280x1000, ${os.cpus().length} CPUs`,
  );
  for (const n of notes) console.log(`  ${n}`);
  console.log(table(rows));
  console.log(`  load average at the start: ${loadAtStart}; at the end: ${load()}`);
} finally {
  if (sink !== undefined && sink.exitCode === null) {
    sink.kill('SIGTERM');
    await new Promise((r) => sink.once('exit', r));
  }
  rmSync(out, { recursive: true, force: true });
  cluster?.stop();
}
