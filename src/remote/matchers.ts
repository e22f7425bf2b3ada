import * as vm from 'node:vm';
import type { LabelMatcher } from './prompb';

/**
 * Prometheus label matchers (`=`, `!=`, `=~`, `!~`) evaluated in JavaScript, with Prometheus' semantics:
 * a missing label has the empty value, and a regex must match the whole value (it is anchored as
 * `^(?:re)$`). Prometheus regexes are Go's RE2 syntax, which differs from JavaScript's, so each one is
 * translated token by token into an equivalent JavaScript regex (`u` flag: code points, as Go's runes),
 * and what RE2 rejects (lookaround, backreferences) or what has no JavaScript equivalent here (scoped or
 * mid-pattern flags, ungreedy mode) is refused with a RegexSyntaxError rather than matched differently.
 */

export class RegexSyntaxError extends Error {
  constructor(
    readonly pattern: string,
    message: string,
  ) {
    super(`invalid or unsupported regex ${JSON.stringify(pattern)}: ${message}`);
    this.name = 'RegexSyntaxError';
  }
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Go's \s: ASCII white space only (JavaScript's includes Unicode spaces). */
const SPACE = '\\t\\n\\f\\r ';

/** General categories (JavaScript takes them bare in \p{..}); other names are scripts. */
const GENERAL_CATEGORY = /^(?:[LMNPSZC][a-z]?|Any)$/;

function hexEscape(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** A literal character, escaped so that it means itself in a JavaScript `u` regex. */
function literal(ch: string): string {
  return /[0-9A-Za-z]/.test(ch) || ch.codePointAt(0) === undefined || (ch.codePointAt(0) as number) > 0x7f
    ? ch
    : hexEscape(ch);
}

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
}

/** Characters Go's simple case folding puts in one orbit beyond lower/upper case. */
const FOLD_EXTRA: Record<string, string> = {
  k: '\u212a',
  s: '\u017f',
  σ: 'ς',
  ς: 'σ',
};

/** Translates an RE2 pattern (unanchored) to JavaScript source and flags. */
export function translateRe2(pattern: string): { source: string; flags: string } {
  const fail = (msg: string): never => {
    throw new RegexSyntaxError(pattern, msg);
  };
  const chars = Array.from(pattern);
  // Flags in effect here; `(?flags)` changes them up to the end of the enclosing group, `(?flags:re)`
  // inside its group. A leading (?i) becomes JavaScript's i flag (exact folding); a scoped one is
  // applied to literals by expanding them into case classes.
  let flags: Flags = { i: false, s: false, m: false };
  const stack: Flags[] = [];
  let globalI = false;
  let i = 0;
  const lead = /^\(\?([ims]+)\)/.exec(pattern);
  if (lead !== null && (lead[1] as string).includes('i')) globalI = true;
  if (globalI && /\(\?[a-zA-Z]*-[a-zA-Z]*i/.test(pattern))
    fail('clearing a leading (?i) later is not supported');

  const applyFlags = (set: string, clear: string): void => {
    if (set.includes('U') || clear.includes('U')) fail('the ungreedy flag U is not supported');
    flags = { ...flags };
    for (const f of set) flags[f as keyof Flags] = true;
    for (const f of clear) flags[f as keyof Flags] = false;
  };

  /** A literal outside a class, case-folded under a scoped (?i). */
  const lit = (ch: string): string => {
    if (!flags.i || globalI) return literal(ch);
    const orbit = new Set([ch, ch.toLowerCase(), ch.toUpperCase()]);
    const extra = FOLD_EXTRA[ch.toLowerCase()];
    if (orbit.size === 1 && extra === undefined) return literal(ch);
    return `[${[...orbit].map(literal).join('')}${extra ?? ''}]`;
  };
  let out = '';

  // An escape sequence at chars[i] === '\\'; returns JavaScript source and the new index.
  const escape = (inClass: boolean): string => {
    const c = chars[i + 1];
    if (c === undefined) return fail('trailing backslash');
    i += 2;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return `\\${c}`;
      case 's':
        return inClass ? SPACE : `[${SPACE}]`;
      case 'S':
        return inClass ? fail('\\S inside a character class is not supported') : `[^${SPACE}]`;
      case 'b':
      case 'B':
        return inClass ? fail(`\\${c} inside a character class`) : `\\${c}`;
      case 'A':
        return inClass ? fail('\\A inside a character class') : '(?<![\\s\\S])';
      case 'z':
        return inClass ? fail('\\z inside a character class') : '(?![\\s\\S])';
      case 'a':
        return '\\x07';
      case 'f':
      case 't':
      case 'n':
      case 'r':
      case 'v':
        return `\\${c}`;
      case 'x': {
        const braced = /^\{([0-9A-Fa-f]{1,8})\}/.exec(chars.slice(i, i + 11).join(''));
        if (braced !== null) {
          i += (braced[0] as string).length;
          const cp = parseInt(braced[1] as string, 16);
          if (cp > 0x10ffff) return fail('\\x{...} beyond U+10FFFF');
          return `\\u{${cp.toString(16)}}`;
        }
        const two = chars.slice(i, i + 2).join('');
        if (!/^[0-9A-Fa-f]{2}$/.test(two)) return fail('\\x needs two hex digits or {hex}');
        i += 2;
        return `\\x${two}`;
      }
      case 'p':
      case 'P': {
        let name: string;
        if (chars[i] === '{') {
          const end = chars.indexOf('}', i);
          if (end < 0) return fail('unclosed \\p{');
          name = chars.slice(i + 1, end).join('');
          i = end + 1;
        } else {
          name = chars[i] ?? '';
          i++;
        }
        let neg = c === 'P';
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
        if (!/^[A-Za-z_]+$/.test(name)) return fail(`invalid Unicode class \\p{${name}}`);
        const body =
          name === 'Any'
            ? neg
              ? ''
              : '\\s\\S'
            : GENERAL_CATEGORY.test(name)
              ? `\\p{${name}}`
              : `\\p{Script=${name}}`;
        if (name === 'Any') return inClass ? body : neg ? '[]' : `[${body}]`;
        return neg ? body.replace('\\p', '\\P') : body;
      }
      case 'Q': {
        let q = '';
        while (i < chars.length) {
          if (chars[i] === '\\' && chars[i + 1] === 'E') {
            i += 2;
            break;
          }
          q += inClass ? literal(chars[i] as string) : lit(chars[i] as string);
          i++;
        }
        return q;
      }
      default:
        if (/[0-9]/.test(c)) return fail('backreferences and octal escapes are not RE2');
        if (/[A-Za-z]/.test(c)) return fail(`unknown escape \\${c}`);
        return literal(c);
    }
  };

  const classBody = (): string => {
    // chars[i] is just past '['.
    if (flags.i && !globalI) fail('character classes inside a scoped or mid-pattern (?i) are not supported');
    let body = '';
    if (chars[i] === '^') {
      body += '^';
      i++;
    }
    let first = true;
    for (;;) {
      const c = chars[i];
      if (c === undefined) return fail('missing closing ]');
      if (c === ']' && !first) {
        i++;
        return body;
      }
      first = false;
      if (c === '[' && chars[i + 1] === ':') {
        const end = pattern.indexOf(':]', 0);
        const rest = chars.slice(i).join('');
        const m = /^\[:(\^?)([a-z]+):\]/.exec(rest);
        if (m !== null && end >= 0) {
          const cls = POSIX[m[2] as string];
          if (cls === undefined) return fail(`unknown POSIX class [:${m[2]}:]`);
          if (m[1] === '^') return fail('negated POSIX classes [:^...:] are not supported');
          body += cls;
          i += Array.from(m[0]).length;
          continue;
        }
      }
      if (c === '\\') {
        body += escape(true);
        continue;
      }
      if (c === '-' && chars[i + 1] !== ']' && body !== '' && body !== '^') {
        body += '-';
        i++;
        continue;
      }
      body += literal(c);
      i++;
    }
  };

  while (i < chars.length) {
    const c = chars[i] as string;
    switch (c) {
      case '\\':
        out += escape(false);
        continue;
      case '.':
        out += flags.s ? '[\\s\\S]' : '[^\\n]';
        i++;
        continue;
      case '[':
        i++;
        out += `[${classBody()}]`;
        continue;
      case '(': {
        stack.push(flags);
        if (chars[i + 1] !== '?') {
          out += '(';
          i++;
          continue;
        }
        const rest = chars.slice(i).join('');
        const named = /^\(\?P<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
        const flagged = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
        if (rest.startsWith('(?:')) {
          out += '(?:';
          i += 3;
        } else if (named !== null) {
          out += '(';
          i += Array.from(named[0]).length;
        } else if (/^\(\?(?:=|!|<=|<!)/.test(rest)) {
          return fail('lookaround assertions are not RE2');
        } else if (flagged !== null && /^[imsU]*$/.test((flagged[1] ?? '') + (flagged[2] ?? ''))) {
          i += Array.from(flagged[0]).length;
          if (flagged[3] === ')') {
            // (?flags): for the rest of the enclosing group.
            stack.pop();
            applyFlags(flagged[1] ?? '', flagged[2] ?? '');
            continue;
          }
          applyFlags(flagged[1] ?? '', flagged[2] ?? '');
          out += '(?:';
        } else {
          return fail('unknown group syntax (?');
        }
        continue;
      }
      case ')': {
        const saved = stack.pop();
        if (saved === undefined) return fail('unexpected )');
        flags = saved;
        out += ')';
        i++;
        continue;
      }
      case '^':
        out += flags.m ? '(?<![^\\n])' : '^';
        i++;
        continue;
      case '$':
        out += flags.m ? '(?![^\\n])' : '$';
        i++;
        continue;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(i, i + 24).join(''));
        if (m === null) {
          out += '\\{'; // not a repetition: a literal brace in RE2
          i++;
          continue;
        }
        const lo = Number(m[1]);
        const hi = m[3] === undefined || m[3] === '' ? lo : Number(m[3]);
        if (lo > 1000 || hi > 1000) return fail('repetition count above 1000');
        if (m[3] !== undefined && m[3] !== '' && hi < lo) return fail('invalid repetition range');
        out += m[0];
        i += (m[0] as string).length;
        continue;
      }
      case '}':
        out += '\\}';
        i++;
        continue;
      case ']':
        out += '\\]';
        i++;
        continue;
      case '*':
      case '+':
      case '?':
      case '|':
        out += c;
        i++;
        continue;
      default:
        out += lit(c);
        i++;
    }
  }
  if (stack.length !== 0) fail('missing )');
  return { source: out, flags: `u${globalI ? 'i' : ''}` };
}

/** Compiles an RE2 pattern as Prometheus does: anchored at both ends. Throws RegexSyntaxError. */
export function compileAnchored(pattern: string): RegExp {
  const { source, flags } = translateRe2(pattern);
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch (err) {
    throw new RegexSyntaxError(pattern, err instanceof Error ? err.message : String(err));
  }
}

export type ValueMatcher = (value: string) => boolean;

/** One matcher as a predicate over the label's value ('' when the series has no such label). */
export function valueMatcher(m: LabelMatcher): ValueMatcher {
  switch (m.type) {
    case '=':
      return (v) => v === m.value;
    case '!=':
      return (v) => v !== m.value;
    case '=~': {
      const re = compileAnchored(m.value);
      return (v) => re.test(v);
    }
    case '!~': {
      const re = compileAnchored(m.value);
      return (v) => !re.test(v);
    }
  }
}

export interface CompiledMatcher {
  readonly name: string;
  readonly matches: ValueMatcher;
  readonly source: LabelMatcher;
}

export function compileMatchers(matchers: readonly LabelMatcher[]): CompiledMatcher[] {
  return matchers.map((m) => ({ name: m.name, matches: valueMatcher(m), source: m }));
}

/** True when every matcher accepts the series (labels as name -> value, `__name__` included). */
export function matchesAll(
  matchers: readonly CompiledMatcher[],
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const m of matchers) if (!m.matches(labels[m.name] ?? '')) return false;
  return true;
}

/**
 * How long the matchers of one remote read request may run, in all. JavaScript's regex engine
 * backtracks, where Prometheus' RE2 runs in linear time: a pattern such as `(.*)*x` takes seconds at 25
 * characters and hours at 35, and it runs on the event loop, so one request could stop the whole sink
 * (scrapes, writes, every other request). Past this budget the request fails with MatchTimeoutError.
 */
export const MATCH_BUDGET_MS = 2_000;

export class MatchTimeoutError extends Error {
  constructor(readonly budgetMs: number) {
    super(
      `the label matchers took more than ${budgetMs} ms to evaluate (a regex that backtracks, such as nested quantifiers like (a+)+ or (.*)*); simplify the regex`,
    );
    this.name = 'MatchTimeoutError';
  }
}

const sandbox = vm.createContext({ job: undefined as (() => unknown) | undefined });

/**
 * The matching time of one request: each `run` executes synchronous matching under what is left of the
 * budget. V8 interrupts the job, even inside a regex, once that is used up, and `run` throws
 * MatchTimeoutError. Time spent elsewhere (awaiting the database) does not count. Not re-entrant.
 */
export class MatchBudget {
  private spentMs = 0;

  constructor(readonly budgetMs = MATCH_BUDGET_MS) {}

  run<T>(job: () => T): T {
    const started = performance.now();
    sandbox.job = job;
    try {
      return vm.runInContext('job()', sandbox, {
        timeout: Math.max(1, Math.ceil(this.budgetMs - this.spentMs)),
      }) as T;
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
        throw new MatchTimeoutError(this.budgetMs);
      throw err;
    } finally {
      sandbox.job = undefined;
      this.spentMs += performance.now() - started;
    }
  }
}
