import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../../src/log/logger';
import type { ScrapeRecord } from '../../../../src/sink/buffer/record';
import type { Target } from '../../../../src/sink/types';

export const target: Target = { url: 'http://h:9100/metrics', instance: 'h:9100', job: 'node' };

/** A scrape of `n`: a counter with value n, at time n seconds. */
export function scrape(n: number, extraSamples = 0): ScrapeRecord {
  const lines = [`# TYPE t_total counter`, `t_total ${n}`];
  for (let i = 0; i < extraSamples; i++) lines.push(`g{i="${i}"} ${n * 1000 + i}`);
  return {
    target,
    timeMs: n * 1000,
    durationSeconds: 0.01,
    body: lines.join('\n') + '\n',
    format: 'text',
    sampleCount: 1 + extraSamples + 3,
    containerUsage: [],
  };
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostscope-buffer-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pino logger whose JSON lines are kept. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  let out = '';
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return {
    logger: createLogger({ level: 'debug', format: 'json' }, dest),
    lines: () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
