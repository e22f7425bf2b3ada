import Module from 'node:module';
import type Dockerode from 'dockerode';

/**
 * dockerode's modules that the collector never runs, with the dependencies they load at require time:
 * BuildKit sessions (@grpc/grpc-js, protobufjs; used by buildImage) and the ssh:// transport (ssh2; the
 * collector connects over a unix socket or tcp). Together ~5 MB resident for code that never runs.
 */
const UNUSED = ['dockerode/lib/session', 'docker-modem/lib/ssh'];

/**
 * Requires dockerode with its unused modules (above) replaced by stand-ins in the require cache. Each
 * module exports a single function; its stand-in loads the real module on first call, so nothing breaks if
 * a later dockerode uses them after all. Loaded on demand, not at import: an exporter run without the
 * docker collector carries none of it.
 */
export function loadDockerode(): typeof Dockerode {
  for (const id of UNUSED) {
    let file: string;
    try {
      file = require.resolve(id, { paths: [require.resolve('dockerode')] });
    } catch {
      continue; // another layout of dockerode's dependencies: load it as it is
    }
    if (require.cache[file] !== undefined) continue;
    const stub = new Module(file, module);
    stub.filename = file;
    stub.loaded = true;
    stub.exports = function loadOnUse(this: unknown, ...args: unknown[]): unknown {
      delete require.cache[file];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const real = require(file) as (...a: unknown[]) => unknown;
      return real.apply(this, args);
    };
    require.cache[file] = stub;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('dockerode') as typeof Dockerode;
}
