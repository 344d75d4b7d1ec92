// Decisions: pure functions of (compiled policy set, request). policy.md, "The request and the
// decision", "What the bridge may decide alone" and "Listing".
import { NO_RISK, patternListsFor, type ArgumentIndex, type CompiledPolicy, type CompiledPolicySet } from './compile.ts';
import { describeMatcher, MISSING, resolvePointer, testMatcher } from './matchers.ts';
import { describePattern, matchesPattern } from './pattern.ts';
import { inferMcpRisk, RISK_RANK, riskBit } from './risk.ts';
import type { DecideContext, Decision, Explanation, PolicyRequest, RiskLevel, Tool, TraceEntry } from './types.ts';

/** Outcome of testing one policy against one request. */
const NO_MATCH = 0;
const MATCH = 1;
/** Could not be evaluated with what the caller knows (resource type or arguments unknown). */
const UNKNOWN = 2;
/** Evaluation erred (policy.md: counts as matched unless the mode is allow). */
const ERROR = 3;
type Outcome = typeof NO_MATCH | typeof MATCH | typeof UNKNOWN | typeof ERROR;

interface NormalizedRequest {
  tool: Tool;
  action: string;
  agent: string;
  risk: RiskLevel | null;
  /** riskBit(risk), or 0 when the request has no risk level. */
  riskBit: number;
  /** RISK_RANK[risk], or NO_RISK: which of a tool's per-risk lists applies. */
  riskIndex: number;
  resourceType: string | undefined;
  args: unknown;
  hasArgs: boolean;
}

// Tool names repeat endlessly; the inference is pure, so remember it (bounded).
const riskCache = new Map<string, RiskLevel>();
function cachedMcpRisk(name: string): RiskLevel {
  let risk = riskCache.get(name);
  if (risk === undefined) {
    risk = inferMcpRisk(name);
    if (riskCache.size >= 10_000) riskCache.clear();
    riskCache.set(name, risk);
  }
  return risk;
}

function normalize(request: PolicyRequest): NormalizedRequest {
  const tool = request.tool ?? 'mcp';
  const risk = request.riskLevel ?? (tool === 'mcp' ? cachedMcpRisk(request.action) : null);
  return {
    tool,
    action: request.action,
    agent: request.agent ?? 'unknown',
    risk,
    riskBit: risk === null ? 0 : riskBit(risk),
    riskIndex: risk === null ? NO_RISK : RISK_RANK[risk],
    resourceType: request.resourceType,
    args: request.arguments ?? {},
    hasArgs: request.arguments !== undefined,
  };
}

// Reasons carry the text after `Policy "<name>"` so that the bridge can build its block message.

function check(cp: CompiledPolicy, req: NormalizedRequest, ctx: DecideContext, errors: string[] | null): Outcome {
  if (cp.agents !== null && !cp.agents.has(req.agent)) {
    // Where blockedAgents is unsettled (the bridge), only allowedAgents can rule the policy out.
    if (!(ctx.blockedAgentsUnsettled && cp.hasBlockedAgents)) return NO_MATCH;
    if (cp.allowedAgents !== null && !cp.allowedAgents.has(req.agent)) return NO_MATCH;
  }
  if (cp.hasRiskFilter && (cp.riskMask & req.riskBit) === 0) return NO_MATCH;
  if (!matchesPattern(cp.action, req.action)) return NO_MATCH;
  if (cp.toolName !== undefined && cp.toolName !== req.action) return NO_MATCH;
  if (cp.toolNamePattern !== undefined && !matchesPattern(cp.toolNamePattern, req.action)) return NO_MATCH;
  let unknown = false;
  // Sentrail's docs disagree on blockedAgents (policy.md: "applies only to these agents"; the
  // hosted engine page: "does not include the agent"), so the bridge never rests a block on it.
  if (ctx.blockedAgentsUnsettled && cp.hasBlockedAgents) unknown = true;
  if (cp.resourceType !== undefined) {
    if (ctx.resourceTypeUnknown) unknown = true;
    else if (cp.resourceType !== req.resourceType) return NO_MATCH;
  }
  if (cp.args !== null) {
    if (ctx.argumentsUnknown) return UNKNOWN;
    for (const cond of cp.args) {
      const outcome = testMatcher(cond.matcher, resolvePointer(req.args, cond.tokens));
      if (outcome === false) return NO_MATCH;
      if (outcome !== true) {
        errors?.push(`arguments ${cond.pointer}: ${outcome.error}`);
        return ERROR;
      }
    }
  }
  return unknown ? UNKNOWN : MATCH;
}

interface Walk {
  match: CompiledPolicy | null;
  /** The match counts only because its evaluation erred (errors never widen access). */
  matchErred: boolean;
  /** Rank of the match so far: lists stop scanning past it. */
  best: number;
  /** Lowest rank of a non-block policy that could not be evaluated: a block after it is uncertain. */
  firstUncertainRank: number;
  /** An allow policy before the match that erred and was skipped. */
  skippedError: { policy: CompiledPolicy; error: string } | null;
}

function evaluationErrorOf(cp: CompiledPolicy, req: NormalizedRequest): string {
  const errors: string[] = [];
  check(cp, req, {}, errors);
  return errors[0] ?? 'evaluation error';
}

/**
 * Scans one candidate list (in evaluation order) until its first match, or until it passes the
 * best rank found so far in other lists: the lowest-ranked match over all lists is the decision.
 */
function scan(list: readonly CompiledPolicy[], req: NormalizedRequest, ctx: DecideContext, w: Walk): void {
  for (let i = 0; i < list.length; i++) {
    const cp = list[i]!;
    if (cp.rank >= w.best) return;
    const outcome = check(cp, req, ctx, null);
    if (outcome === NO_MATCH) continue;
    if (outcome === MATCH || (outcome === ERROR && cp.mode !== 'allow')) {
      w.best = cp.rank;
      w.match = cp;
      w.matchErred = outcome === ERROR;
      return;
    }
    if (outcome === ERROR) {
      if (!w.skippedError || cp.rank < w.skippedError.policy.rank) w.skippedError = { policy: cp, error: evaluationErrorOf(cp, req) };
      continue;
    }
    // UNKNOWN: cannot be ruled in or out here.
    if (cp.mode !== 'block' && cp.rank < w.firstUncertainRank) w.firstUncertainRank = cp.rank;
  }
}

function scanArgumentIndex(ai: ArgumentIndex, req: NormalizedRequest, ctx: DecideContext, w: Walk): void {
  if (ai.minRank >= w.best) return;
  const value = resolvePointer(req.args, ai.tokens);
  // The indexed condition is equals/oneOf/prefix: an absent value fails it, so none can match.
  if (value === MISSING) return;
  if (value === null || typeof value !== 'object') {
    const list = ai.byValue.get(value);
    if (list) scan(list, req, ctx, w);
  }
  if (typeof value === 'string' && ai.hasPrefixes) {
    let node: typeof ai.byPrefix | undefined = ai.byPrefix;
    if (node.policies) scan(node.policies, req, ctx, w);
    for (let i = 0; i < value.length && node.children; i++) {
      node = node.children.get(value.charCodeAt(i));
      if (!node) break;
      if (node.policies) scan(node.policies, req, ctx, w);
    }
  }
}

function walk(set: CompiledPolicySet, req: NormalizedRequest, ctx: DecideContext): Walk {
  const w: Walk = { match: null, matchErred: false, best: Infinity, firstUncertainRank: Infinity, skippedError: null };
  const index = set.byTool.get(req.tool);
  if (!index) return w;
  const lists = patternListsFor(index, req.action);
  for (let i = 0; i < lists.length; i++) scan(lists[i]!, req, ctx, w);
  const byAgent = index.anyActionByAgent.get(req.agent);
  if (byAgent) scan(byAgent, req, ctx, w);
  scan(index.anyActionByRisk[req.riskIndex]!, req, ctx, w);
  if (index.argumentIndexes.length > 0) {
    if (ctx.argumentsUnknown) scan(index.argumentIndexed, req, ctx, w);
    else for (let i = 0; i < index.argumentIndexes.length; i++) scanArgumentIndex(index.argumentIndexes[i]!, req, ctx, w);
  }
  if (w.skippedError && w.match && w.skippedError.policy.rank > w.match.rank) w.skippedError = null;
  return w;
}

function killSwitchDecision(set: CompiledPolicySet, req: NormalizedRequest): Decision | null {
  const paused = set.killSwitch.toolsPaused.includes(req.tool);
  // Sentrail: the global switch "blocks all write actions"; we read that as every risk above low.
  // A request whose risk is unknown (non-MCP without riskLevel) is not known to be a read: blocked.
  const global = set.killSwitch.global && req.risk !== 'low';
  if (!paused && !global) return null;
  return {
    mode: 'block',
    policy: null,
    policyId: null,
    priority: null,
    reason: 'Kill switch is active',
    policyVersion: set.version,
    riskLevel: req.risk,
    source: 'kill_switch',
  };
}

function decisionFromWalk(set: CompiledPolicySet, req: NormalizedRequest, w: Walk): Decision {
  const note = w.skippedError
    ? ` (policy "${w.skippedError.policy.policy.name}" could not be evaluated: ${w.skippedError.error}; an allow policy that errs does not match, since errors never widen access)`
    : '';
  if (!w.match) {
    return {
      mode: 'allow', policy: null, policyId: null, priority: null,
      reason: `No policy matched; Sentrail allows by default${note}`,
      policyVersion: set.version, riskLevel: req.risk, source: 'default',
      ...(w.skippedError ? { evaluationError: w.skippedError.error } : {}),
    };
  }
  const p = w.match.policy;
  let reason = `Policy "${p.name}" matched${note}`;
  let evaluationError: string | undefined = w.skippedError?.error;
  if (w.matchErred) {
    evaluationError = evaluationErrorOf(w.match, req);
    reason = `Policy "${p.name}" could not be evaluated (${evaluationError}) and counts as matched because its mode is ${p.mode}: errors never widen access`;
  }
  return {
    mode: p.mode, policy: p.name, policyId: p.id ?? null, priority: p.priority, reason,
    policyVersion: set.version, riskLevel: req.risk, source: 'policy',
    ...(evaluationError ? { evaluationError } : {}),
  };
}

/** The decision for a request, as the hosted gate makes it (policy.md). */
export function decide(set: CompiledPolicySet, request: PolicyRequest): Decision {
  const req = normalize(request);
  return killSwitchDecision(set, req) ?? decisionFromWalk(set, req, walk(set, req, {}));
}

export interface LocalDecision {
  decision: Decision;
  /**
   * True only when the bridge may answer alone: a block that no unknown could overturn. A block
   * that rests on an evaluation error is left to the gate too.
   */
  certainBlock: boolean;
}

/** The bridge's first check: what it knows of an MCP tool call, and whether it may block alone. */
export function decideLocally(set: CompiledPolicySet, request: PolicyRequest): LocalDecision {
  const req = normalize(request);
  const ks = killSwitchDecision(set, req);
  if (ks) return { decision: ks, certainBlock: true };
  const w = walk(set, req, { resourceTypeUnknown: true, blockedAgentsUnsettled: true });
  const certainBlock = w.match !== null && w.match.mode === 'block' && !w.matchErred && w.firstUncertainRank > w.match.rank;
  // The reported decision is always policy.md's; certainty only says whether the bridge may act on it.
  const decision = decisionFromWalk(set, req, certainBlock ? w : walk(set, req, {}));
  return { decision, certainBlock };
}

/** policy.md "Listing": hide a tool only when every call of it, whatever the arguments, is certainly blocked. */
export function isHiddenFromListing(set: CompiledPolicySet, toolName: string, agent: string): boolean {
  const req = normalize({ tool: 'mcp', action: toolName, agent });
  if (killSwitchDecision(set, req)) return true;
  const w = walk(set, req, { resourceTypeUnknown: true, argumentsUnknown: true, blockedAgentsUnsettled: true });
  return w.match !== null && w.match.mode === 'block' && w.firstUncertainRank > w.match.rank;
}

/** The first thing about `cp` that does not hold for `req`, or null when everything holds. */
function firstFailure(cp: CompiledPolicy, req: NormalizedRequest): string | null {
  const p = cp.policy;
  if (p.tool !== req.tool) return `tool is ${p.tool}, the request's is ${req.tool}`;
  if (cp.agents !== null && !cp.agents.has(req.agent)) {
    const lists = [p.conditions?.allowedAgents && 'allowedAgents', p.conditions?.blockedAgents && 'blockedAgents'].filter(Boolean).join(' and ');
    return `agent "${req.agent}" is not in ${lists}`;
  }
  if (cp.hasRiskFilter && (cp.riskMask & req.riskBit) === 0) {
    const wanted = [
      p.riskLevel && `riskLevel ${p.riskLevel}`,
      p.conditions?.minRiskLevel && `minRiskLevel ${p.conditions.minRiskLevel}`,
      p.conditions?.maxRiskLevel && `maxRiskLevel ${p.conditions.maxRiskLevel}`,
    ].filter(Boolean).join(', ');
    return req.risk === null ? `the request has no risk level and the policy requires ${wanted}` : `risk ${req.risk} does not meet ${wanted}`;
  }
  if (!matchesPattern(cp.action, req.action)) return `actionPattern "${describePattern(cp.action)}" does not match "${req.action}"`;
  if (cp.toolName !== undefined && cp.toolName !== req.action) return `toolName "${cp.toolName}" is not "${req.action}"`;
  if (cp.toolNamePattern !== undefined && !matchesPattern(cp.toolNamePattern, req.action)) {
    return `toolNamePattern "${describePattern(cp.toolNamePattern)}" does not match "${req.action}"`;
  }
  if (cp.resourceType !== undefined && cp.resourceType !== req.resourceType) {
    return req.resourceType === undefined ? `resourceType ${cp.resourceType} required; the request has none` : `resourceType ${cp.resourceType} is not ${req.resourceType}`;
  }
  if (cp.args !== null) {
    for (const cond of cp.args) {
      const value = resolvePointer(req.args, cond.tokens);
      const outcome = testMatcher(cond.matcher, value);
      if (outcome === false) {
        return `arguments ${cond.pointer || '(root)'} ${typeof value === 'symbol' ? 'is absent' : `= ${truncate(JSON.stringify(value))}`}; wanted ${describeMatcher(cond.matcher)}`;
      }
      if (outcome !== true) return `error: arguments ${cond.pointer}: ${outcome.error}`;
    }
  }
  return null;
}

function truncate(s: string | undefined): string {
  if (s === undefined) return 'undefined';
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** The decision with its trace: for each policy considered before the match, why it did not apply. */
export function explain(set: CompiledPolicySet, request: PolicyRequest): Explanation {
  const req = normalize(request);
  const decision = decide(set, request);
  const trace: TraceEntry[] = [];
  const normalizedRequest = { ...request, tool: req.tool, action: req.action, agent: req.agent, ...(req.risk ? { riskLevel: req.risk } : {}) };
  if (decision.source === 'kill_switch') return { decision, request: normalizedRequest, trace };
  for (const cp of set.ordered) {
    const failure = firstFailure(cp, req);
    const entry = { policy: cp.policy.name, priority: cp.policy.priority, mode: cp.mode, location: cp.policy.location };
    if (decision.policy === cp.policy.name) {
      trace.push({ ...entry, result: failure?.startsWith('error:') ? 'error' : 'match', detail: failure ?? 'everything holds' });
      break;
    }
    if (failure === null) {
      // Only reachable if explain and decide disagree; say so rather than hide it.
      trace.push({ ...entry, result: 'match', detail: 'everything holds (but another policy decided: report this as a bug)' });
      continue;
    }
    trace.push({ ...entry, result: failure.startsWith('error:') ? 'error' : 'no-match', detail: failure });
  }
  return { decision, request: normalizedRequest, trace };
}
