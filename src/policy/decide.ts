// Decisions: pure functions of (compiled policy set, request). policy.md, "The request and the
// decision", "What the bridge may decide alone" and "Listing".
import type { ArgumentIndex, CompiledPolicy, CompiledPolicySet } from './compile.ts';
import { NO_RISK, patternListsFor } from './lookup.ts';
import { describeMatcher, MISSING, resolvePointer, testMatcher } from './matchers.ts';
import { describePattern, globDisputed, matchesPattern } from './pattern.ts';
import { AMBIGUITY_TEXT, type Ambiguity } from './readings.ts';
import { inferMcpRisk, inferMcpRiskByDocs, mcpRiskCandidates, RISK_RANK, riskBit } from './risk.ts';
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
  /**
   * Where readings are unsettled (the bridge): every risk the request may have, the Architecture
   * page's inference included (policy.md, "Readings"). Equal to riskBit elsewhere.
   */
  riskBits: number;
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

function normalize(request: PolicyRequest, allReadings = false): NormalizedRequest {
  const tool = request.tool ?? 'mcp';
  const risk = request.riskLevel ?? (tool === 'mcp' ? cachedMcpRisk(request.action) : null);
  const bit = risk === null ? 0 : riskBit(risk);
  return {
    tool,
    action: request.action,
    agent: request.agent ?? 'unknown',
    risk,
    riskBit: bit,
    riskBits: allReadings && request.riskLevel === undefined && tool === 'mcp' ? mcpRiskCandidates(request.action) : bit,
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
  let unknown = false;
  if (cp.hasRiskFilter) {
    if (ctx.readingsUnsettled) {
      // Every candidate risk under every riskLevel reading: none matches → no; all match exactly → yes.
      if ((req.riskBits & (cp.riskMask | cp.minReadingMask)) === 0) return NO_MATCH;
      if ((req.riskBits & ~cp.riskMask) !== 0) unknown = true;
    } else if ((cp.riskMask & req.riskBit) === 0) return NO_MATCH;
  }
  if (!matchesPattern(cp.action, req.action)) return NO_MATCH;
  // An inner `*` (pattern.ts): the literal reading may not match what the glob reading does.
  if (ctx.readingsUnsettled && globDisputed(cp.action, req.action)) unknown = true;
  if (cp.bothNames && ctx.readingsUnsettled) {
    // AND (contract) vs OR (Policy engine page): settled only when both or neither hold.
    const byName = cp.toolName === req.action;
    const byPattern = matchesPattern(cp.toolNamePattern!, req.action);
    if (byName !== byPattern || globDisputed(cp.toolNamePattern!, req.action)) unknown = true;
    else if (!byName) return NO_MATCH;
  } else {
    if (cp.toolName !== undefined && cp.toolName !== req.action) return NO_MATCH;
    if (cp.toolNamePattern !== undefined) {
      if (!matchesPattern(cp.toolNamePattern, req.action)) return NO_MATCH;
      if (ctx.readingsUnsettled && globDisputed(cp.toolNamePattern, req.action)) unknown = true;
    }
  }
  // Resource-type lists, customRules, actionType: no page says what they do to an MCP call.
  if (cp.uncertain && ctx.readingsUnsettled) unknown = true;
  // Sentrail's docs disagree on blockedAgents (policy.md: "applies only to these agents"; the
  // hosted engine page: "does not include the agent"), so the bridge never rests a block on it.
  if (ctx.blockedAgentsUnsettled && cp.hasBlockedAgents) unknown = true;
  if (cp.resourceType !== undefined) {
    if (ctx.resourceTypeUnknown) unknown = true;
    else if (cp.resourceType !== req.resourceType) return NO_MATCH;
  }
  if (cp.hasResourceTypeLists && !ctx.resourceTypeUnknown) {
    // docs/policy.md's reading for `test`: like resourceType, a request without one is in no list.
    if (cp.allowedResourceTypes !== null && (req.resourceType === undefined || !cp.allowedResourceTypes.has(req.resourceType))) return NO_MATCH;
    if (cp.blockedResourceTypes !== null && req.resourceType !== undefined && cp.blockedResourceTypes.has(req.resourceType)) return NO_MATCH;
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
  scan(ctx.readingsUnsettled ? index.anyActionAll : index.anyActionByRisk[req.riskIndex]!, req, ctx, w);
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

const LOW_BIT = riskBit('low');

/** The kill switch blocks under every reading: a paused tool, or a global switch and no candidate risk is low. */
function killSwitchCertain(set: CompiledPolicySet, req: NormalizedRequest): boolean {
  return set.killSwitch.toolsPaused.includes(req.tool) || (set.killSwitch.global && (req.riskBits & LOW_BIT) === 0);
}

/**
 * Equal priority has no documented order (policy.md, "Readings"): a block is certain only when no
 * non-block policy of its priority may match too.
 */
function tieMayOverturn(match: CompiledPolicy, req: NormalizedRequest, ctx: DecideContext): boolean {
  const tied = match.tiedNonBlocks;
  if (tied === null) return false;
  for (let i = 0; i < tied.length; i++) {
    const cp = tied[i]!;
    if (cp.policy.tool !== '*' && cp.policy.tool !== req.tool) continue;
    const outcome = check(cp, req, ctx, null);
    // An allow that errs does not match (errors never widen access); anything else may win the tie.
    if (outcome === MATCH || outcome === UNKNOWN || (outcome === ERROR && cp.mode !== 'allow')) return true;
  }
  return false;
}

const BRIDGE: DecideContext = { resourceTypeUnknown: true, blockedAgentsUnsettled: true, readingsUnsettled: true };
const LISTING: DecideContext = { ...BRIDGE, argumentsUnknown: true };

function certainlyBlocks(w: Walk, req: NormalizedRequest, ctx: DecideContext): boolean {
  return w.match !== null && w.match.mode === 'block' && !w.matchErred && w.firstUncertainRank > w.match.rank && !tieMayOverturn(w.match, req, ctx);
}

/** The bridge's first check: what it knows of an MCP tool call, and whether it may block alone. */
export function decideLocally(set: CompiledPolicySet, request: PolicyRequest): LocalDecision {
  const req = normalize(request, true);
  const ks = killSwitchDecision(set, req);
  if (ks) return { decision: ks, certainBlock: killSwitchCertain(set, req) };
  const w = walk(set, req, BRIDGE);
  const certainBlock = certainlyBlocks(w, req, BRIDGE);
  // The reported decision is always policy.md's; certainty only says whether the bridge may act on it.
  const decision = decisionFromWalk(set, req, certainBlock ? w : walk(set, req, {}));
  return { decision, certainBlock };
}

/** policy.md "Listing": hide a tool only when every call of it, whatever the arguments, is certainly blocked. */
export function isHiddenFromListing(set: CompiledPolicySet, toolName: string, agent: string): boolean {
  const req = normalize({ tool: 'mcp', action: toolName, agent }, true);
  if (killSwitchCertain(set, req)) return true;
  const w = walk(set, req, LISTING);
  return certainlyBlocks(w, req, LISTING);
}

/** The first thing about `cp` that does not hold for `req`, or null when everything holds. */
function firstFailure(cp: CompiledPolicy, req: NormalizedRequest): string | null {
  const p = cp.policy;
  if (p.tool !== '*' && p.tool !== req.tool) return `tool is ${p.tool}, the request's is ${req.tool}`;
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
  if (cp.allowedResourceTypes !== null && (req.resourceType === undefined || !cp.allowedResourceTypes.has(req.resourceType))) {
    return `resource type ${req.resourceType ?? '(none)'} is not in allowedResourceTypes`;
  }
  if (cp.blockedResourceTypes !== null && req.resourceType !== undefined && cp.blockedResourceTypes.has(req.resourceType)) {
    return `resource type ${req.resourceType} is in blockedResourceTypes`;
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

/** The disputed fields of `cp` whose other reading could change its outcome for `req`. */
function disputedFor(cp: CompiledPolicy, req: NormalizedRequest): Ambiguity[] {
  if (cp.ambiguities.length === 0 || !matchesPattern(cp.action, req.action)) return [];
  return cp.ambiguities.filter((a) => {
    if (a === 'riskLevel') return req.risk !== null && (cp.minReadingMask & ~cp.riskMask & req.riskBit) !== 0;
    if (a === 'toolName+toolNamePattern') return (cp.toolName === req.action) !== matchesPattern(cp.toolNamePattern!, req.action);
    if (a === 'actionPattern-wildcard') return globDisputed(cp.action, req.action);
    if (a === 'toolNamePattern-wildcard') return globDisputed(cp.toolNamePattern!, req.action);
    return true;
  });
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
  const uncertain: string[] = [];
  const sameTool = (cp: CompiledPolicy) => cp.policy.tool === '*' || cp.policy.tool === req.tool;
  if (decision.source === 'kill_switch') return { decision, request: normalizedRequest, trace, uncertain };
  let considersRisk = set.killSwitch.global;
  for (const cp of set.ordered) {
    const failure = firstFailure(cp, req);
    const entry: Omit<TraceEntry, 'result' | 'detail'> = { policy: cp.policy.name, priority: cp.policy.priority, mode: cp.mode, location: cp.policy.location };
    if (sameTool(cp)) {
      considersRisk ||= cp.hasRiskFilter;
      // The contract's reading decided this entry; the gate may read these fields otherwise.
      const disputed = disputedFor(cp, req);
      if (disputed.length > 0) {
        entry.uncertain = disputed;
        for (const a of disputed) uncertain.push(`policy "${cp.policy.name}": ${AMBIGUITY_TEXT[a]}`);
      }
    }
    if (decision.policy === cp.policy.name) {
      trace.push({ ...entry, result: failure?.startsWith('error:') ? 'error' : 'match', detail: failure ?? 'everything holds' });
      const tied = cp.tiedNonBlocks?.filter((o) => sameTool(o) && firstFailure(o, req) === null) ?? [];
      if (tied.length > 0) {
        uncertain.push(`policy "${tied[0]!.policy.name}" (${tied[0]!.mode}) has the same priority and matches too; Sentrail does not document its tie-break`);
      }
      break;
    }
    if (failure === null) {
      // Only reachable if explain and decide disagree; say so rather than hide it.
      trace.push({ ...entry, result: 'match', detail: 'everything holds (but another policy decided: report this as a bug)' });
      continue;
    }
    trace.push({ ...entry, result: failure.startsWith('error:') ? 'error' : 'no-match', detail: failure });
  }
  if (considersRisk && request.riskLevel === undefined && req.tool === 'mcp') {
    const byDocs = inferMcpRiskByDocs(req.action);
    if (byDocs !== req.risk) uncertain.push(`risk inferred as ${req.risk} by the CLI's rule, ${byDocs} by the Architecture page's`);
  }
  return { decision, request: normalizedRequest, trace, uncertain };
}
