import { readFileSync } from 'node:fs';
import { parseDuration } from './duration';

/**
 * A small flag parser in node_exporter's style: `--name=value`, `--name value`, `--flag` / `--no-flag`
 * for booleans, repeatable list flags; every flag also reads `HOSTSCOPE_<NAME>`, and secret flags also
 * `HOSTSCOPE_<NAME>_FILE`. It never throws on user input: it returns every problem at once.
 */

export type FlagKind = 'string' | 'boolean' | 'number' | 'duration' | 'regex' | 'list' | 'address' | 'enum';
export type FlagValue = string | number | boolean | readonly string[];

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  readonly default?: FlagValue;
  readonly choices?: readonly string[];
  /** Also read from `<ENV>_FILE` (a path); never printed. */
  readonly secret?: boolean;
  /** Further environment names read after HOSTSCOPE_<NAME> (e.g. DATABASE_URL). */
  readonly envAliases?: readonly string[];
  /** Lower bound for numbers. */
  readonly min?: number;
  /** A testing aid: listed apart in --help and in docs/configuration.md, after the other flags. */
  readonly testing?: boolean;
}

export interface ParsedFlags {
  readonly values: ReadonlyMap<string, FlagValue>;
  /** Flags given on the command line or in the environment (not defaulted). */
  readonly explicit: ReadonlySet<string>;
  readonly problems: readonly string[];
  readonly help: boolean;
  readonly version: boolean;
}

export function envName(flag: string): string {
  return `HOSTSCOPE_${flag.replace(/[.-]/g, '_').toUpperCase()}`;
}

function describeFlag(spec: FlagSpec): string {
  const envs = [envName(spec.name), ...(spec.envAliases ?? [])];
  if (spec.secret) envs.push(...envs.map((e) => `${e}_FILE`));
  return `--${spec.name} (env ${envs.join(', ')})`;
}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]*):(\d{1,5})$/;
const BOOLEANS = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

/** Validates and converts one raw string for a flag; returns the value or a problem text. */
function convert(spec: FlagSpec, raw: string): { value: FlagValue } | { problem: string } {
  switch (spec.kind) {
    case 'boolean': {
      const value = BOOLEANS.get(raw.toLowerCase());
      return value !== undefined ? { value } : { problem: `expected true or false, got "${raw}"` };
    }
    case 'number': {
      // Number() as JavaScript reads a literal (1e3, 0x10, surrounding blanks), but blank is not 0.
      const value = raw.trim() === '' ? NaN : Number(raw);
      return Number.isFinite(value) && value >= (spec.min ?? -Infinity)
        ? { value }
        : { problem: `expected a number${spec.min === undefined ? '' : ` >= ${spec.min}`}, got "${raw}"` };
    }
    case 'duration':
      return parseDuration(raw) === undefined
        ? { problem: `expected a duration like 15s or 5m, got "${raw}"` }
        : { value: raw };
    case 'regex':
      try {
        new RegExp(raw);
        return { value: raw };
      } catch (err) {
        return { problem: `invalid regular expression "${raw}": ${(err as Error).message}` };
      }
    case 'address': {
      if (!ADDRESS.test(raw))
        return { problem: `expected [host]:port like :9100 or 127.0.0.1:9100, got "${raw}"` };
      const port = Number(raw.slice(raw.lastIndexOf(':') + 1));
      return port <= 65535 ? { value: raw } : { problem: `port out of range in "${raw}"` };
    }
    case 'enum':
      return spec.choices?.includes(raw) === true
        ? { value: raw }
        : { problem: `expected one of ${(spec.choices ?? []).join('|')}, got "${raw}"` };
    default:
      return { value: raw };
  }
}

export function parseFlags(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const problems: string[] = [];
  const fromArgs = new Map<string, FlagValue>();
  let help = false;
  let version = false;

  const set = (spec: FlagSpec, raw: string, source: Map<string, FlagValue>): void => {
    const result = convert(spec, raw);
    if ('problem' in result) {
      problems.push(`${describeFlag(spec)}: ${result.problem}`);
      return;
    }
    if (spec.kind === 'list') {
      const prev = source.get(spec.name);
      source.set(spec.name, [...(Array.isArray(prev) ? (prev as string[]) : []), raw]);
    } else {
      source.set(spec.name, result.value);
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version') {
      version = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = byName.get(name);
    if (spec === undefined && name.startsWith('no-') && inline === undefined) {
      const negated = byName.get(name.slice(3));
      if (negated?.kind === 'boolean') {
        fromArgs.set(negated.name, false);
        continue;
      }
      spec = negated;
    }
    if (spec === undefined) {
      problems.push(`unknown flag --${name}`);
      continue;
    }
    if (spec.kind === 'boolean' && inline === undefined) {
      fromArgs.set(spec.name, true);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        problems.push(`${describeFlag(spec)}: needs a value`);
        continue;
      }
      raw = next;
      i++;
    }
    set(spec, raw, fromArgs);
  }

  const values = new Map<string, FlagValue>();
  const explicit = new Set<string>();
  for (const spec of specs) {
    if (fromArgs.has(spec.name)) {
      values.set(spec.name, fromArgs.get(spec.name) as FlagValue);
      explicit.add(spec.name);
      continue;
    }
    const fromEnv = new Map<string, FlagValue>();
    const envRaw = readEnv(spec, env, problems);
    if (envRaw !== undefined) {
      if (spec.kind === 'list')
        for (const part of envRaw
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== ''))
          set(spec, part, fromEnv);
      else set(spec, envRaw, fromEnv);
    }
    if (fromEnv.has(spec.name)) explicit.add(spec.name);
    const v = fromEnv.get(spec.name) ?? spec.default;
    if (v !== undefined) values.set(spec.name, v);
  }
  return { values, explicit, problems, help, version };
}

function readEnv(spec: FlagSpec, env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const names = [envName(spec.name), ...(spec.envAliases ?? [])];
  for (const name of names) {
    const direct = env[name];
    if (direct !== undefined && direct !== '') return direct;
    if (spec.secret) {
      const file = env[`${name}_FILE`];
      if (file !== undefined && file !== '') {
        try {
          return readFileSync(file, 'utf8').trim();
        } catch (err) {
          problems.push(
            `${describeFlag(spec)}: cannot read ${name}_FILE "${file}": ${(err as Error).message}`,
          );
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/** `--help` text generated from the specs. */
export function formatHelp(command: string, summary: string, specs: readonly FlagSpec[]): string {
  const lines = [`usage: hostscope ${command} [flags]`, '', summary, '', 'Flags:'];
  const testing = specs.filter((s) => s.testing === true);
  const ordered = [...specs.filter((s) => s.testing !== true), ...testing];
  for (const spec of ordered) {
    if (spec === testing[0]) lines.push('', 'Testing aids (not for production use):');
    const def =
      spec.default === undefined || spec.secret ? '' : ` (default: ${JSON.stringify(spec.default)})`;
    const neg = spec.kind === 'boolean' ? ` / --no-${spec.name}` : '';
    lines.push(
      `  --${spec.name}${neg}`,
      `      ${spec.help}${def}`,
      `      env: ${[envName(spec.name), ...(spec.envAliases ?? [])].map((e) => (spec.secret ? `${e} or ${e}_FILE` : e)).join(', ')}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Typed accessors over parsed values; specs guarantee presence of defaulted flags. */
export class FlagValues {
  constructor(
    private readonly values: ReadonlyMap<string, FlagValue>,
    /** Flags given on the command line or in the environment (ParsedFlags.explicit). */
    private readonly explicit: ReadonlySet<string> = new Set(),
  ) {}

  /** True when the flag was given (command line or environment), false when it has its default. */
  isSet(name: string): boolean {
    return this.explicit.has(name);
  }

  string(name: string): string {
    const v = this.values.get(name);
    return v === undefined ? '' : String(v);
  }

  optionalString(name: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined || v === '' ? undefined : String(v);
  }

  number(name: string): number {
    return Number(this.values.get(name));
  }

  boolean(name: string): boolean {
    return this.values.get(name) === true;
  }

  duration(name: string): number {
    return parseDuration(this.string(name)) ?? 0;
  }

  list(name: string): readonly string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? (v as readonly string[]) : v === undefined || v === '' ? [] : [String(v)];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  raw(name: string): FlagValue | undefined {
    return this.values.get(name);
  }
}

export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

export function parseListenAddress(address: string): ListenAddress {
  const idx = address.lastIndexOf(':');
  let host = address.slice(0, idx);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host === '' ? undefined : host, port: Number(address.slice(idx + 1)) };
}
