import { Writable } from 'node:stream';
import { dockerCollector } from '../../../src/collectors/docker/definition';
import type { DockerCollector } from '../../../src/collectors/docker/docker';
import { DockerUnavailableError } from '../../../src/collectors/docker/engine';
import { buildOptions } from '../../../src/collectors/options';
import { CollectorRunner } from '../../../src/collectors/runner';
import { DEFAULT_HOST_PATHS, HostFs } from '../../../src/host/host-fs';
import { createLogger } from '../../../src/log/logger';
import type { MetricFamily } from '../../../src/metrics/types';
import { family, valueOf } from '../../helpers/collect';
import { docker, ensureBusyboxImage, hasDocker, TestContainers } from '../../helpers/docker';
import { hasDockerd, startPrivateDockerd, type PrivateDockerd } from '../../helpers/dockerd';
import { describeWithService } from '../../helpers/services';

/*
 * Stops and restarts a real dockerd. It is a private daemon (own socket, data root, exec root, containerd),
 * so the shared engine other test files use is never touched.
 */
describeWithService(
  'Docker Engine (dockerd)',
  () => hasDockerd() && hasDocker(),
  'docker collector across a daemon stop and restart',
  () => {
    let daemon: PrivateDockerd;
    let containers: TestContainers;
    const logs: { level: string; msg: string; collector?: string }[] = [];
    let collector: DockerCollector;
    let runner: CollectorRunner;

    beforeAll(async () => {
      daemon = await startPrivateDockerd();
      containers = new TestContainers(daemon.host);
      await ensureBusyboxImage(daemon.host);
      const logger = createLogger(
        { level: 'debug', format: 'json' },
        new Writable({
          write(chunk: Buffer, _enc, done) {
            for (const line of chunk.toString().split('\n')) {
              if (line !== '') logs.push(JSON.parse(line) as { level: string; msg: string });
            }
            done();
          },
        }),
      );
      collector = dockerCollector.create({
        fs: new HostFs(DEFAULT_HOST_PATHS),
        logger,
        options: buildOptions(dockerCollector.options ?? [], { host: daemon.host, 'fs-usage-interval': '0' }),
      }) as DockerCollector;
      runner = new CollectorRunner([{ name: 'docker', collector }], 10_000, logger);
    }, 180_000);

    afterAll(async () => {
      await runner?.close();
      if (daemon !== undefined) {
        await containers.cleanup().catch(() => undefined);
        await daemon.destroy();
      }
    }, 180_000);

    const names = (f: readonly MetricFamily[]): string[] =>
      f.some((x) => x.name === 'container_last_seen')
        ? family(f, 'container_last_seen').samples.map((s) => s.labels.name ?? '')
        : [];

    it('reports the engine down, warns once, and shows the containers on the first scrape after restart', async () => {
      // --restart always: the daemon starts the container again when it comes back.
      const ct = await containers.run('survivor', ['--restart', 'always'], ['sleep', '100000']);
      let f = await runner.collect();
      expect(valueOf(f, 'node_scrape_collector_success', { collector: 'docker' })).toBe(1);
      expect(valueOf(f, 'hostscope_docker_up')).toBe(1);
      expect(names(f)).toContain(ct.name);

      await daemon.stop();
      for (let i = 0; i < 100 && collector.engineUp; i++) await new Promise((r) => setTimeout(r, 50));
      expect(collector.engineUp).toBe(false);

      for (let i = 0; i < 3; i++) {
        f = await runner.collect();
        expect(valueOf(f, 'node_scrape_collector_success', { collector: 'docker' })).toBe(0);
        const err = await collector
          .update({ signal: new AbortController().signal, deadlineMs: Date.now() + 5000 })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).toBeInstanceOf(DockerUnavailableError);
        expect(valueOf([...(err as DockerUnavailableError).families], 'hostscope_docker_up')).toBe(0);
      }
      // One warning (no error, no stack trace) while the engine is away.
      expect(logs.filter((l) => l.level === 'error')).toEqual([]);
      const warnings = logs.filter((l) => l.level === 'warn');
      expect(warnings.map((l) => l.msg)).toEqual([
        expect.stringMatching(/^Docker Engine not reachable: container metrics are off until it appears at /),
      ]);

      await daemon.start();
      // "Back" = the daemon answers and has restarted its containers (restart policy).
      for (let i = 0; i < 200; i++) {
        const running = await docker(['ps', '-q', '--filter', `id=${ct.id}`], daemon.host).catch(() => '');
        if (running !== '') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      f = await runner.collect();
      expect(valueOf(f, 'node_scrape_collector_success', { collector: 'docker' })).toBe(1);
      expect(valueOf(f, 'hostscope_docker_up')).toBe(1);
      expect(names(f)).toContain(ct.name);
      expect(valueOf(f, 'hostscope_container_restarts_total', { name: ct.name })).toBeGreaterThanOrEqual(0);
      expect(
        logs.filter(
          (l) =>
            l.level === 'info' && /^Docker Engine reachable at .*: container metrics are on$/.test(l.msg),
        ),
      ).toHaveLength(1);
    }, 180_000);
  },
);
