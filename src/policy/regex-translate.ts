// A policy regex is written in JavaScript syntax with the u flag (policy.md) and run by a
// linear-time engine (RE2 semantics: no backtracking, so no input can make a decision hang). This
// module walks the pattern's syntax tree (parsed by regexpp) and writes the RE2 pattern that
// matches exactly the same strings, or says why there is none:
// - `unsafe`: what policy.md forbids, and what no linear-time engine can run (backreferences,
//   lookaround);
// - `unsupported`: valid JavaScript that RE2 has no exact equivalent for (binary Unicode
//   properties, Script_Extensions, repeat counts over 1,000), or too large to test in bounded time.
// Every character that is not an ASCII letter or digit is written as `\x{…}`, so no JavaScript
// escape or class punctuation is ever read differently by RE2; `.`, `\s`, `\w`, `\d` are written as
// explicit ranges (regex-charsets.ts) because RE2's own differ from JavaScript's.
import type { AST } from '@eslint-community/regexpp';
import { ANY, ASCII, complement, DIGIT, DOT, GENERAL_CATEGORY_SHORT, SPACE, WORD, type Ranges } from './regex-charsets.ts';

export class RegexRefusal extends Error {
  constructor(
    readonly kind: 'unsafe' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}

/** RE2's largest repeat count ({n,m} with n or m above it is a syntax error there). */
export const MAX_REPEAT = 1000;

const SHORT_CATEGORIES = new Set(Object.values(GENERAL_CATEGORY_SHORT));

/**
 * The largest pattern size (patternSize) a policy regex may have. A test costs at most about
 * input length × size steps of RE2's NFA (its lazy DFA is usually far cheaper), so this cap and
 * the 64 KiB input cap bound every test (docs/policy.md, "Regexes run in linear time").
 */
export const MAX_PATTERN_SIZE = 256;

/**
 * The RE2 pattern equivalent to `pattern` (anchoring is the caller's), and its size
 * (patternSize). Throws RegexRefusal.
 */
export function toRe2(pattern: AST.Pattern, policyRules = true): { re2: string; size: number } {
  if (policyRules) checkPolicyRules(pattern);
  const size = patternSize(pattern);
  if (size > MAX_PATTERN_SIZE) {
    throw new RegexRefusal('unsupported', `is too large to test in bounded time: ${size >= 1e6 ? 'a million or more' : size} character positions once its repeats are expanded, over the ${MAX_PATTERN_SIZE} allowed`);
  }
  return { re2: disjunction(pattern.alternatives), size };
}

/**
 * The number of character positions (characters, sets, classes) of a pattern with each counted
 * repeat written out (`a{3}` is 3, `(ab)+` is 2): the number of states its NFA can be in at once.
 */
export function patternSize(node: AST.Node): number {
  switch (node.type) {
    case 'Character':
    case 'CharacterSet':
    case 'CharacterClass':
      return 1;
    case 'Quantifier': {
      const times = node.max === Infinity ? Math.max(node.min, 1) : node.max;
      return Math.min(patternSize(node.element) * times, 1e6);
    }
    default:
      return children(node).reduce((sum, child) => Math.min(sum + patternSize(child), 1e6), 0);
  }
}

// ── policy.md's rules, in source order ──────────────────────────────────────────────────────────

function checkPolicyRules(node: AST.Node): void {
  switch (node.type) {
    case 'Backreference':
      throw new RegexRefusal(
        'unsafe',
        typeof node.ref === 'number' ? `holds a backreference (${node.raw}), which is not allowed` : `holds a named backreference (${node.raw}), which is not allowed`,
      );
    case 'Assertion':
      if (node.kind === 'lookahead' || node.kind === 'lookbehind') {
        const shape = `(?${node.kind === 'lookbehind' ? '<' : ''}${node.negate ? '!' : '='}…)`;
        throw new RegexRefusal('unsafe', `holds a ${node.kind} ${shape}, which a linear-time engine cannot run`);
      }
      return;
    case 'Quantifier':
      if (containsQuantifier(node.element)) {
        throw new RegexRefusal('unsafe', 'has a quantified group that contains a quantifier (e.g. (a+)+), which the policy format forbids (a backtracking engine can take exponential time on it)');
      }
      checkPolicyRules(node.element);
      return;
    default:
      for (const child of children(node)) checkPolicyRules(child);
  }
}

function containsQuantifier(node: AST.Node): boolean {
  return node.type === 'Quantifier' || children(node).some(containsQuantifier);
}

function children(node: AST.Node): AST.Node[] {
  switch (node.type) {
    case 'Pattern':
    case 'Group':
    case 'CapturingGroup':
      return node.alternatives;
    case 'Assertion':
      return node.kind === 'lookahead' || node.kind === 'lookbehind' ? node.alternatives : [];
    case 'Alternative':
      return node.elements;
    case 'Quantifier':
      return [node.element];
    default:
      return [];
  }
}

// ── the translation ─────────────────────────────────────────────────────────────────────────────

function disjunction(alternatives: readonly AST.Alternative[]): string {
  return `(?:${alternatives.map((a) => a.elements.map(element).join('')).join('|')})`;
}

function element(node: AST.Element): string {
  switch (node.type) {
    case 'Group':
    case 'CapturingGroup':
      // Captures are never read (a matcher asks only whether the whole string matches).
      return disjunction(node.alternatives);
    case 'Character':
      return literal(node.value);
    case 'CharacterSet':
      return characterSet(node);
    case 'CharacterClass':
      return characterClass(node);
    case 'Assertion':
      return assertion(node);
    case 'Quantifier':
      return quantifier(node);
    case 'Backreference':
      throw new RegexRefusal('unsafe', `holds a backreference (${node.raw}), which is not allowed`);
    default:
      throw new RegexRefusal('unsupported', `uses ${(node as AST.Node).raw}, which the linear-time engine does not support`);
  }
}

function assertion(node: AST.Assertion): string {
  switch (node.kind) {
    case 'start':
      return '\\A'; // no m flag: the start of the string only
    case 'end':
      return '\\z'; // no m flag: the end of the string only
    case 'word':
      // Without the i flag, JavaScript's word characters are ASCII, as RE2's.
      return node.negate ? '\\B' : '\\b';
    default:
      throw new RegexRefusal('unsafe', `holds a ${node.kind}, which a linear-time engine cannot run`);
  }
}

function quantifier(node: AST.Quantifier): string {
  const { min, max } = node;
  if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
    throw new RegexRefusal('unsupported', `repeats ${node.element.raw} ${node.raw.slice(node.element.raw.length)}, more than the ${MAX_REPEAT} times the linear-time engine allows`);
  }
  // Greedy or lazy decides which match is found, never whether there is one: both are greedy here.
  const count = max === Infinity ? `{${min},}` : min === max ? `{${min}}` : `{${min},${max}}`;
  return `(?:${element(node.element)})${count}`;
}

function characterSet(node: AST.CharacterSet): string {
  if (node.kind === 'any') return `[${ranges(DOT)}]`;
  const item = classItem(node);
  return item === '' ? `[^${ranges(ANY)}]` : `[${item}]`; // '' is \P{Any}: nothing
}

function characterClass(node: AST.CharacterClass): string {
  if (node.unicodeSets) throw new RegexRefusal('unsupported', `uses ${node.raw}, a v-flag class, but policy regexes use the u flag`);
  const items = node.elements.map((e) => classItem(e as AST.CharacterClassElement)).join('');
  // An empty class matches nothing, a negated empty one ([^]) anything; RE2 has no `[]`.
  if (items === '') return node.negate ? `[${ranges(ANY)}]` : `[^${ranges(ANY)}]`;
  return `[${node.negate ? '^' : ''}${items}]`;
}

/** One element of a class, as RE2 class text (no brackets). */
function classItem(node: AST.CharacterClassElement | AST.CharacterSet): string {
  switch (node.type) {
    case 'Character':
      return literal(node.value);
    case 'CharacterClassRange':
      return `${literal(node.min.value)}-${literal(node.max.value)}`;
    case 'CharacterSet':
      switch (node.kind) {
        case 'digit':
          return ranges(node.negate ? complement(DIGIT) : DIGIT);
        case 'word':
          return ranges(node.negate ? complement(WORD) : WORD);
        case 'space':
          return ranges(node.negate ? complement(SPACE) : SPACE);
        case 'property':
          return property(node);
        case 'any':
          return ranges(DOT);
      }
    // falls through: exhaustive above
    default:
      throw new RegexRefusal('unsupported', `uses ${(node as AST.Node).raw}, which the linear-time engine does not support`);
  }
}

function property(node: AST.UnicodePropertyCharacterSet): string {
  if (node.strings) throw new RegexRefusal('unsupported', `uses ${node.raw}, a property of strings`);
  const p = node.negate ? 'P' : 'p';
  const { key, value } = node;
  if ((key === 'General_Category' || key === 'gc') && value !== null) {
    const short = GENERAL_CATEGORY_SHORT[value] ?? (SHORT_CATEGORIES.has(value) ? value : undefined);
    if (short) return `\\${p}{${short}}`;
  } else if ((key === 'Script' || key === 'sc') && value !== null) {
    // RE2 knows scripts by their long names (Greek, Old_Italic), not by their four-letter codes;
    // a name it does not know fails when the translation is compiled (SCRIPT_HINT).
    return `\\${p}{${value}}`;
  } else if (key === 'ASCII' && value === null) {
    return ranges(node.negate ? complement(ASCII) : ASCII);
  } else if (key === 'Any' && value === null) {
    return node.negate ? '' : ranges(ANY);
  } else if (key === 'Assigned' && value === null) {
    return node.negate ? '\\p{Cn}' : '\\P{Cn}';
  }
  throw new RegexRefusal('unsupported', `uses ${node.raw}, which the linear-time engine does not support (it runs General_Category and Script properties, e.g. \\p{L}, \\p{Script=Greek}, and ASCII, Any, Assigned)`);
}

/** Said when RE2 refuses a `\p{Script=…}` the translation passed on. */
export const SCRIPT_HINT = 'write scripts by their long names, e.g. \\p{Script=Greek}, not \\p{Script=Grek}';

function ranges(list: Ranges): string {
  return list.map(([lo, hi]) => (lo === hi ? literal(lo) : `${literal(lo)}-${literal(hi)}`)).join('');
}

function literal(codePoint: number): string {
  const c = String.fromCodePoint(codePoint);
  return /^[A-Za-z0-9]$/.test(c) ? c : `\\x{${codePoint.toString(16)}}`;
}
