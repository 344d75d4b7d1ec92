// Compiles a validated document once into indexes so a decision only looks at policies that can
// match: grouped by tool, exact actions in a hash map, prefix patterns in a character trie, and
// any-action policies split by the agents they are restricted to. Every list keeps the evaluation
// order (policy.md step 1), so the first match in a list is that list's answer.
import { NO_RISK } from './lookup.ts';
import { parsePointer, type CompiledArgumentCondition, type CompiledMatcher } from './matchers.ts';
import { literalPrefix, parsePattern, type Pattern } from './pattern.ts';
import { compileAnchoredRegex } from './regex-safety.ts';
import { ambiguitiesOf, hasCustomRules, type Ambiguity } from './readings.ts';
import { ALL_RISKS, RISK_RANK, riskBit } from './risk.ts';
import { RISK_LEVELS, TOOLS, type KillSwitch, type Matcher, type Mode, type Policy, type PolicyDocument, type RiskLevel, type Tool } from './types.ts';

export interface CompiledPolicy {
  /** Position in evaluation order: lower is considered first. */
  rank: number;
  policy: Policy;
  mode: Mode;
  action: Pattern;
  toolName: string | undefined;
  toolNamePattern: Pattern | undefined;
  resourceType: string | undefined;
  /** Bit set of the risk levels this policy accepts; `hasRiskFilter` false means any (or none). */
  riskMask: number;
  hasRiskFilter: boolean;
  /** Agents the policy is restricted to (allowedAgents ∩ blockedAgents), or null for all. */
  agents: ReadonlySet<string> | null;
  /** allowedAgents alone: what still rules a policy out where blockedAgents is unsettled (bridge). */
  allowedAgents: ReadonlySet<string> | null;
  hasBlockedAgents: boolean;
  args: CompiledArgumentCondition[] | null;
  /** Both toolName and toolNamePattern: AND (contract) or OR (Policy engine page). */
  bothNames: boolean;
  /** Risk levels the "riskLevel is a minimum" reading accepts (equal to riskMask without riskLevel). */
  minReadingMask: number;
  /** The contract-side reading of the resource-type lists (docs/policy.md); null when absent. */
  allowedResourceTypes: ReadonlySet<string> | null;
  blockedResourceTypes: ReadonlySet<string> | null;
  hasResourceTypeLists: boolean;
  /** A field without stated semantics for MCP (resource-type lists, customRules, actionType): the bridge cannot rule it in. */
  uncertain: boolean;
  ambiguities: Ambiguity[];
  /** For a block: the non-block policies of equal priority that may share its tool (the tie-break is undocumented). */
  tiedNonBlocks: CompiledPolicy[] | null;
}

export interface TrieNode {
  children: Map<number, TrieNode> | null;
  policies: CompiledPolicy[] | null;
}

/** Index of `*` policies narrowed by one argument pointer: by value (equals/oneOf) or by prefix. */
export interface ArgumentIndex {
  pointer: string;
  tokens: string[];
  /** JSON primitives as Map keys: SameValueZero keeps 1 and "1" apart, as JSON equality does. */
  byValue: Map<unknown, CompiledPolicy[]>;
  byPrefix: TrieNode;
  /** Rank of its first policy: once a better match is found, the index is skipped whole. */
  minRank: number;
  hasPrefixes: boolean;
}

export { NO_RISK };

export interface ToolIndex {
  exact: Map<string, CompiledPolicy[]>;
  prefixes: TrieNode;
  /** `*` policies restricted to agents (allowedAgents only), per agent. */
  anyActionByAgent: Map<string, CompiledPolicy[]>;
  /** `*` policies narrowed by an argument value or prefix, per pointer. */
  argumentIndexes: ArgumentIndex[];
  /** Every argument-indexed policy, in order: scanned when the arguments are unknown (listing). */
  argumentIndexed: CompiledPolicy[];
  /** The other `*` policies, per request risk (a policy is in every list its risk filter allows). */
  anyActionByRisk: CompiledPolicy[][];
  /** The same policies whatever their risk filter: the bridge reads risk several ways. */
  anyActionAll: CompiledPolicy[];
  /** Memo: action → the exact and prefix lists that can hold its match (pure; bounded). */
  patternLists: Map<string, CompiledPolicy[][]>;
  /** All policies of the tool in order, for explain and listing. */
  ordered: CompiledPolicy[];
}

export interface CompiledPolicySet {
  version: string | null;
  killSwitch: KillSwitch;
  byTool: Map<Tool, ToolIndex>;
  /** Every enabled policy in evaluation order (explanations walk this). */
  ordered: CompiledPolicy[];
  size: number;
}

const MODE_STRICTNESS: Record<Mode, number> = { block: 0, require_approval: 1, allow: 2 };

/** policy.md step 1: priority ascending; ties: block, then require_approval, then allow; then document order. */
export function compareEvaluationOrder(a: Policy, b: Policy): number {
  return a.priority - b.priority || MODE_STRICTNESS[a.mode] - MODE_STRICTNESS[b.mode] || a.index - b.index;
}

export function compilePolicy(policy: Policy, rank: number): CompiledPolicy {
  const action = parsePattern(policy.actionPattern);
  const conditions = policy.conditions ?? {};
  let riskMask = ALL_RISKS;
  let hasRiskFilter = false;
  if (policy.riskLevel) {
    riskMask &= riskBit(policy.riskLevel);
    hasRiskFilter = true;
  }
  if (conditions.minRiskLevel || conditions.maxRiskLevel) {
    const min = RISK_RANK[conditions.minRiskLevel ?? 'low'];
    const max = RISK_RANK[conditions.maxRiskLevel ?? 'critical'];
    let mask = 0;
    for (const level of RISK_LEVELS) if (RISK_RANK[level] >= min && RISK_RANK[level] <= max) mask |= riskBit(level);
    riskMask &= mask;
    hasRiskFilter = true;
  }
  // "Policy engine" reads riskLevel as a minimum: every level from it up, within min/max.
  let minReadingMask = riskMask;
  if (policy.riskLevel) {
    let mask = 0;
    for (const level of RISK_LEVELS) if (RISK_RANK[level] >= RISK_RANK[policy.riskLevel]) mask |= riskBit(level);
    minReadingMask = mask & rangeMask(conditions.minRiskLevel, conditions.maxRiskLevel);
  }
  const agents = intersectAgents(conditions.allowedAgents, conditions.blockedAgents);
  const args = conditions.arguments
    ? Object.entries(conditions.arguments).map(([pointer, m]) => compileArgumentCondition(pointer, m))
    : null;
  return {
    rank,
    policy,
    mode: policy.mode,
    action,
    toolName: policy.toolName,
    toolNamePattern: policy.toolNamePattern === undefined ? undefined : parsePattern(policy.toolNamePattern),
    resourceType: policy.resourceType,
    riskMask,
    hasRiskFilter,
    agents,
    allowedAgents: conditions.allowedAgents ? new Set(conditions.allowedAgents) : null,
    hasBlockedAgents: conditions.blockedAgents !== undefined,
    args,
    bothNames: policy.toolName !== undefined && policy.toolNamePattern !== undefined,
    minReadingMask,
    allowedResourceTypes: conditions.allowedResourceTypes ? new Set(conditions.allowedResourceTypes) : null,
    blockedResourceTypes: conditions.blockedResourceTypes ? new Set(conditions.blockedResourceTypes) : null,
    hasResourceTypeLists: conditions.allowedResourceTypes !== undefined || conditions.blockedResourceTypes !== undefined,
    uncertain:
      conditions.allowedResourceTypes !== undefined || conditions.blockedResourceTypes !== undefined ||
      hasCustomRules(conditions) || policy.actionType !== undefined,
    ambiguities: ambiguitiesOf(policy),
    tiedNonBlocks: null,
  };
}

function rangeMask(min: RiskLevel | undefined, max: RiskLevel | undefined): number {
  let mask = 0;
  for (const level of RISK_LEVELS) if (RISK_RANK[level] >= RISK_RANK[min ?? 'low'] && RISK_RANK[level] <= RISK_RANK[max ?? 'critical']) mask |= riskBit(level);
  return mask;
}

function intersectAgents(allowed: string[] | undefined, blocked: string[] | undefined): Set<string> | null {
  if (!allowed && !blocked) return null;
  if (!allowed || !blocked) return new Set(allowed ?? blocked);
  const other = new Set(blocked);
  return new Set(allowed.filter((a) => other.has(a)));
}


function compileArgumentCondition(pointer: string, m: Matcher): CompiledArgumentCondition {
  const tokens = parsePointer(pointer);
  if (!Array.isArray(tokens)) throw new Error(tokens.error);
  let matcher: CompiledMatcher;
  if ('equals' in m) matcher = { kind: 'equals', value: m.equals };
  else if ('oneOf' in m) matcher = { kind: 'oneOf', values: m.oneOf };
  else if ('prefix' in m) matcher = { kind: 'prefix', prefix: m.prefix };
  else if ('exists' in m) matcher = { kind: 'exists', exists: m.exists };
  else {
    const check = compileAnchoredRegex(m.regex);
    if (!check.ok) throw new Error(check.message);
    matcher = { kind: 'regex', regex: check.regex, source: m.regex };
  }
  return { pointer, tokens, matcher };
}

/**
 * The narrowest thing every matching action must satisfy: for MCP the action is the tool name, so
 * `toolName` and `toolNamePattern` constrain the same string as `actionPattern`.
 */
function indexKey(cp: CompiledPolicy): Pattern {
  const candidates: Pattern[] = [cp.action];
  // With both set, the OR reading (the bridge considers it) lets either name match alone.
  if (!cp.bothNames) {
    if (cp.toolName !== undefined) candidates.push({ kind: 'exact', value: cp.toolName });
    if (cp.toolNamePattern) candidates.push(cp.toolNamePattern);
  }
  const exact = candidates.find((p) => p.kind === 'exact');
  if (exact) return exact;
  // A glob is indexed by the text before its first `*`: every match starts with it, under every reading.
  const prefixes = candidates
    .filter((p) => p.kind === 'prefix' || (p.kind === 'glob' && p.parts[0] !== ''))
    .map((p) => literalPrefix(p));
  if (prefixes.length > 0) return { kind: 'prefix', prefix: prefixes.reduce((a, b) => (b.length > a.length ? b : a)) };
  return { kind: 'any' };
}

function push<K>(map: Map<K, CompiledPolicy[]>, key: K, cp: CompiledPolicy): void {
  const list = map.get(key);
  if (list) list.push(cp);
  else map.set(key, [cp]);
}

function insertPrefix(root: TrieNode, prefix: string, cp: CompiledPolicy): void {
  let node = root;
  for (let i = 0; i < prefix.length; i++) {
    const code = prefix.charCodeAt(i);
    node.children ??= new Map();
    let next = node.children.get(code);
    if (!next) {
      next = { children: null, policies: null };
      node.children.set(code, next);
    }
    node = next;
  }
  (node.policies ??= []).push(cp);
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** The argument condition a `*` policy is indexed by: an equals/oneOf of primitives, else a prefix. */
function argumentKey(cp: CompiledPolicy): CompiledArgumentCondition | null {
  if (cp.args === null) return null;
  const byValue = cp.args.find(
    (c) => (c.matcher.kind === 'equals' && isPrimitive(c.matcher.value)) || (c.matcher.kind === 'oneOf' && c.matcher.values.every(isPrimitive)),
  );
  return byValue ?? cp.args.find((c) => c.matcher.kind === 'prefix') ?? null;
}

function argumentIndexFor(index: ToolIndex, cond: CompiledArgumentCondition): ArgumentIndex {
  let ai = index.argumentIndexes.find((a) => a.pointer === cond.pointer);
  if (!ai) {
    ai = { pointer: cond.pointer, tokens: cond.tokens, byValue: new Map(), byPrefix: { children: null, policies: null }, minRank: Infinity, hasPrefixes: false };
    index.argumentIndexes.push(ai);
  }
  return ai;
}

function newToolIndex(): ToolIndex {
  return {
    exact: new Map(),
    prefixes: { children: null, policies: null },
    anyActionByAgent: new Map(),
    argumentIndexes: [],
    argumentIndexed: [],
    anyActionByRisk: [[], [], [], [], []],
    anyActionAll: [],
    patternLists: new Map(),
    ordered: [],
  };
}

export function compilePolicySet(doc: PolicyDocument): CompiledPolicySet {
  const ordered = doc.policies
    .filter((p) => p.enabled)
    .sort(compareEvaluationOrder)
    .map((p, rank) => compilePolicy(p, rank));
  const byTool = new Map<Tool, ToolIndex>();
  const anyTool = ordered.some((cp) => cp.policy.tool === '*');
  // A `tool: "*"` policy belongs in every tool's index; ranks keep each list in evaluation order.
  if (anyTool) for (const tool of TOOLS) byTool.set(tool, newToolIndex());
  linkTies(ordered);
  for (const cp of ordered) {
    const tools: readonly Tool[] = cp.policy.tool === '*' ? TOOLS : [cp.policy.tool];
    for (const tool of tools) {
      let index = byTool.get(tool);
      if (!index) {
        index = newToolIndex();
        byTool.set(tool, index);
      }
      addToIndex(index, cp);
    }
  }
  return { version: doc.version, killSwitch: doc.killSwitch, byTool, ordered, size: ordered.length };
}

/** policy.md, "Readings": equal priority has no documented order, so a block may lose a tie. */
function linkTies(ordered: CompiledPolicy[]): void {
  for (let start = 0; start < ordered.length; ) {
    let end = start;
    while (end < ordered.length && ordered[end]!.policy.priority === ordered[start]!.policy.priority) end++;
    const group = ordered.slice(start, end);
    for (const cp of group) {
      if (cp.mode !== 'block') continue;
      const tied = group.filter((o) => o.mode !== 'block' && (o.policy.tool === cp.policy.tool || o.policy.tool === '*' || cp.policy.tool === '*'));
      if (tied.length > 0) cp.tiedNonBlocks = tied;
    }
    start = end;
  }
}

function addToIndex(index: ToolIndex, cp: CompiledPolicy): void {
  index.ordered.push(cp);
  const key = indexKey(cp);
  if (key.kind === 'exact') {
    push(index.exact, key.value, cp);
    return;
  }
  if (key.kind === 'prefix') {
    insertPrefix(index.prefixes, key.prefix, cp);
    return;
  }
  // blockedAgents policies stay out of the per-agent lists: the bridge must see them for every
  // agent (decide.ts, blockedAgentsUnsettled).
  if (cp.agents !== null && !cp.policy.conditions?.blockedAgents) {
    for (const agent of cp.agents) push(index.anyActionByAgent, agent, cp);
    return;
  }
  const arg = cp.policy.conditions?.blockedAgents ? null : argumentKey(cp);
  if (arg) {
    const ai = argumentIndexFor(index, arg);
    ai.minRank = Math.min(ai.minRank, cp.rank);
    if (arg.matcher.kind === 'equals') push(ai.byValue, arg.matcher.value, cp);
    else if (arg.matcher.kind === 'oneOf') for (const v of new Set(arg.matcher.values)) push(ai.byValue, v, cp);
    else if (arg.matcher.kind === 'prefix') {
      insertPrefix(ai.byPrefix, arg.matcher.prefix, cp);
      ai.hasPrefixes = true;
    }
    index.argumentIndexed.push(cp);
    return;
  }
  for (let risk = 0; risk < 4; risk++) if (!cp.hasRiskFilter || (cp.riskMask & (1 << risk)) !== 0) index.anyActionByRisk[risk]!.push(cp);
  if (!cp.hasRiskFilter) index.anyActionByRisk[NO_RISK]!.push(cp);
  index.anyActionAll.push(cp);
}
