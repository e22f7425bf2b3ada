import * as m0001 from './0001_init';
import * as m0002 from './0002_chunks';
import * as m0003 from './0003_alerts';
import * as m0004 from './0004_blocks';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Numbered migrations, applied in order. They are TypeScript string modules (not .sql files) so that
 * `tsc` ships them in dist/ without a copy step. Never edit an applied migration: add the next number.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: m0001.name, sql: m0001.sql },
  { version: 2, name: m0002.name, sql: m0002.sql },
  { version: 3, name: m0003.name, sql: m0003.sql },
  { version: 4, name: m0004.name, sql: m0004.sql },
];
