// Policy regexes (policy.md): JavaScript syntax with the `u` flag, anchored to the whole string,
// rejected at load when they hold a backreference or a quantified group that contains a
// quantifier. Here they are also run in linear time: checked by V8 (so validity is JavaScript's),
// parsed by regexpp, translated to RE2 syntax with the same meaning (regex-translate.ts), and run
// by re2js (linear-regex.ts). What a linear-time engine cannot run (backreferences, lookaround) is
// `unsafe-regex`; valid JavaScript with no exact RE2 equivalent is `unsupported-regex`.
import { RegExpParser } from '@eslint-community/regexpp';
import { compileLinearRegex, type LinearRegex } from './linear-regex.ts';
import { RegexRefusal, SCRIPT_HINT, toRe2 } from './regex-translate.ts';

export type RegexCheck =
  | { ok: true; regex: LinearRegex; re2: string; size: number }
  | { ok: false; code: 'invalid-regex' | 'unsafe-regex' | 'unsupported-regex'; message: string };

// ES2023: what Node 20's V8 accepts with the u flag (no duplicate named groups, no modifiers).
const parser = new RegExpParser({ ecmaVersion: 2023 });

/**
 * `policyRules: false` skips policy.md's load rules (nested quantifiers, backreferences stay
 * refused by RE2 anyway), for tests that run the engine on patterns a policy may not hold.
 */
export function compileAnchoredRegex(source: string, opts: { policyRules?: boolean } = {}): RegexCheck {
  const policyRules = opts.policyRules ?? true;
  const key = `${policyRules ? 'p' : 'e'}${source}`;
  let check = recent.get(key);
  if (!check) {
    check = compile(source, policyRules);
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
    recent.set(key, check);
  }
  return check;
}

/**
 * A load validates each regex and then compiles it (about 0.3 ms each with RE2): the second time
 * is served from here. Bounded, oldest out first; a matcher is immutable but for its DFA cache,
 * which is safe to share.
 */
const recent = new Map<string, RegexCheck>();
const RECENT_MAX = 256;

function compile(source: string, policyRules: boolean): RegexCheck {
  try {
    new RegExp(source, 'u');
  } catch (err) {
    return { ok: false, code: 'invalid-regex', message: `/${source}/ is not a valid JavaScript regex with the u flag: ${(err as Error).message}` };
  }
  let re2: string;
  let size: number;
  try {
    ({ re2, size } = toRe2(parser.parsePattern(source, 0, source.length, { unicode: true }), policyRules));
  } catch (err) {
    if (err instanceof RegexRefusal) return { ok: false, code: err.kind === 'unsafe' ? 'unsafe-regex' : 'unsupported-regex', message: `/${source}/ ${err.message}` };
    return { ok: false, code: 'unsupported-regex', message: `/${source}/ uses syntax the linear-time engine does not know: ${(err as Error).message}` };
  }
  try {
    return { ok: true, regex: compileLinearRegex(re2), re2, size };
  } catch (err) {
    const hint = /\\[pP]\{/.test(re2) ? ` (${SCRIPT_HINT})` : '';
    return { ok: false, code: 'unsupported-regex', message: `/${source}/ is not supported by the linear-time engine: ${(err as Error).message}${hint}` };
  }
}
