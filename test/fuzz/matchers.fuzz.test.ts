import fc from 'fast-check';
import {
  compileAnchored,
  MatchBudget,
  MatchTimeoutError,
  RegexSyntaxError,
  valueMatcher,
} from '../../src/remote/matchers';
import { fuzzParams, fuzzTimeout, nastyString, SYNC_HANG_MS, withinMs } from '../helpers/fuzz';

/**
 * Property-based fuzzing of remote read's label matchers (src/remote/matchers.ts), whose regexes come
 * from the client: any pattern compiles (RE2 translated to a JavaScript regex) or is refused with
 * RegexSyntaxError; and matching any pattern against any value, under the request's MatchBudget, ends
 * with an answer or MatchTimeoutError: a backtracking blow-up such as `(.*)*x` can no longer hold the
 * sink's event loop for hours (fast-check's timeout cannot interrupt synchronous code, so the
 * SYNC_HANG_MS watchdog is what fails the property if it did).
 */

const RE2_TOKENS = [
  '(',
  ')',
  '(?:',
  '(?i)',
  '(?s)',
  '(?m)',
  '(?U)',
  '(?P<n>',
  '(?=',
  '(?!',
  '[',
  ']',
  '[^',
  '[[:alpha:]]',
  '[[:^digit:]]',
  '\\p{Greek}',
  '\\pL',
  '\\PN',
  '\\d',
  '\\W',
  '\\s',
  '\\b',
  '\\B',
  '\\A',
  '\\z',
  '\\Q',
  '\\E',
  '\\x{10FFFF}',
  '\\1',
  '.',
  '*',
  '+',
  '?',
  '*?',
  '{2,}',
  '{1,1000}',
  '{,3}',
  '|',
  '^',
  '$',
  'a',
  'x',
  '.*',
  '(a+)+',
  '(.*)*',
  '(a|a)*',
];

const pattern = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...RE2_TOKENS) },
      { weight: 1, arbitrary: nastyString(1) },
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(''));

const value = fc.oneof(
  nastyString(4),
  fc
    .tuple(fc.constantFrom('a', 'ab', 'x', ' '), fc.integer({ min: 0, max: 64 }))
    .map(([s, n]) => s.repeat(n)),
);

describe('remote read label matchers (fuzz)', () => {
  it(
    'any pattern compiles or is refused with RegexSyntaxError',
    () => {
      fc.assert(
        fc.property(pattern, (p) => {
          try {
            withinMs(SYNC_HANG_MS, () => compileAnchored(p));
          } catch (err) {
            if (!(err instanceof RegexSyntaxError)) throw err;
          }
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'matching any pattern against any value ends under the budget: an answer or MatchTimeoutError',
    () => {
      let timeouts = 0;
      fc.assert(
        fc.property(
          pattern,
          fc.constantFrom('=~' as const, '!~' as const),
          fc.array(value, { maxLength: 8 }),
          (p, type, values) => {
            let m: (v: string) => boolean;
            try {
              m = valueMatcher({ type, name: 'x', value: p });
            } catch (err) {
              if (err instanceof RegexSyntaxError) return;
              throw err;
            }
            const budget = new MatchBudget(100);
            try {
              withinMs(SYNC_HANG_MS, () => budget.run(() => values.map(m)));
            } catch (err) {
              if (!(err instanceof MatchTimeoutError)) throw err;
              timeouts++;
            }
          },
        ),
        fuzzParams(1000, {
          examples: [
            ['(.*)*x', '=~', ['a'.repeat(40)]],
            ['(a|a)*b', '!~', ['a'.repeat(40)]],
          ],
        }),
      );
      expect(timeouts).toBeGreaterThanOrEqual(2);
    },
    fuzzTimeout(120_000),
  );
});
