import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import fc from 'fast-check';
import { dockerCollector } from '../../src/collectors/docker/definition';
import type { DockerCollector } from '../../src/collectors/docker/docker';
import { buildOptions } from '../../src/collectors/options';
import { ParseError, parseExposition } from '../../src/expfmt/parse';
import type { InputFormat } from '../../src/expfmt/types';
import { encode } from '../../src/exposition/encode';
import { HostFs } from '../../src/host/host-fs';
import { silentLogger } from '../../src/log/logger';
import {
  BUSYBOX_IMAGE,
  ensureBusyboxImage,
  hasDocker,
  sharedDockerHost,
  TestContainers,
} from '../helpers/docker';
import { DockerReplay } from '../helpers/docker-replay';
import { startExporterProcess } from '../helpers/exporter-process';
import { corpus, fuzzParams, fuzzTimeout, nastyString } from '../helpers/fuzz';
import { describeWithService, hasBinary } from '../helpers/services';
import { loadDockerode } from '../../src/collectors/docker/load-dockerode';
import { FUZZ_SEED } from '../helpers/fuzz';

/**
 * Hostile container metadata through the docker collector: names, images, label keys and values, and
 * environment variables that are huge, binary or injection-shaped (quotes, backslashes, newlines, `"} 1`,
 * exposition syntax, control characters, unpaired surrogates), served by a replay of the Engine API and
 * read by the real collector (dockerode, src/collectors/docker/engine.parse.ts, labels.ts, families.ts).
 * Properties: the exporter's output, text and OpenMetrics, parses with our parser and gives the same
 * `name`, `image` and `container_label_*` values back (after UTF-8, which turns an unpaired surrogate
 * into U+FFFD); no environment value ever appears in it; and `promtool check metrics` (Prometheus' own
 * parser) accepts it. Corpus: test/fixtures/fuzz/docker/*.json ({name, image, labels, env}).
 */

const FX = path.join(__dirname, '../fixtures/docker');
const WEB = '65113ef10f7bc19b3bdf5647d5c3a18687b63df10044793ee636ce83740bd8de';

interface Hostile {
  name: string;
  image: string;
  labels: Record<string, string>;
  env: string[];
}

const viaUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

const huge = fc.tuple(
  fc.constantFrom('a', '"', '\\', '\n', 'é', '😀'),
  fc.integer({ min: 1000, max: 20_000 }),
);
const text = fc.oneof(
  { weight: 5, arbitrary: nastyString(6) },
  { weight: 1, arbitrary: huge.map(([c, n]) => c.repeat(n)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')) },
);

const hostile: fc.Arbitrary<Hostile> = fc.record({
  name: text,
  image: text,
  labels: fc.dictionary(text, text, { maxKeys: 6 }),
  env: fc.array(
    fc
      .tuple(fc.stringMatching(/^[A-Z_]{1,8}$/), fc.constantFrom('s3cr3t-', 'TOKEN-'), nastyString(2))
      .map(([k, marker, v]) => `${k}=${marker}${v}-ENVVALUE`),
    { maxLength: 4 },
  ),
});

const pathsOf = (root: string): { procfs: string; sysfs: string; rootfs: string; udevData: string } => ({
  procfs: path.join(root, 'proc'),
  sysfs: path.join(root, 'sys'),
  rootfs: path.join(root, 'rootfs'),
  udevData: path.join(root, 'udev'),
});

/** The exporter's output for one container given the hostile metadata (the other fixtures unchanged). */
async function exposition(h: Hostile): Promise<Record<InputFormat, string>> {
  const replay = await DockerReplay.start('v1', ['fx-web']);
  const doc = replay.inspect.get(WEB) as Record<string, unknown>;
  const config = doc.Config as Record<string, unknown>;
  replay.inspect.set(WEB, {
    ...doc,
    Name: `/${h.name}`,
    Config: { ...config, Image: h.image, Labels: h.labels, Env: h.env },
  });
  const c = dockerCollector.create({
    fs: new HostFs(pathsOf(path.join(FX, 'v1'))),
    logger: silentLogger(),
    options: buildOptions(dockerCollector.options ?? [], { host: replay.host, 'fs-usage-interval': '0' }),
  }) as DockerCollector;
  try {
    const families = await c.update({
      signal: new AbortController().signal,
      deadlineMs: Date.now() + 10_000,
    });
    return { text: encode(families, 'text'), openmetrics: encode(families, 'openmetrics') };
  } finally {
    await c.close();
    await replay.stop();
  }
}

/**
 * Every Docker label is exported as container_label_<key sanitised>, with its value (after UTF-8); of keys
 * that sanitise to the same name, the first in byte order wins (hostscope's choice; cAdvisor's depends on
 * Go's map order). Nothing else is exported under that prefix. An empty value is no label.
 */
function expectContainerLabels(
  docker: Readonly<Record<string, string>>,
  exported: Readonly<Record<string, string>>,
): void {
  const expected = new Map<string, string>();
  for (const key of Object.keys(docker).sort()) {
    const name = `container_label_${key.replace(/[^a-zA-Z0-9_]/gu, '_')}`;
    if (!expected.has(name)) expected.set(name, viaUtf8(docker[key] ?? ''));
  }
  const got = new Map(Object.entries(exported).filter(([k]) => k.startsWith('container_label_')));
  for (const m of [expected, got]) for (const [k, v] of m) if (v === '') m.delete(k);
  expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
}

function checkOutput(h: Hostile, out: Record<InputFormat, string>): void {
  for (const format of ['text', 'openmetrics'] as const) {
    let families;
    try {
      families = parseExposition(Buffer.from(out[format], 'utf8'), format);
    } catch (err) {
      if (err instanceof ParseError) throw new Error(`${format} output does not parse: ${err.message}`);
      throw err;
    }
    const seen = families
      .flatMap((f) => f.samples)
      .filter((s) => s.name === 'container_last_seen' && s.labels.id === `/docker/${WEB}`);
    expect(seen).toHaveLength(1);
    const labels = seen[0]?.labels ?? {};
    expect(labels.name).toBe(viaUtf8(h.name));
    expect(labels.image).toBe(viaUtf8(h.image));
    expectContainerLabels(h.labels, labels);
  }
  for (const e of h.env) {
    const value = viaUtf8(e.slice(e.indexOf('=') + 1));
    expect(out.text.includes(value)).toBe(false);
  }
}

const CORPUS = corpus('docker').map((e) => JSON.parse(e.bytes.toString('utf8')) as Hostile);

describe('docker collector under hostile container metadata (fuzz)', () => {
  it(
    'the output parses, keeps names, images and labels, and never shows the environment',
    async () => {
      expect(CORPUS.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(hostile, async (h) => checkOutput(h, await exposition(h))),
        fuzzParams(60, { plugins: [fc.timeout(30_000)], examples: CORPUS.map((h): [Hostile] => [h]) }),
      );
    },
    fuzzTimeout(180_000),
  );

  (hasBinary('promtool') ? it : it.skip)(
    'promtool check metrics accepts the output',
    async () => {
      await fc.assert(
        fc.asyncProperty(hostile, async (h) => {
          const out = (await exposition(h)).text;
          const r = spawnSync('promtool', ['check', 'metrics'], {
            input: out,
            encoding: 'utf8',
            maxBuffer: 64 << 20,
          });
          if (/error while linting|parsing error/.test(r.stderr) || ![0, 3].includes(r.status ?? -1))
            throw new Error(`promtool refused the output (${r.status}): ${r.stderr.slice(0, 2000)}`);
        }),
        fuzzParams(30, { plugins: [fc.timeout(30_000)], examples: CORPUS.map((h): [Hostile] => [h]) }),
      );
    },
    fuzzTimeout(180_000),
  );
});

/**
 * The same through a real Docker Engine: containers created (with the Engine API, so that label keys
 * and values may hold anything the API takes) with the corpus's labels and environment and a few
 * generated ones, and the real exporter process scraped: its output passes promtool and our parser,
 * keeps the label values, and shows no environment value.
 */
describeWithService(
  'Docker Engine and promtool',
  () => hasDocker() && hasBinary('promtool'),
  'docker labels through a real engine',
  () => {
    const containers = new TestContainers();
    const cases: Hostile[] = [...CORPUS, ...fc.sample(hostile, { seed: FUZZ_SEED, numRuns: 4 })].map((h) => ({
      ...h,
      labels: { ...h.labels, [containers.label.split('=')[0] as string]: containers.runId },
      // runc refuses an environment variable with a NUL.
      env: h.env.filter((e) => !e.includes('\u0000')),
    }));

    afterAll(() => containers.cleanup(), 60_000);

    it('the exporter output passes promtool and keeps the labels', async () => {
      await ensureBusyboxImage();
      const Docker = loadDockerode();
      const socketPath = sharedDockerHost().replace(/^unix:\/\//, '');
      const engine = new Docker({ socketPath });
      const ids: string[] = [];
      for (const [i, h] of cases.entries()) {
        const c = await engine.createContainer({
          Image: BUSYBOX_IMAGE,
          Cmd: ['sleep', '300'],
          name: `hs-${containers.runId}-fuzz-${i}`,
          Labels: h.labels,
          Env: h.env,
          HostConfig: { NetworkMode: 'none' },
        });
        await c.start();
        ids.push(c.id);
      }
      const exporter = await startExporterProcess(['--collector.disable-defaults', '--collector.docker']);
      try {
        let text = '';
        // The collector learns of new containers from the engine's events; poll until all are seen.
        for (let i = 0; i < 100; i++) {
          text = await (await fetch(`${exporter.url}/metrics`)).text();
          if (ids.every((id) => text.includes(`/docker/${id}`))) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        const r = spawnSync('promtool', ['check', 'metrics'], {
          input: text,
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        expect(r.stderr).not.toMatch(/error while linting|parsing error/);
        expect([0, 3]).toContain(r.status);
        const samples = parseExposition(Buffer.from(text, 'utf8'), 'text').flatMap((f) => f.samples);
        cases.forEach((h, i) => {
          const seen = samples.find(
            (s) => s.name === 'container_last_seen' && s.labels.id === `/docker/${ids[i] ?? ''}`,
          );
          expect(seen).toBeDefined();
          expectContainerLabels(h.labels, seen?.labels ?? {});
          for (const e of h.env) expect(text.includes(viaUtf8(e.slice(e.indexOf('=') + 1)))).toBe(false);
        });
      } finally {
        await exporter.stop();
      }
    }, 180_000);
  },
);
