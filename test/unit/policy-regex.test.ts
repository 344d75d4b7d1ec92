// Policy regexes run in linear time (issue 12; docs/policy.md, "Regexes run in linear time"): the
// engine matches exactly what JavaScript's `u`-flag RegExp matches, refuses at load what it
// cannot run in linear time, and no argument makes a decision take longer than its bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/policy/decide.ts';
import { MAX_REGEX_INPUT } from '../../src/policy/matchers.ts';
import { compileAnchoredRegex } from '../../src/policy/regex-safety.ts';
import { MAX_PATTERN_SIZE } from '../../src/policy/regex-translate.ts';
import { check, codes, compilePolicies, p } from '../helpers/policy.ts';

/** A seeded generator (mulberry32), so a failure is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}
type Rng = ReturnType<typeof rng>;

const ATOMS = [
  'a', 'b', '.', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '[ab]', '[^a]', '[a-c\\d]', '[\\s\\S]', '[^]', '[]', '\\x20', '\\u00e9',
  '\\u{1F600}', '\\p{L}', '\\P{Lu}', '\\p{Script=Greek}', '\\p{gc=Nd}', '[\\p{N}_]', '[^\\P{Ll}]', '\\p{ASCII}', '\\.', '\\-', '\\n', '\\t',
  '\\b', '\\B', '^', '$', '\\\\', '\\/', '[\\]]', '[-a]', '\\cJ', '\\0', '\\uD83D', '(?:)', '[\\W\\d]', '[^\\s]',
];
function genPattern(r: Rng, depth: number, atoms: readonly string[] = ATOMS): string {
  const x = r.next();
  if (depth <= 0 || x < 0.35) return r.pick(atoms);
  if (x < 0.55) return genPattern(r, depth - 1, atoms) + genPattern(r, depth - 1, atoms);
  if (x < 0.7) return `(${genPattern(r, depth - 1, atoms)}|${genPattern(r, depth - 1, atoms)})`;
  if (x < 0.88) return `(?:${genPattern(r, depth - 1, atoms)})${r.pick(['*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?'])}`;
  return `(?<g${r.int(1e6)}>${genPattern(r, depth - 1, atoms)})`;
}
const CHARS = ['a', 'b', 'c', '1', ' ', '\n', '\r', '\u2028', '\u00a0', '\ufeff', '\u000b', 'é', 'É', 'α', 'Ω', '😀', '\uD83D', '\uDE00', '_', '-', '.', ']', '\\', '\t', '٣', '/'];

describe('the linear-time engine matches exactly what JavaScript matches (u flag, whole string)', () => {
  it('differential: 3,000 generated patterns × 30 inputs each, against V8', () => {
    const r = rng(12);
    let compared = 0;
    let matched = 0;
    for (let i = 0; i < 3000; i++) {
      const source = genPattern(r, 4);
      let js: RegExp;
      try {
        js = new RegExp(`^(?:${source})$`, 'u');
      } catch {
        continue;
      }
      // Nested quantifiers are refused by policy.md's rule, not by the engine: compared too.
      const ours = compileAnchoredRegex(source, { policyRules: false });
      assert.ok(ours.ok, `${source}: ${ours.ok ? '' : ours.message}`);
      for (let k = 0; k < 30; k++) {
        let s = '';
        for (let j = r.int(7); j > 0; j--) s += r.pick(CHARS);
        const expected = js.test(s);
        assert.equal(ours.regex.test(s), expected, `/${source}/ on ${JSON.stringify(s)} (RE2: ${ours.re2})`);
        compared++;
        if (expected) matched++;
      }
    }
    // The comparison means something only if both answers occur often.
    assert.ok(compared > 50_000 && matched > compared / 50, `${compared} compared, ${matched} matched`);
  });
  it('the escapes JavaScript and RE2 read differently: ., \\s, \\S, $, and a class closed early', () => {
    const cases: [string, string, boolean][] = [
      ['.', '\r', false], // RE2's . matches \r
      ['.', '\u2028', false],
      ['\\s', '\u00a0', true], // RE2's \s is ASCII only
      ['\\s', '\ufeff', true],
      ['\\S', '\u3000', false],
      ['a$', 'a\n', false],
      ['[^]', '\n', true],
      ['[]', '', false],
      ['.', '😀', true], // one code point with the u flag
      ['..', '😀', false],
      ['\\uD83D', '\uD83D', true], // a lone surrogate is a code point of its own
      ['\\w', 'é', false],
      ['\\bfoo\\b', 'foo', true],
      ['x{2,}', 'xx', true],
      ['(?<name>a)b', 'ab', true],
    ];
    for (const [source, input, expected] of cases) {
      assert.equal(new RegExp(`^(?:${source})$`, 'u').test(input), expected, `V8 itself: /${source}/ on ${JSON.stringify(input)}`);
      const ours = compileAnchoredRegex(source);
      assert.ok(ours.ok, source);
      assert.equal(ours.regex.test(input), expected, `/${source}/ on ${JSON.stringify(input)}`);
    }
  });
});

/** Errors only: every document here uses the arguments extension, which check() warns about. */
const errorsOf = (text: string) => check(text).filter((d) => d.severity === 'error');

const doc = (regex: string) => `version: "1"\npolicies:\n  - name: a\n    tool: mcp\n    actionPattern: "*"\n    mode: block\n    priority: 1\n    conditions:\n      arguments:\n        /q: { regex: ${JSON.stringify(regex)} }\n`;

describe('policy check: what a linear-time engine cannot run is an error naming file, line and field', () => {
  it('lookahead and lookbehind, positive and negative', () => {
    for (const bad of ['(?=a)a', '(?!b)a', 'a(?<=a)', '(?<!b)a', 'x(?=(?:ab)+)', '(?:(?!secret).)*']) {
      const d = check(doc(bad));
      assert.deepEqual(codes(d), ['unsafe-regex@10'], bad);
      assert.match(d[0]!.message, /^policies\[0\]\.conditions\.arguments\["\/q"\]\.regex: \/.*\/ holds a look(ahead|behind) \(\?<?[=!]…\), which a linear-time engine cannot run$/, bad);
    }
  });
  it('backreferences, numbered and named', () => {
    for (const bad of ['(a)\\1', '(?<x>a)\\k<x>', '(a)(b)\\2']) assert.deepEqual(codes(check(doc(bad))), ['unsafe-regex@10'], bad);
  });
  it('valid JavaScript with no exact RE2 equivalent: unsupported-regex, saying what to write instead', () => {
    const cases: [string, RegExp][] = [
      ['\\p{Alphabetic}', /uses \\p\{Alphabetic\}, which .*General_Category and Script properties/],
      ['\\p{Script_Extensions=Greek}', /does not support/],
      ['\\p{Script=Grek}', /long names, e\.g\. \\p\{Script=Greek\}/],
      ['a{1001}', /over the 256 allowed/],
      [`[a-z]{${MAX_PATTERN_SIZE + 1}}`, /257 character positions once its repeats are expanded, over the 256 allowed/],
    ];
    for (const [bad, message] of cases) {
      const d = check(doc(bad));
      assert.deepEqual(codes(d), ['unsupported-regex@10'], bad);
      assert.match(d[0]!.message, message, bad);
    }
    assert.deepEqual(errorsOf(doc(`[a-z]{${MAX_PATTERN_SIZE}}`)), [], 'the largest pattern allowed loads');
  });
  it('what RE2 runs exactly loads: properties by short or long name, scripts, named groups, lazy quantifiers', () => {
    for (const ok of ['\\p{L}+', '\\p{Letter}\\p{gc=Lu}', '\\p{Script=Greek}+', '\\p{sc=Cyrillic}', '(?<repo>[a-z-]+)/.*?', '\\P{ASCII}', '[\\p{Any}]', '\\p{Assigned}']) {
      assert.deepEqual(errorsOf(doc(ok)), [], ok);
    }
  });
});

// ── Bounded decisions ───────────────────────────────────────────────────────────────────────────

/** The fixed bound the issue sets for the shapes that make backtracking engines explode. */
const BOUND_MS = 5;
/**
 * For every pattern, the documented bound (docs/policy.md): a test costs at most about input
 * length × pattern size steps of the NFA, measured at under 40 ns a step on this machine's kind.
 */
const linearBoundMs = (length: number, size: number) => BOUND_MS + (length * size * 50) / 1e6;

/** The fastest of three runs (the first one of a pattern also compiles its lazy DFA's states). */
function fastestMs(run: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Inputs that make backtracking engines explode on `source`: long runs of its letters, then a mismatch. */
function adversarialInputs(source: string, r: Rng): string[] {
  const letters = [...new Set(source.match(/[a-z]/g) ?? ['a'])];
  const n = MAX_REGEX_INPUT - 1;
  const out = letters.map((c) => c.repeat(n) + '!');
  out.push(letters.join('').repeat(Math.ceil(n / letters.length)).slice(0, n) + '!');
  let random = '';
  for (let i = 0; i < n; i++) random += r.pick(letters);
  out.push(random + '!', random);
  return out;
}

/** Ambiguous alternations, overlapping quantifiers, nested quantifiers: the catastrophic shapes. */
function catastrophicPatterns(r: Rng): string[] {
  const named = ['(a|aa)*b', '(x+x+)+y', '(a|a?)+$', '(a+)+$', '(a*)*b', '((a+)*)+b', '(\\w+\\s?)*$', '^(([a-z])+.)+[A-Z]([a-z])+$', '(a|ab)*c', '(.*a){12}', '(a|a)*b', '(x|xx|xxx)*y'];
  const generated: string[] = [];
  const q = () => r.pick(['*', '+', '?', '{1,3}', '{0,}']);
  for (let i = 0; i < 12; i++) {
    const words = Array.from({ length: 2 + r.int(3) }, () => 'a'.repeat(1 + r.int(3)) + (r.next() < 0.3 ? 'b' : ''));
    generated.push(`(${words.join('|')})${q()}${r.pick(['c', '$', 'b!'])}`); // ambiguous alternation
    generated.push(`${Array.from({ length: 3 + r.int(8) }, () => `a${r.pick(['*', '+'])}`).join('')}${r.pick(['b', '!', '$'])}`); // overlapping quantifiers
    generated.push(`(${'a'.repeat(1 + r.int(2))}${q()}${r.pick(['a', 'b'])}${q()})${q()}${r.pick(['y', 'c'])}`); // nested quantifiers
  }
  return [...named, ...generated];
}

// A backtracking engine would not fail these tests but hang in them: the timeout turns that into a failure.
describe('every decision is bounded by the length of its input, whatever the pattern', { timeout: 60_000 }, () => {
  it(`the catastrophic shapes (ambiguous alternation, overlapping and nested quantifiers) decide a 64 KiB argument within ${BOUND_MS} ms`, () => {
    const r = rng(5);
    const slow: string[] = [];
    let decisions = 0;
    for (const source of catastrophicPatterns(r)) {
      const compiled = compileAnchoredRegex(source, { policyRules: false });
      assert.ok(compiled.ok, source);
      // Through decide() when the policy format allows the pattern, else through the matcher.
      const loads = errorsOf(doc(source)).length === 0;
      const set = loads ? compilePolicies([p({ name: 'hostile', conditions: { arguments: { '/q': { regex: source } } }, mode: 'block', priority: 1 })]) : null;
      for (const input of adversarialInputs(source, r)) {
        const expected = compiled.regex.test(input);
        const ms = set ? fastestMs(() => assert.equal(decide(set, { action: 'run', arguments: { q: input } }).mode === 'block', expected)) : fastestMs(() => compiled.regex.test(input));
        decisions++;
        if (ms > BOUND_MS) slow.push(`/${source}/ on ${JSON.stringify(input.slice(0, 12))}… (${input.length} chars): ${ms.toFixed(2)} ms`);
      }
    }
    assert.ok(decisions > 150, `${decisions} decisions`);
    assert.deepEqual(slow, []);
  });
  it('generated patterns of every shape stay within the linear bound (5 ms + length × size × 50 ns)', () => {
    const r = rng(9);
    const atoms = ['a', 'b', '[ab]', '.', '\\w', 'a?', 'b*', '[^b]', '\\s'];
    const slow: string[] = [];
    let tested = 0;
    for (let i = 0; i < 60; i++) {
      const source = genPattern(r, 5, atoms);
      const compiled = compileAnchoredRegex(source, { policyRules: false });
      if (!compiled.ok) {
        assert.match(compiled.message, /too large/, source);
        continue;
      }
      for (const input of adversarialInputs(source, r)) {
        const ms = fastestMs(() => compiled.regex.test(input));
        tested++;
        const bound = linearBoundMs(input.length, compiled.size);
        if (ms > bound) slow.push(`/${source}/ (size ${compiled.size}) on ${JSON.stringify(input.slice(0, 12))}…: ${ms.toFixed(2)} ms > ${bound.toFixed(1)} ms`);
      }
    }
    assert.ok(tested > 200, `${tested} tests`);
    assert.deepEqual(slow, []);
  });
  it('the DFA-explosion family, the slowest shape known, is within the linear bound too', () => {
    const r = rng(3);
    for (const source of ['[ab]*a[ab]{20}', '[ab]*a[ab]{100}b[ab]{100}']) {
      const compiled = compileAnchoredRegex(source);
      assert.ok(compiled.ok, source);
      let random = '';
      for (let i = 0; i < MAX_REGEX_INPUT; i++) random += r.pick(['a', 'b']);
      const ms = fastestMs(() => compiled.regex.test(random));
      assert.ok(ms <= linearBoundMs(random.length, compiled.size), `/${source}/: ${ms.toFixed(1)} ms`);
    }
  });
});
