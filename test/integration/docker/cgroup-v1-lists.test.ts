import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { statsReadPlan, type ContainerCgroup } from '../../../src/collectors/docker/cgroup';
import { BatchFileReader } from '../../../src/collectors/docker/reader';
import { DEFAULT_HOST_PATHS, HostFs } from '../../../src/host/host-fs';
import { describeWithService } from '../../helpers/services';

const ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'] as const;
const hasCgroupV1 = (): boolean =>
  CONTROLLERS.every((c) => existsSync(path.join(ROOT, c, 'cgroup.procs'))) &&
  typeof process.getuid === 'function' &&
  process.getuid() === 0;

/**
 * Found by the stress suite's procVanish fault (issue 12): on cgroup v1 the kernel builds the pid list of
 * `cgroup.procs` and `tasks` when an open file is first read and serves it again to every read of that
 * file, from the start included, until a second after its last read (CGROUP_PIDLIST_DESTROY_DELAY). The
 * docker collector kept those two files open between scrapes, so an exporter scraped more than once a
 * second (several Prometheus servers, a load test) served the processes and thread states of its first
 * scrape for good: container_processes stayed 3 while a container ran thousands of processes.
 */
describeWithService(
  'cgroup v1 hierarchies (root)',
  hasCgroupV1,
  'container process lists on cgroup v1',
  () => {
    const name = `hostscope-test-${process.pid}`;
    const dir = (c: (typeof CONTROLLERS)[number]): string => path.join(ROOT, c, name);
    const cg: ContainerCgroup = {
      name: `/${name}`,
      version: 1,
      cpu: dir('cpu'),
      cpuacct: dir('cpuacct'),
      memory: dir('memory'),
      blkio: dir('blkio'),
      pids: dir('pids'),
    };
    const children: ChildProcess[] = [];
    const join = (): void => {
      const c = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(c);
      writeFileSync(path.join(cg.pids, 'cgroup.procs'), String(c.pid));
    };
    let reader: BatchFileReader;

    beforeAll(() => {
      for (const c of CONTROLLERS) mkdirSync(dir(c), { recursive: true });
      reader = new BatchFileReader();
    });
    afterAll(async () => {
      await reader.close();
      for (const c of children) c.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      for (const c of CONTROLLERS) rmdirSync(dir(c));
    });

    it('follows the processes and threads of the cgroup when read more often than once a second', async () => {
      const plan = statsReadPlan(
        new HostFs(DEFAULT_HOST_PATHS),
        cg,
        0,
        { perCpu: false, tasks: true, network: false },
        undefined,
      );
      const read = async (): Promise<{ processes?: number; sleeping?: number; threads?: number }> => {
        const s = plan.build(await reader.read([plan]));
        return { processes: s?.processes, sleeping: s?.tasks?.sleeping, threads: s?.threads };
      };
      join();
      await new Promise((r) => setTimeout(r, 50));
      expect(await read()).toEqual({ processes: 1, sleeping: 1, threads: 1 });
      join();
      join();
      await new Promise((r) => setTimeout(r, 50));
      expect(await read()).toEqual({ processes: 3, sleeping: 3, threads: 3 });
      for (const c of children.splice(0)) c.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      expect(await read()).toEqual({ processes: 0, sleeping: 0, threads: 0 });
    });
  },
);
