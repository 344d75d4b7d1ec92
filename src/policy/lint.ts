// `policy check` warnings that need the whole document: a policy that can never be the first
// match because an earlier enabled policy of the same tool matches everything it matches, and
// the first equal-priority tie between a block and another mode (policy.md, "Readings").
import { compilePolicy, compareEvaluationOrder, type CompiledPolicy } from './compile.ts';
import { jsonEqual, type CompiledMatcher } from './matchers.ts';
import { literalPrefix, patternCovers, type Pattern } from './pattern.ts';
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
  if (outer.policy.tool !== '*' && outer.policy.tool !== inner.policy.tool) return false;
  // Fields without stated semantics narrow the outer policy in ways no test here can follow.
  if (outer.uncertain || outer.hasResourceTypeLists) return false;
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
    // A `tool: "*"` policy is earlier than every later policy, whatever its tool.
    const shadow = earlier.find((e) => covers(e, cp)) ?? (cp.policy.tool === '*' ? undefined : byTool.get('*')?.find((e) => covers(e, cp)));
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

function patternsMayOverlap(a: Pattern, b: Pattern): boolean {
  if (a.kind === 'any' || b.kind === 'any') return true;
  // A glob may match anything that starts with its text before the first `*` (an over-approximation).
  const ta = literalPrefix(a);
  const tb = literalPrefix(b);
  if (a.kind === 'exact' && b.kind === 'exact') return ta === tb;
  if (a.kind === 'exact') return ta.startsWith(tb);
  if (b.kind === 'exact') return tb.startsWith(ta);
  return ta.startsWith(tb) || tb.startsWith(ta);
}

/**
 * Sentrail does not document its tie-break: `test` puts a block first, the bridge never blocks
 * on such a tie. Reported once per document, at the first block that ties with another mode.
 */
export function findTies(doc: PolicyDocument): Diagnostic[] {
  const ordered = doc.policies.filter((p) => p.enabled).sort(compareEvaluationOrder).map((p, rank) => compilePolicy(p, rank));
  for (const cp of ordered) {
    if (cp.mode !== 'block') continue;
    const other = ordered.find(
      (o) => o.mode !== 'block' && o.policy.priority === cp.policy.priority &&
        (o.policy.tool === cp.policy.tool || o.policy.tool === '*' || cp.policy.tool === '*') && patternsMayOverlap(o.action, cp.action),
    );
    if (!other) continue;
    return [{
      severity: 'warning', code: 'ambiguous-field', file: cp.policy.location.file, line: cp.policy.location.line, field: 'priority',
      message: `policy "${cp.policy.name}" (block) and "${other.policy.name}" (${other.mode}) share priority ${cp.policy.priority}; Sentrail does not document its tie-break, so policy test puts the block first and the bridge leaves such calls to the gate (first tie in this document)`,
    }];
  }
  return [];
}
