// The reference evaluators' matchers: compiled straight from a policy's matcher, with V8's RegExp
// for regexes (the engine's own linear-time regexes are checked against V8 in policy-regex.test.ts).
import type { CompiledMatcher } from '../../src/policy/matchers.ts';
import type { Matcher } from '../../src/policy/types.ts';

export function toCompiled(m: Matcher): CompiledMatcher {
  if ('equals' in m) return { kind: 'equals', value: m.equals };
  if ('oneOf' in m) return { kind: 'oneOf', values: m.oneOf };
  if ('prefix' in m) return { kind: 'prefix', prefix: m.prefix };
  if ('exists' in m) return { kind: 'exists', exists: m.exists };
  return { kind: 'regex', regex: new RegExp(`^(?:${m.regex})$`, 'u'), source: m.regex };
}
