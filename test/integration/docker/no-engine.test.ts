/**
 * The exporter started where no Docker Engine answers (as `npm start` on a laptop without Docker): the
 * built exporter process, pointed at a socket path that does not exist, is scraped a few times; it must log
 * one warning naming the socket (no error, no stack trace) and nothing more. Then the socket appears (a
 * symbolic link to the real dockerd's socket, made while the exporter runs): the next scrape has the
 * containers, and one info line says so.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startExporterProcess, type ExporterProcess } from '../../helpers/exporter-process';
import { hasDocker, sharedDockerHost } from '../../helpers/docker';
import { describeWithService } from '../../helpers/services';

interface LogLine {
  level: string;
  msg: string;
  collector?: string;
  docker?: string;
  reason?: string;
  err?: unknown;
}

const engineSocket = (): string | undefined => {
  const host = sharedDockerHost();
  return host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
};

describeWithService(
  'Docker Engine on a unix socket',
  () => hasDocker() && engineSocket() !== undefined,
  'exporter without a Docker Engine, then with one',
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hs-no-engine-'));
    const socket = path.join(dir, 'docker.sock');
    let exporter: ExporterProcess | undefined;

    afterAll(async () => {
      await exporter?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const logs = (): LogLine[] =>
      (exporter?.output() ?? '')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${exporter?.url ?? ''}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    };

    it('warns once with the socket path, then says once that container metrics are on', async () => {
      exporter = await startExporterProcess([
        `--collector.docker.host=unix://${socket}`,
        '--inventory.interval=0',
        '--log.level=info',
      ]);
      for (let i = 0; i < 4; i++) {
        const body = await scrape();
        expect(body).toMatch(/^hostscope_docker_up 0$/m);
        expect(body).toMatch(/^node_scrape_collector_success\{collector="docker"\} 0$/m);
      }
      const docker = logs().filter((l) => l.collector === 'docker' || /docker/i.test(l.msg));
      expect(docker).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: `Docker Engine not reachable: container metrics are off until it appears at ${socket}`,
          docker: socket,
          reason: `connect ENOENT ${socket}`,
        }),
      ]);
      expect(docker[0]).not.toHaveProperty('err');
      expect(exporter.output()).not.toContain('"level":"error"');
      expect(exporter.output()).not.toContain('stack');

      // The engine appears at that path.
      symlinkSync(engineSocket() ?? '', socket);
      let body = '';
      for (let i = 0; i < 50 && !/^hostscope_docker_up 1$/m.test(body); i++) {
        body = await scrape();
        if (!/^hostscope_docker_up 1$/m.test(body)) await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toMatch(/^hostscope_docker_up 1$/m);
      expect(body).toMatch(/^node_scrape_collector_success\{collector="docker"\} 1$/m);
      await scrape();
      const after = logs().filter((l) => l.collector === 'docker' || /docker/i.test(l.msg));
      expect(after.slice(1)).toEqual([
        expect.objectContaining({
          level: 'info',
          msg: `Docker Engine reachable at ${socket}: container metrics are on`,
          docker: socket,
        }),
      ]);
    }, 60_000);
  },
);
