import { spawnSync } from 'node:child_process';

/**
 * Integration tests need real services (Docker Engine, PostgreSQL, Prometheus, ...). On a laptop without
 * one, its tests are skipped with the reason; in CI (CI=true) a missing service is a failure, never a skip.
 */
export function describeWithService(
  service: string,
  available: () => boolean,
  name: string,
  body: () => void,
): void {
  if (available()) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`requires ${service}`, () => {
        throw new Error(`${service} is not available, and CI=true requires every integration test to run`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${service} not available)`, body);
}

/** True when the command exits 0 within the timeout. */
export function commandSucceeds(cmd: string, args: readonly string[], timeoutMs = 10_000): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
  return r.status === 0;
}

export function hasBinary(name: string): boolean {
  return commandSucceeds('sh', ['-c', `command -v ${name}`]);
}
