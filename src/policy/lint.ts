// `policy check` warnings that need the whole document: a policy that can never be the first
// match because an earlier enabled policy of the same tool matches everything it matches.
import { compilePolicy, compareEvaluationOrder, type CompiledPolicy } from './compile.ts';
import { jsonEqual, type CompiledMatcher } from './matchers.ts';
import { patternCovers, type Pattern } from './pattern.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { PolicyDocument } from './types.ts';

const constraintCache = new WeakMap<CompiledPolicy, Pattern[]>();
function nameConstraints(cp: CompiledPolicy): Pattern[] {
  const cached = constraintCache.get(cp);
  if (cached) return cached;
  const list: Pattern[] = [cp.action];
  constraintCache.set(cp, list);
  if (cp.toolName !== undefined) list.push({ kind: 'exact', value: cp.toolName });
  if (cp.toolNamePattern) list.push(cp.toolNamePattern);
  return list;
}

/** True when every request `inner` matches is also matched by `outer` (a sufficient test). */
export function covers(outer: CompiledPolicy, inner: CompiledPolicy): boolean {
  if (outer.policy.tool !== inner.policy.tool) return false;
  const innerNames = nameConstraints(inner);
  for (const constraint of nameConstraints(outer)) {
    if (!innerNames.some((n) => patternCovers(constraint, n))) return false;
  }
  if (outer.resourceType !== undefined && outer.resourceType !== inner.resourceType) return false;
  if (outer.hasRiskFilter && (!inner.hasRiskFilter || (inner.riskMask & ~outer.riskMask) !== 0)) return false;
  if (outer.agents !== null) {
    if (inner.agents === null) return false;
    for (const a of inner.agents) if (!outer.agents.has(a)) return false;
  }
  if (outer.args !== null) {
    for (const cond of outer.args) {
      const same = inner.args?.some((c) => c.pointer === cond.pointer && sameMatcher(c.matcher, cond.matcher));
      if (!same) return false;
    }
  }
  return true;
}

function sameMatcher(a: CompiledMatcher, b: CompiledMatcher): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'regex' && b.kind === 'regex') return a.source === b.source;
  return jsonEqual({ ...a }, { ...b });
}

export function findUnreachable(doc: PolicyDocument): Diagnostic[] {
  const ordered = doc.policies.filter((p) => p.enabled).sort(compareEvaluationOrder).map((p, rank) => compilePolicy(p, rank));
  const diagnostics: Diagnostic[] = [];
  const byTool = new Map<string, CompiledPolicy[]>();
  for (const cp of ordered) {
    const earlier = byTool.get(cp.policy.tool) ?? [];
    const shadow = earlier.find((e) => covers(e, cp));
    if (shadow) {
      const s = shadow.policy;
      diagnostics.push({
        severity: 'warning', code: 'unreachable-policy', file: cp.policy.location.file, line: cp.policy.location.line, field: 'name',
        message: `policy "${cp.policy.name}" can never be the first match: "${s.name}" (priority ${s.priority}, ${s.location.file}:${s.location.line}) comes first and matches everything it matches`,
      });
    }
    earlier.push(cp);
    byTool.set(cp.policy.tool, earlier);
  }
  return diagnostics;
}
