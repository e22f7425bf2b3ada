import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package version, read from package.json (call once at start; not cached here). */
export function readVersion(): string {
  // dist/version.js and src/version.ts both sit one level below package.json.
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
