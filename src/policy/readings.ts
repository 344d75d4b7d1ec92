// The points where Sentrail's public pages disagree about a policy field (policy.md, "Readings
// where Sentrail's pages disagree"). `policy check` names each one a document uses, `explain`
// marks them in its trace, and the bridge evaluates them under every reading (decide.ts).
import type { Conditions, Policy } from './types.ts';

export type Ambiguity =
  | 'blockedAgents'
  | 'riskLevel'
  | 'toolName+toolNamePattern'
  | 'allowedResourceTypes'
  | 'blockedResourceTypes'
  | 'customRules'
  | 'actionType'
  | 'actionPattern-wildcard'
  | 'toolNamePattern-wildcard';

/** Why each point is uncertain, in one clause (the warning and the trace say it). */
export const AMBIGUITY_TEXT: Readonly<Record<Ambiguity, string>> = {
  blockedAgents: '"Writing policies" reads blockedAgents as "applies only to these agents", "Policy engine" as "matches when it does not include the agent"',
  riskLevel: '"Writing policies" reads riskLevel as an exact level, "Policy engine" as a minimum',
  'toolName+toolNamePattern': 'with both toolName and toolNamePattern, the contract requires both, "Policy engine" either',
  allowedResourceTypes: 'allowedResourceTypes has no stated semantics for MCP calls (Policy engine page)',
  blockedResourceTypes: 'blockedResourceTypes has no stated semantics for MCP calls (Policy engine page)',
  customRules: 'customRules has no stated semantics (Policy engine page)',
  actionType: 'actionType is a legacy field without stated semantics (Policy engine page)',
  'actionPattern-wildcard': 'actionPattern has a * before its end; only a trailing * is documented, so it may match any characters or only itself',
  'toolNamePattern-wildcard': 'toolNamePattern has a * before its end; only a trailing * is documented, so it may match any characters or only itself',
};

/** The field path (relative to the policy) where each point is reported. */
export const AMBIGUITY_FIELD: Readonly<Record<Ambiguity, string>> = {
  blockedAgents: 'conditions.blockedAgents',
  riskLevel: 'riskLevel',
  'toolName+toolNamePattern': 'toolNamePattern',
  allowedResourceTypes: 'conditions.allowedResourceTypes',
  blockedResourceTypes: 'conditions.blockedResourceTypes',
  customRules: 'conditions.customRules',
  actionType: 'actionType',
  'actionPattern-wildcard': 'actionPattern',
  'toolNamePattern-wildcard': 'toolNamePattern',
};

/** `{}` and `[]` say nothing (the hosted gate's rows default to `{}`), so they are no ambiguity. */
export function hasCustomRules(c: Conditions | undefined): boolean {
  const rules = c?.customRules;
  if (rules === undefined || rules === null) return false;
  if (Array.isArray(rules)) return rules.length > 0;
  if (typeof rules === 'object') return Object.keys(rules).length > 0;
  return true;
}

/** The disputed points a validated policy uses, in a stable order. */
/** A `*` before the end of a pattern: undocumented (pattern.ts reads it two ways). */
export function hasInnerWildcard(text: string | undefined): boolean {
  if (text === undefined) return false;
  const star = text.indexOf('*');
  return star !== -1 && star !== text.length - 1;
}

export function ambiguitiesOf(p: Pick<Policy, 'actionPattern' | 'riskLevel' | 'toolName' | 'toolNamePattern' | 'actionType' | 'conditions'>): Ambiguity[] {
  const out: Ambiguity[] = [];
  const c = p.conditions;
  if (c?.blockedAgents) out.push('blockedAgents');
  if (p.riskLevel) out.push('riskLevel');
  if (p.toolName !== undefined && p.toolNamePattern !== undefined) out.push('toolName+toolNamePattern');
  if (c?.allowedResourceTypes) out.push('allowedResourceTypes');
  if (c?.blockedResourceTypes) out.push('blockedResourceTypes');
  if (hasCustomRules(c)) out.push('customRules');
  if (p.actionType !== undefined) out.push('actionType');
  if (hasInnerWildcard(p.actionPattern)) out.push('actionPattern-wildcard');
  if (hasInnerWildcard(p.toolNamePattern)) out.push('toolNamePattern-wildcard');
  return out;
}
