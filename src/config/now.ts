import type { FlagSpec, FlagValues } from './flags';

/**
 * `--now`: the instant a command takes as the current time, for output that does not depend on when it
 * runs (the report screenshot in the docs, tests). Commands take their "now" as a `nowMs` argument; this
 * flag only chooses the value they pass.
 */
export const NOW_FLAG: FlagSpec = {
  name: 'now',
  kind: 'string',
  default: '',
  help: 'Take this RFC 3339 instant (e.g. 2025-06-02T08:00:00Z) as the current time, for reproducible output; empty: the clock.',
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The instant of an RFC 3339 text, in ms, or undefined when it is not one. */
export function parseRfc3339(text: string): number | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : undefined;
}

export function nowFlagProblems(f: FlagValues): string[] {
  const text = f.string('now');
  return text === '' || parseRfc3339(text) !== undefined
    ? []
    : [`--now (env HOSTSCOPE_NOW): expected an RFC 3339 time like 2025-06-02T08:00:00Z, got "${text}"`];
}

/** The current time the command should use: --now when given, else the clock. */
export function nowFromFlags(f: FlagValues, clock: () => number = Date.now): number {
  return parseRfc3339(f.string('now')) ?? clock();
}
