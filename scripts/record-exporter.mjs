#!/usr/bin/env node
// Records a real exporter for the storage benchmark's fixture (and for `hostscope import`).
//
//   node scripts/record-exporter.mjs record URL DIR [SCRAPES] [INTERVAL_S]
//       scrapes URL every INTERVAL_S seconds (default 15, aligned to the clock), SCRAPES times
//       (default 240 = one hour), saving each body as DIR/<unix ms>.prom
//   node scripts/record-exporter.mjs assemble DIR OUT.prom.gz
//       writes every saved scrape, in time order, as Prometheus text exposition with each sample's
//       scrape time in milliseconds appended: one full exposition per scrape, concatenated, gzipped.
//       This is the format `hostscope import` reads; gzip keeps it small since consecutive scrapes
//       differ only in values and timestamps.
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGzip } from 'node:zlib';

const [mode, a, b, c, d] = process.argv.slice(2);

async function record(url, dir, scrapes = 240, intervalS = 15) {
  mkdirSync(dir, { recursive: true });
  const step = intervalS * 1000;
  for (let i = 0; i < scrapes; i++) {
    const next = Math.ceil(Date.now() / step) * step;
    await new Promise((r) => setTimeout(r, next - Date.now()));
    const t = Date.now();
    try {
      const res = await fetch(url, { headers: { Accept: 'text/plain;version=0.0.4' } });
      writeFileSync(path.join(dir, `${t}.prom`), await res.text());
    } catch (err) {
      console.error(`scrape ${i} failed: ${err.message}`);
    }
  }
}

/** Appends the timestamp to every sample line of one exposition (comments and blank lines stay). */
function stamp(body, ms) {
  const out = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) out.push(line);
    else out.push(`${line} ${ms}`);
  }
  return out.join('\n').replace(/\n*$/, '\n');
}

async function assemble(dir, outFile) {
  const files = readdirSync(dir)
    .map((f) => /^(?:\d+-)?(\d{13})\.prom$/.exec(f))
    .filter((m) => m !== null)
    .map((m) => ({ file: m[0], ms: Number(m[1]) }))
    .sort((x, y) => x.ms - y.ms);
  const gz = createGzip({ level: 9 });
  const out = createWriteStream(outFile);
  gz.pipe(out);
  for (const { file, ms } of files) {
    if (!gz.write(stamp(readFileSync(path.join(dir, file), 'utf8'), ms)))
      await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await new Promise((r) => out.once('finish', r));
  console.log(`${files.length} scrapes -> ${outFile}`);
}

if (mode === 'record' && a && b) await record(a, b, Number(c ?? 240), Number(d ?? 15));
else if (mode === 'assemble' && a && b) await assemble(a, b);
else {
  console.error('usage: record URL DIR [SCRAPES] [INTERVAL_S] | assemble DIR OUT.prom.gz');
  process.exit(2);
}
