// The engine that runs policy regexes: re2js, a JavaScript port of RE2. It never backtracks: a
// test costs time proportional to the input's length times the pattern's size, whatever the
// pattern (docs/policy.md, "Regexes run in linear time"). It takes RE2 syntax; policy regexes are
// JavaScript syntax, translated first (regex-translate.ts).
//
// Through RE2Set rather than RE2JS.compile: a set takes a bound on its lazy DFA's memory. Without
// one, each regex may cache 8 MB of DFA states, and a pattern whose DFA explodes (`[ab]*a[ab]{20}`
// on random input) rebuilds states for the whole input instead of falling back to the NFA, several
// times slower. A one-pattern set anchored at both ends is exactly a whole-string match.
import { RE2Set } from 're2js';

/** What the policy engine needs of a compiled regex (a RegExp has it too). */
export interface LinearRegex {
  test(input: string): boolean;
}

/** Bytes of DFA state cache per regex (re2js's own accounting). */
export const DFA_MEMORY_PER_REGEX = 1 << 20;

/** A whole-string matcher for an RE2 pattern. Throws re2js's syntax error when RE2 refuses it. */
export function compileLinearRegex(re2Pattern: string): LinearRegex {
  const set = new RE2Set(RE2Set.ANCHOR_BOTH, 0, DFA_MEMORY_PER_REGEX);
  set.add(re2Pattern);
  set.compile();
  return { test: (input) => set.match(input).length > 0 };
}
