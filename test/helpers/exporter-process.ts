import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const CLI = path.join(__dirname, '../../dist/cli.js');

export interface ExporterProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built exporter (`node dist/cli.js exporter`) on an ephemeral port and resolves once it logs
 * the port it listens on. `npm test` builds dist/ first.
 */
export function startExporterProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ExporterProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'exporter', '--web.listen-address=127.0.0.1:0', '--log.format=json', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m !== null) {
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
        const port = Number(m[1]);
        resolve({
          child,
          port,
          url: `http://127.0.0.1:${port}`,
          output: () => out,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) =>
      reject(new Error(`exporter exited with ${String(code)} before listening:\n${out}`)),
    );
  });
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    // 'close' waits for both pipes to drain; 'exit' can come before the last chunk.
    child.once('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }),
    );
  });
}
