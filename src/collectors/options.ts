import { parseDuration } from '../config/duration';
import type { CollectorOptions, CollectorOptionSpec } from './types';

export type RawOptionValue = string | number | boolean | readonly string[];

/** Checks one raw option value against its spec; returns a problem description or undefined. */
export function validateOption(spec: CollectorOptionSpec, value: RawOptionValue): string | undefined {
  switch (spec.kind) {
    case 'regex':
      try {
        new RegExp(String(value));
        return undefined;
      } catch (err) {
        return `not a valid regular expression (${(err as Error).message})`;
      }
    case 'number':
      return Number.isFinite(Number(value)) && String(value).trim() !== ''
        ? undefined
        : `not a number: "${String(value)}"`;
    case 'duration':
      return parseDuration(String(value)) === undefined
        ? `not a duration (like 30s, 5m): "${String(value)}"`
        : undefined;
    case 'boolean':
      return typeof value === 'boolean' || /^(true|false|1|0)$/i.test(String(value))
        ? undefined
        : `not a boolean: "${String(value)}"`;
    default:
      return undefined;
  }
}

/**
 * Builds the typed accessor a collector receives. Regexes match unanchored, as node_exporter's do
 * (Go's MatchString), so a pattern must carry its own `^...$`; an empty regex means "not set".
 */
export function buildOptions(
  specs: readonly CollectorOptionSpec[],
  raw: Readonly<Record<string, RawOptionValue>>,
): CollectorOptions {
  const value = (name: string): RawOptionValue => {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`unknown collector option ${name}`);
    return raw[name] ?? spec.default;
  };
  return {
    string: (name) => String(value(name)),
    regex: (name) => {
      const v = String(value(name));
      return v === '' ? undefined : new RegExp(v);
    },
    number: (name) => Number(value(name)),
    boolean: (name) => {
      const v = value(name);
      return typeof v === 'boolean' ? v : /^(true|1)$/i.test(String(v));
    },
    duration: (name) => parseDuration(String(value(name))) ?? 0,
    list: (name) => {
      const v = value(name);
      return Array.isArray(v) ? (v as readonly string[]) : String(v) === '' ? [] : [String(v)];
    },
  };
}
