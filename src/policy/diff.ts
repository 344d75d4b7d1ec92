// `sentrail policy diff`'s core: what changes between two policy documents, as policies (added,
// removed, changed field by field, matched by name) and as decisions (every request whose
// decision changes). Pure: documents and requests in, data out.
import { isDeepStrictEqual } from 'node:util';
import type { CompiledPolicySet } from './compile.ts';
import { decide, explain } from './decide.ts';
import { parsePointer } from './matchers.ts';
import { CONDITION_KEY_ORDER, KILL_SWITCH_KEY_ORDER, POLICY_KEY_ORDER } from './format.ts';
import { RISK_LEVELS, type Decision, type Policy, type PolicyDocument, type PolicyRequest, type RiskLevel, type Tool } from './types.ts';

export interface FieldChange {
  /** `mode`, `conditions.allowedAgents`, `killSwitch.global`, `version`. */
  field: string;
  /** `undefined`: the field is absent on that side. */
  before: unknown;
  after: unknown;
}

export interface PolicyChange {
  name: string;
  fields: FieldChange[];
}

export interface DocumentDiff {
  added: Policy[];
  removed: Policy[];
  changed: PolicyChange[];
  /** `version` and `killSwitch.*`. */
  document: FieldChange[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Keys of both sides, the canonical order first (so reports read like formatted files). */
function keysOf(order: readonly string[], a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const extra = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !order.includes(k));
  return [...order, ...extra];
}

function fieldChanges(prefix: string, order: readonly string[], a: Record<string, unknown>, b: Record<string, unknown>, nested: Record<string, readonly string[]> = {}): FieldChange[] {
  const out: FieldChange[] = [];
  for (const key of keysOf(order, a, b)) {
    const field = prefix ? `${prefix}.${key}` : key;
    const before = a[key];
    const after = b[key];
    if (isDeepStrictEqual(before, after)) continue;
    const inner = nested[key];
    if (inner && (isRecord(before) || before === undefined) && (isRecord(after) || after === undefined)) {
      out.push(...fieldChanges(field, inner, (before ?? {}) as Record<string, unknown>, (after ?? {}) as Record<string, unknown>));
    } else out.push({ field, before, after });
  }
  return out;
}

/** A policy's own fields: no position or source location (a move between files is no change). */
function fieldsOf(p: Policy): Record<string, unknown> {
  const { index: _index, location: _location, ...rest } = p;
  return rest;
}

export function diffDocuments(a: PolicyDocument, b: PolicyDocument): DocumentDiff {
  const before = new Map(a.policies.map((p) => [p.name, p]));
  const after = new Map(b.policies.map((p) => [p.name, p]));
  const changed: PolicyChange[] = [];
  for (const p of b.policies) {
    const old = before.get(p.name);
    if (!old) continue;
    const fields = fieldChanges('', POLICY_KEY_ORDER, fieldsOf(old), fieldsOf(p), { conditions: CONDITION_KEY_ORDER });
    if (fields.length > 0) changed.push({ name: p.name, fields });
  }
  const document: FieldChange[] = [];
  if (a.version !== b.version) document.push({ field: 'version', before: a.version, after: b.version });
  document.push(...fieldChanges('killSwitch', KILL_SWITCH_KEY_ORDER, { ...a.killSwitch }, { ...b.killSwitch }));
  return {
    added: b.policies.filter((p) => !before.has(p.name)),
    removed: a.policies.filter((p) => !after.has(p.name)),
    changed,
    document,
  };
}

// ---- Requests: the ones given, and generated ones for every name the documents mention.

export type RequestOrigin = 'test' | 'requests' | 'generated';

export interface LabelledRequest {
  request: PolicyRequest;
  origin: RequestOrigin;
  /** The test case (`file: name`) or requests-file entry it came from; absent for generated ones. */
  from?: string;
}

/** An action a pattern matches: itself when exact, its prefix plus a word when it ends in `*`. */
function actionsFor(pattern: string | undefined): string[] {
  if (pattern === undefined || pattern === '*') return [];
  if (!pattern.endsWith('*')) return [pattern];
  const stem = pattern.slice(0, -1);
  return [stem === '' ? 'example' : stem.endsWith('.') || stem.endsWith('_') ? `${stem}example` : `${stem}_example`];
}

function setPointer(root: Record<string, unknown>, pointer: string, value: unknown): void {
  const tokens = parsePointer(pointer);
  if (!Array.isArray(tokens) || tokens.length === 0) return;
  let node = root;
  tokens.slice(0, -1).forEach((t) => {
    if (!isRecord(node[t])) node[t] = {};
    node = node[t] as Record<string, unknown>;
  });
  node[tokens[tokens.length - 1]!] = value;
}

/** Arguments that satisfy a policy's `arguments` conditions (where a value can be read off them). */
function argumentsFor(p: Policy): Record<string, unknown> | null {
  const conds = p.conditions?.arguments;
  if (!conds) return null;
  const args: Record<string, unknown> = {};
  for (const [pointer, m] of Object.entries(conds)) {
    if ('equals' in m) setPointer(args, pointer, m.equals);
    else if ('oneOf' in m && m.oneOf.length > 0) setPointer(args, pointer, m.oneOf[0]);
    else if ('prefix' in m) setPointer(args, pointer, `${m.prefix}example`);
    else if ('exists' in m && m.exists) setPointer(args, pointer, 'example');
  }
  return args;
}

/** Upper bound on generated requests, so a huge document cannot make a diff run for minutes. */
export const MAX_GENERATED_REQUESTS = 20_000;

/**
 * Requests aimed at what the documents name. First, for each policy, requests it could decide:
 * its tool names and patterns, for its agents and `unknown`, at each risk level when it filters on
 * risk, with its resource type and arguments that satisfy it; so every policy is asked about
 * before the bound can cut anything. Then the cross product of every name, agent, risk level (when
 * any policy filters on risk), resource type and argument set the documents name, up to the bound.
 * Deduplicated, in a stable order.
 */
export function generateRequests(docs: PolicyDocument[]): PolicyRequest[] {
  const policies = docs.flatMap((d) => d.policies);
  const out: PolicyRequest[] = [];
  const seen = new Set<string>();
  const add = (tool: Tool, action: string, agent: string, riskLevel: RiskLevel | undefined, resourceType: string | undefined, args: Record<string, unknown> | undefined): boolean => {
    if (out.length >= MAX_GENERATED_REQUESTS) return false;
    const r: PolicyRequest = { tool, action, agent };
    if (riskLevel) r.riskLevel = riskLevel;
    if (resourceType !== undefined) r.resourceType = resourceType;
    if (args !== undefined) r.arguments = args;
    const key = JSON.stringify(r);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(r);
    }
    return true;
  };
  const targetsOf = (p: Policy): { tool: Tool; action: string }[] => {
    const actions = [...actionsFor(p.toolName), ...actionsFor(p.toolNamePattern), ...actionsFor(p.actionPattern)];
    if (actions.length === 0) actions.push('example_tool');
    const tool: Tool = p.tool === '*' ? 'mcp' : p.tool;
    return actions.map((action) => ({ tool, action }));
  };
  const agentsOf = (p: Policy) => [...(p.conditions?.allowedAgents ?? []), ...(p.conditions?.blockedAgents ?? [])];
  const resourceTypesOf = (p: Policy) => [p.resourceType, ...(p.conditions?.allowedResourceTypes ?? []), ...(p.conditions?.blockedResourceTypes ?? [])].filter((r): r is string => r !== undefined);
  const filtersRisk = (p: Policy) => Boolean(p.riskLevel || p.conditions?.minRiskLevel || p.conditions?.maxRiskLevel);
  const argsOf = (p: Policy) => {
    const a = argumentsFor(p);
    return a && Object.keys(a).length > 0 ? a : undefined;
  };

  for (const p of policies) {
    const risks = filtersRisk(p) ? [undefined, ...RISK_LEVELS] : [undefined];
    for (const { tool, action } of targetsOf(p)) {
      for (const agent of ['unknown', ...agentsOf(p)]) {
        for (const risk of risks) {
          for (const resourceType of [undefined, ...resourceTypesOf(p)]) {
            for (const args of [undefined, argsOf(p)]) if (!add(tool, action, agent, risk, resourceType, args)) return out;
          }
        }
      }
    }
  }

  const targets = new Map<string, { tool: Tool; action: string }>();
  const agents = new Set<string>(['unknown']);
  const resourceTypes = new Set<string | undefined>([undefined]);
  const argumentSets: (Record<string, unknown> | undefined)[] = [undefined];
  let riskFilters = docs.some((d) => d.killSwitch.global || d.killSwitch.toolsPaused.length > 0);
  for (const p of policies) {
    for (const t of targetsOf(p)) targets.set(`${t.tool}\u0000${t.action}`, t);
    for (const a of agentsOf(p)) agents.add(a);
    for (const r of resourceTypesOf(p)) resourceTypes.add(r);
    if (filtersRisk(p)) riskFilters = true;
    const args = argsOf(p);
    if (args && !argumentSets.some((x) => isDeepStrictEqual(x, args))) argumentSets.push(args);
  }
  const risks = riskFilters ? [undefined, ...RISK_LEVELS] : [undefined];
  for (const { tool, action } of targets.values()) {
    for (const agent of agents) {
      for (const risk of risks) {
        for (const resourceType of resourceTypes) {
          for (const args of argumentSets) if (!add(tool, action, agent, risk, resourceType, args)) return out;
        }
      }
    }
  }
  return out;
}

// ---- Decisions: every request decided on both sides; the ones that differ, with who decided.

export interface SideDecision {
  mode: Decision['mode'];
  policy: string | null;
  policyId: string | null;
  reason: string;
  /**
   * Points of this decision where Sentrail's pages disagree (readings.ts): the contract's reading
   * is shown, the gate decides. Empty when the decision is certain.
   */
  uncertain: string[];
}

export interface DecisionChange {
  request: PolicyRequest;
  origin: RequestOrigin;
  from?: string;
  before: SideDecision;
  after: SideDecision;
}

function side(set: CompiledPolicySet, request: PolicyRequest): SideDecision {
  const e = explain(set, request);
  const d = e.decision;
  return { mode: d.mode, policy: d.policy, policyId: d.policyId, reason: d.reason, uncertain: e.uncertain };
}

const requestKey = (r: PolicyRequest) => JSON.stringify([r.tool ?? 'mcp', r.action, r.agent ?? 'unknown', r.riskLevel ?? null, r.resourceType ?? null, r.arguments ?? null]);

/** Each distinct request once (the first label wins), decided on both sides; the changes, in request order. */
export function diffDecisions(a: CompiledPolicySet, b: CompiledPolicySet, requests: LabelledRequest[]): { decided: number; changes: DecisionChange[] } {
  const seen = new Set<string>();
  const changes: DecisionChange[] = [];
  for (const r of requests) {
    const key = requestKey(r.request);
    if (seen.has(key)) continue;
    seen.add(key);
    const x = decide(a, r.request);
    const y = decide(b, r.request);
    if (x.mode === y.mode && x.policy === y.policy) continue;
    changes.push({ request: r.request, origin: r.origin, ...(r.from ? { from: r.from } : {}), before: side(a, r.request), after: side(b, r.request) });
  }
  return { decided: seen.size, changes };
}

/**
 * The table's rows: given requests one each; generated ones that differ only in risk level,
 * resource type or arguments and change the same way folded into their first, with a count.
 */
export function foldChanges(changes: DecisionChange[]): { change: DecisionChange; alike: number }[] {
  const rows: { change: DecisionChange; alike: number }[] = [];
  const byKey = new Map<string, { change: DecisionChange; alike: number }>();
  for (const c of changes) {
    if (c.origin !== 'generated') {
      rows.push({ change: c, alike: 0 });
      continue;
    }
    const key = JSON.stringify([c.request.tool, c.request.action, c.request.agent, c.before.mode, c.before.policy, c.after.mode, c.after.policy]);
    const row = byKey.get(key);
    if (row) row.alike++;
    else {
      const fresh = { change: c, alike: 0 };
      byKey.set(key, fresh);
      rows.push(fresh);
    }
  }
  return rows;
}

/** One line per request for the table: `mcp delete_repo agent=cursor risk=high`. */
export function describeRequest(r: PolicyRequest): string {
  const parts = [r.tool ?? 'mcp', r.action, `agent=${r.agent ?? 'unknown'}`];
  if (r.riskLevel) parts.push(`risk=${r.riskLevel}`);
  if (r.resourceType) parts.push(`resource=${r.resourceType}`);
  if (r.arguments !== undefined) parts.push(`args=${JSON.stringify(r.arguments)}`);
  return parts.join(' ');
}

/** `block "No deleting anything"`, `allow (no policy)`, with `?` when the gate decides a disputed point. */
export function describeSide(d: SideDecision): string {
  const who = d.policy === null ? '(no policy)' : JSON.stringify(d.policy);
  return `${d.mode} ${who}${d.uncertain.length > 0 ? ' ?' : ''}`;
}
