// Seeded, deterministic generator of realistic Sentrail policy sets and requests, for the decision
// benchmark (bench/policy-decide.bench.ts) and for anything else that wants many policies: fuzz
// tests, other benchmarks. Same (count, seed) → same document and same requests, on every machine.
//
// Also here: the Cedar encoding of a generated policy set and request (toCedarPolicySet,
// toCedarRequest, cedarDecisionFromReasons), so that a Cedar comparison can be reused too. This
// module does not load Cedar itself.
//
// The mix (MIX below, described in bench/README.md):
//   tools      mcp 70 %, github 20 %, linear 10 %
//   kinds      60 % exact action (mcp: `actionPattern: create_issue_17`, or `*` + `toolName`),
//              30 % prefix (`delete_*`, `create_issue*`, `pull_request.*`; mcp: actionPattern or
//              `*` + toolNamePattern), 10 % `*` narrowed by agents, risk or arguments
//   modes      allow 45 %, block 30 %, require_approval 25 %
//   priority   uniform over 1–999 (ties are broken by the engine: stricter mode, then document order)
//   breadth    broad rules (`delete_*`, `pull_request.*`, `*` + a risk filter alone, `*` + a named
//              agent, `*` + `environment: production`) keep a roughly constant count as the set
//              grows (their weight is scaled by breadth(count) = min(1, 100 / count)); what grows
//              is the number of specific rules, as in a real org whose policy set gets large.
import {
  compilePolicySet,
  decide,
  formatDiagnostic,
  inferMcpRisk,
  loadPolicyText,
  RISK_LEVELS,
  type CompiledPolicySet,
  type Matcher,
  type Mode,
  type Policy,
  type PolicyDocument,
  type PolicyRequest,
  type RiskLevel,
  type Tool,
} from '../src/policy/index.ts';

// ── Random numbers ──────────────────────────────────────────────────────────────────────────────

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[];
  /** k distinct items (k ≤ items.length), in random order. */
  sample<T>(items: readonly T[], k: number): T[];
}

/** mulberry32: small, fast, and the same sequence everywhere for the same 32-bit seed. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const rng: Rng = {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    chance: (p) => next() < p,
    weighted: (entries) => {
      const total = entries.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [value, w] of entries) {
        r -= w;
        if (r < 0) return value;
      }
      return entries[entries.length - 1]![0];
    },
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
    sample: (items, k) => rng.shuffle(items.slice()).slice(0, k),
  };
  return rng;
}

/** A 32-bit seed derived from a base seed and a label (e.g. the policy count), FNV-1a. */
export function deriveSeed(seed: number, label: string | number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const ch of `${label}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// ── The mix ─────────────────────────────────────────────────────────────────────────────────────

export type PolicyKind = 'exact' | 'prefix' | 'any';
type GeneratedTool = Extract<Tool, 'mcp' | 'github' | 'linear'>;

/** The stated shares of the generated policy sets (bench/README.md quotes these). */
export const MIX = {
  tools: [['mcp', 0.7], ['github', 0.2], ['linear', 0.1]] as const satisfies readonly (readonly [GeneratedTool, number])[],
  kinds: [['exact', 0.6], ['prefix', 0.3], ['any', 0.1]] as const satisfies readonly (readonly [PolicyKind, number])[],
  modes: [['allow', 0.45], ['block', 0.3], ['require_approval', 0.25]] as const satisfies readonly (readonly [Mode, number])[],
  priority: { min: 1, max: 999 },
  /** MCP exact/prefix policies: share written as `actionPattern: "*"` + toolName / toolNamePattern. */
  mcpToolNameShare: 0.5,
  /** Extra conditions on exact and prefix policies (each drawn independently). */
  exact: { allowedAgents: 0.3, arguments: 0.1, risk: 0.1 },
  prefix: { allowedAgents: 0.35, arguments: 0.15, risk: 0.2 },
  /**
   * `*` policies always carry a narrowing condition: agents (+ a risk range half the time),
   * arguments (MCP only; + agents or risk sometimes), or, rarely, a risk filter alone, which then
   * only ever covers high and critical requests (a "catch-all": `minRiskLevel: high`).
   */
  any: { agents: 0.5, arguments: 0.4, riskOnly: 0.1 },
} as const;

/** Weight factor of broad rules in a set of `count` policies: 1 up to 100 policies, then 100 / count. */
export function breadth(count: number): number {
  return Math.min(1, 100 / Math.max(1, count));
}

/** Requests: where the decisive policy is (LATE_FRACTION: rank ≥ 80 % of the set is "late"). */
export const LATE_FRACTION = 0.8;
export type RequestCategory = 'early' | 'late' | 'no-match';
export const REQUEST_CATEGORIES: readonly RequestCategory[] = ['early', 'late', 'no-match'];

/** How generateRequests composes its set: targeted shares (the rest is plain traffic). */
export const REQUEST_MIX = {
  /** Aimed at a policy in the last 20 % of the evaluation order, kept only if that is what decides. */
  late: 0.3,
  /** Aimed at nothing, kept only if no policy matches. */
  noMatch: 0.3,
  /** Traffic: half aimed at a random policy, half a random tool call of the vocabulary. */
  traffic: 0.4,
  /** Requests without an agent (agent `unknown`). */
  noAgent: 0.05,
} as const;

// ── Vocabulary ──────────────────────────────────────────────────────────────────────────────────

const MCP_VERBS: Record<'low' | 'medium' | 'high', readonly string[]> = {
  // Risk as inferMcpRisk infers it from the name (the last seven verbs fall to its default, medium).
  low: ['get', 'list', 'read', 'search', 'fetch', 'describe', 'show'],
  medium: ['create', 'update', 'write', 'post', 'send', 'merge', 'deploy', 'push', 'exec', 'run', 'archive', 'assign', 'label', 'sync', 'approve', 'close'],
  high: ['delete', 'destroy', 'drop', 'remove', 'purge', 'truncate'],
};
const MCP_NOUNS = [
  'issue', 'issues', 'pull_request', 'repo', 'file', 'files', 'branch', 'comment', 'page', 'database', 'table', 'user',
  'channel', 'message', 'secret', 'deployment', 'pipeline', 'ticket', 'project', 'document', 'bucket', 'record',
  'workflow', 'webhook', 'release', 'invoice',
];
const GITHUB_RESOURCES = [
  'pull_request', 'issue', 'issue_comment', 'repo', 'ref', 'contents', 'release', 'workflow', 'deployment',
  'branch_protection', 'team', 'member', 'secret', 'webhook', 'check_run',
];
const GITHUB_VERBS = ['create', 'update', 'merge', 'close', 'reopen', 'delete', 'read', 'list', 'review', 'force_update', 'transfer', 'archive', 'dispatch', 'approve', 'comment'];
const LINEAR_RESOURCES = ['issue', 'project', 'cycle', 'comment', 'team', 'label', 'document', 'roadmap', 'initiative', 'attachment'];
const LINEAR_VERBS = ['create', 'update', 'delete', 'archive', 'assign', 'close', 'read', 'list', 'move', 'comment'];
const NAMED_AGENTS = ['claude-code', 'cursor', 'ci-bot', 'copilot', 'devin', 'windsurf', 'release-bot', 'triage-bot', 'codex', 'aider'];
const RISK_RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** Everything the names of a policy set of `count` policies are drawn from (it grows with count). */
export interface Vocabulary {
  count: number;
  /** breadth(count): the weight factor of broad rules. */
  breadth: number;
  /** Largest numeric suffix: `create_issue_17`, `pull_request_3.merge`. */
  maxSuffix: number;
  /** Every action name, per tool, sorted (binary-searched for prefix completions). */
  names: Record<GeneratedTool, string[]>;
  agents: string[];
  repos: string[];
  channels: string[];
}

export function vocabulary(count: number): Vocabulary {
  const maxSuffix = Math.max(1, Math.ceil(count / 250));
  const suffixes = Array.from({ length: maxSuffix + 1 }, (_, k) => (k === 0 ? '' : `_${k}`));
  const mcp: string[] = [];
  for (const verb of Object.values(MCP_VERBS).flat()) for (const noun of MCP_NOUNS) for (const s of suffixes) mcp.push(`${verb}_${noun}${s}`);
  const dotted = (resources: readonly string[], verbs: readonly string[]): string[] => {
    const out: string[] = [];
    for (const r of resources) for (const s of suffixes) for (const v of verbs) out.push(`${r}${s}.${v}`);
    return out;
  };
  const extraAgents = Math.floor(count / 20);
  const repoCount = 8 + Math.floor(count / 40);
  return {
    count,
    breadth: breadth(count),
    maxSuffix,
    names: { mcp: mcp.sort(), github: dotted(GITHUB_RESOURCES, GITHUB_VERBS).sort(), linear: dotted(LINEAR_RESOURCES, LINEAR_VERBS).sort() },
    agents: [...NAMED_AGENTS, ...Array.from({ length: extraAgents }, (_, i) => `agent-${i + 1}`)],
    repos: Array.from({ length: repoCount }, (_, i) => `acme/${['api', 'web', 'infra', 'mobile', 'data', 'docs', 'sandbox', 'billing'][i % 8]}-${Math.floor(i / 8)}`),
    channels: Array.from({ length: 6 + Math.floor(count / 100) }, (_, i) => `#${['eng', 'ops', 'sales', 'support', 'random', 'release'][i % 6]}-${Math.floor(i / 6)}`),
  };
}

function namesWithPrefix(sorted: readonly string[], prefix: string): readonly string[] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < sorted.length && sorted[end]!.startsWith(prefix)) end++;
  return sorted.slice(lo, end);
}

/** Agents as traffic uses them: named agents most of the time. */
function trafficAgent(rng: Rng, v: Vocabulary): string {
  return rng.chance(0.7) || v.agents.length === NAMED_AGENTS.length ? rng.pick(NAMED_AGENTS) : rng.pick(v.agents.slice(NAMED_AGENTS.length));
}

function riskOfDottedVerb(rng: Rng, verb: string): RiskLevel {
  if (verb === 'read' || verb === 'list') return 'low';
  if (verb === 'delete' || verb === 'force_update' || verb === 'transfer' || verb === 'archive') return rng.chance(0.5) ? 'high' : 'critical';
  return rng.chance(0.7) ? 'medium' : 'high';
}

/** The risk a request of `tool` for `action` carries: inferred for MCP, drawn from the verb otherwise. */
function requestRisk(rng: Rng, tool: GeneratedTool, action: string): RiskLevel | undefined {
  if (tool === 'mcp') return undefined;
  return riskOfDottedVerb(rng, action.slice(action.lastIndexOf('.') + 1));
}

// ── Arguments (MCP tool calls) ──────────────────────────────────────────────────────────────────

interface ArgumentField {
  pointer: string;
  /** The values grow with the policy set (repositories, channels): a rule on one stays specific. */
  scales: boolean;
  /** Values a call carries and an `equals` / `oneOf` picks from. */
  values: (v: Vocabulary) => readonly (string | number | boolean)[];
  /** Prefixes a `prefix` matcher picks from (string fields only). */
  prefixes?: readonly string[];
}

const ARGUMENT_FIELDS: readonly ArgumentField[] = [
  { pointer: '/repo', scales: true, values: (v) => v.repos, prefixes: ['acme/api-', 'acme/infra-', 'acme/web-', 'acme/sandbox-', 'acme/billing-'] },
  { pointer: '/branch', scales: false, values: () => ['main', 'master', 'develop', 'release/1.x', 'release/2.x', 'hotfix/login', 'feature/search', 'feature/billing'], prefixes: ['release/', 'hotfix/', 'feature/'] },
  { pointer: '/environment', scales: false, values: () => ['production', 'prod', 'staging', 'dev', 'preview', 'qa'] },
  { pointer: '/path', scales: false, values: () => ['src/index.ts', 'src/api/users.ts', 'infra/main.tf', 'infra/prod/db.tf', '.github/workflows/ci.yml', 'secrets/prod.env', 'docs/README.md'], prefixes: ['src/', 'infra/', 'infra/prod/', '.github/workflows/', 'secrets/', 'docs/'] },
  { pointer: '/channel', scales: true, values: (v) => v.channels, prefixes: ['#eng-', '#ops-', '#sales-', '#release-'] },
  { pointer: '/options/force', scales: false, values: () => [true, false] },
  { pointer: '/options/limit', scales: false, values: () => [10, 50, 100, 500, 1000] },
];

/** Random arguments of an MCP call: a few of the fields above, plus free text. */
function randomArguments(rng: Rng, v: Vocabulary): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const field of rng.sample(ARGUMENT_FIELDS, rng.int(1, 4))) setPointer(args, field.pointer, rng.pick(field.values(v)));
  if (rng.chance(0.5)) args.title = `Ticket ${rng.int(1, 99999)}`;
  if (rng.chance(0.2)) args.labels = rng.sample(['bug', 'p1', 'p2', 'security', 'infra'], rng.int(1, 3));
  return args;
}

function setPointer(root: Record<string, unknown>, pointer: string, value: unknown): void {
  const tokens = pointer.slice(1).split('/');
  let node = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const next = node[tokens[i]!];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[tokens[i]!] = {};
    node = node[tokens[i]!] as Record<string, unknown>;
  }
  node[tokens[tokens.length - 1]!] = value;
}

/** `broad`: the policy has no other narrowing condition, so a broad matcher makes it a broad rule. */
function randomMatcher(rng: Rng, v: Vocabulary, broad: boolean): [string, Matcher] {
  const scale = broad ? v.breadth : 1;
  const field = rng.weighted(ARGUMENT_FIELDS.map((f) => [f, f.scales ? 1 : scale] as const));
  const values = field.values(v);
  const kind = rng.weighted<'equals' | 'oneOf' | 'prefix'>([['equals', 0.45], ['oneOf', 0.3], ['prefix', field.prefixes ? 0.25 * scale : 0]]);
  if (kind === 'prefix') return [field.pointer, { prefix: rng.pick(field.prefixes!) }];
  if (kind === 'oneOf') return [field.pointer, { oneOf: rng.sample(values, Math.min(values.length, rng.int(2, 3))) }];
  return [field.pointer, { equals: rng.pick(values) }];
}

// ── Policies ────────────────────────────────────────────────────────────────────────────────────

/** A policy as written in a document (the YAML/JSON shape, not yet validated). */
export interface PolicySource {
  id?: string;
  name: string;
  tool: GeneratedTool;
  actionPattern: string;
  toolName?: string;
  toolNamePattern?: string;
  riskLevel?: RiskLevel;
  conditions?: {
    allowedAgents?: string[];
    minRiskLevel?: RiskLevel;
    maxRiskLevel?: RiskLevel;
    arguments?: Record<string, Matcher>;
  };
  mode: Mode;
  priority: number;
  enabled: boolean;
}

export interface DocumentSource {
  version: string;
  killSwitch: { global: boolean; toolsPaused: Tool[] };
  policies: PolicySource[];
}

type RiskFilter = Pick<PolicySource, 'riskLevel'> & Pick<NonNullable<PolicySource['conditions']>, 'minRiskLevel' | 'maxRiskLevel'>;

function randomRiskFilter(rng: Rng): RiskFilter {
  return rng.weighted<RiskFilter>([
    [{ minRiskLevel: 'medium' }, 1],
    [{ minRiskLevel: 'high' }, 1],
    [{ maxRiskLevel: 'low' }, 1],
    [{ maxRiskLevel: 'medium' }, 1],
    [{ minRiskLevel: 'medium', maxRiskLevel: 'high' }, 1],
    [{ riskLevel: rng.pick(RISK_LEVELS) }, 1],
  ]);
}

function applyRisk(p: PolicySource, risk: RiskFilter): void {
  if (risk.riskLevel) p.riskLevel = risk.riskLevel;
  if (risk.minRiskLevel) (p.conditions ??= {}).minRiskLevel = risk.minRiskLevel;
  if (risk.maxRiskLevel) (p.conditions ??= {}).maxRiskLevel = risk.maxRiskLevel;
}

/** `broad`: the policy has no other narrowing condition (a `*` policy), so a named agent makes it broad. */
function addAgents(rng: Rng, v: Vocabulary, p: PolicySource, max: number, broad: boolean): void {
  const agents = new Set<string>();
  const k = rng.int(1, max);
  const named = broad ? 0.5 * v.breadth : 0.5;
  while (agents.size < k) agents.add(rng.chance(named) ? rng.pick(NAMED_AGENTS) : rng.pick(v.agents));
  (p.conditions ??= {}).allowedAgents = [...agents];
}

function addArguments(rng: Rng, v: Vocabulary, p: PolicySource, max: number, broad: boolean): void {
  const args: Record<string, Matcher> = {};
  const k = rng.int(1, max);
  for (let i = 0; i < k; i++) {
    const [pointer, matcher] = randomMatcher(rng, v, broad && i === 0);
    args[pointer] = matcher;
  }
  (p.conditions ??= {}).arguments = args;
}

function exactAction(rng: Rng, v: Vocabulary, tool: GeneratedTool): string {
  if (tool !== 'mcp') return rng.pick(v.names[tool]);
  // Policies are written more for writes and deletes than for reads.
  const risk = rng.weighted<'low' | 'medium' | 'high'>([['low', 0.25], ['medium', 0.5], ['high', 0.25]]);
  const k = rng.int(0, v.maxSuffix);
  return `${rng.pick(MCP_VERBS[risk])}_${rng.pick(MCP_NOUNS)}${k === 0 ? '' : `_${k}`}`;
}

function prefixPattern(rng: Rng, v: Vocabulary, tool: GeneratedTool): string {
  const name = exactAction(rng, v, tool);
  if (tool === 'mcp') {
    const [verb, ...rest] = name.split('_');
    const noun = rest.join('_').replace(/_\d+$/, '');
    const suffix = /_(\d+)$/.exec(name)?.[1];
    // `delete_*` (broad), `create_issue*` (a family), `create_issue_1*` (one server's family).
    return rng.weighted<string>([[`${verb}_*`, 0.3 * v.breadth], [`${verb}_${noun}*`, 0.4], [suffix ? `${verb}_${noun}_${suffix}*` : `${verb}_${noun}*`, 0.3]]);
  }
  const [resource, verb] = name.split('.') as [string, string];
  // `pull_request.*` (a resource), `pull_request_3.*`, `pull_*`, `issue.cl*`.
  return rng.weighted<string>([
    [`${resource.replace(/_\d+$/, '')}.*`, 0.4 * v.breadth],
    [`${resource.slice(0, Math.max(3, resource.indexOf('_') + 1 || resource.length))}*`, 0.15 * v.breadth],
    [`${resource}.*`, 0.3],
    [`${resource}.${verb.slice(0, 2)}*`, 0.15],
  ]);
}

function generatePolicy(rng: Rng, v: Vocabulary, i: number): PolicySource {
  const tool = rng.weighted(MIX.tools);
  const kind = rng.weighted(MIX.kinds);
  const mode = rng.weighted(MIX.modes);
  const p: PolicySource = { name: '', tool, actionPattern: '*', mode, priority: rng.int(MIX.priority.min, MIX.priority.max), enabled: true };
  if (rng.chance(0.5)) p.id = `pol_${(deriveSeed(i, 'id') >>> 0).toString(16).padStart(8, '0')}`;
  let label: string;
  if (kind === 'exact' || kind === 'prefix') {
    const pattern = kind === 'exact' ? exactAction(rng, v, tool) : prefixPattern(rng, v, tool);
    if (tool === 'mcp' && rng.chance(MIX.mcpToolNameShare)) {
      if (kind === 'exact') p.toolName = pattern;
      else p.toolNamePattern = pattern;
    } else {
      p.actionPattern = pattern;
    }
    label = pattern;
    const shares = MIX[kind];
    if (rng.chance(shares.allowedAgents)) addAgents(rng, v, p, 2, false);
    if (tool === 'mcp' && rng.chance(shares.arguments)) addArguments(rng, v, p, 1, false);
    // MCP risk comes from the tool name, so a risk filter on a named MCP tool is rare in practice.
    if (rng.chance(tool === 'mcp' ? shares.risk / 2 : shares.risk)) applyRisk(p, randomRiskFilter(rng));
  } else {
    label = '*';
    const narrowing = rng.weighted<'agents' | 'arguments' | 'riskOnly'>([
      ['agents', MIX.any.agents],
      ['arguments', tool === 'mcp' ? MIX.any.arguments : 0],
      ['riskOnly', MIX.any.riskOnly * v.breadth],
    ]);
    if (narrowing === 'agents') {
      addAgents(rng, v, p, 3, true);
      if (rng.chance(0.5)) applyRisk(p, randomRiskFilter(rng));
    } else if (narrowing === 'arguments') {
      addArguments(rng, v, p, 2, true);
      if (rng.chance(0.3)) applyRisk(p, randomRiskFilter(rng));
      else if (rng.chance(0.3)) addAgents(rng, v, p, 2, false);
    } else {
      applyRisk(p, rng.chance(0.7) ? { minRiskLevel: 'high' } : { riskLevel: 'critical' });
    }
  }
  p.name = `${String(i + 1).padStart(5, '0')} ${mode} ${tool} ${label}`;
  return p;
}

/** The document source (JSON-able, as a policy file holds it) of `count` generated policies. */
export function generatePolicySource(count: number, seed = 1): DocumentSource {
  const rng = createRng(deriveSeed(seed, `policies:${count}`));
  const v = vocabulary(count);
  return {
    version: `bench-${count}-seed-${seed}`,
    killSwitch: { global: false, toolsPaused: [] },
    policies: Array.from({ length: count }, (_, i) => generatePolicy(rng, v, i)),
  };
}

/**
 * A generated document, loaded through the project's own parser and validator (so every generated
 * policy is one `sentrail policy check` accepts); throws on any error diagnostic.
 */
export function generatePolicyDocument(count: number, seed = 1): PolicyDocument {
  const source = generatePolicySource(count, seed);
  const { document, diagnostics } = loadPolicyText(JSON.stringify(source), `generated-${count}.json`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`generated document is invalid:\n${errors.slice(0, 10).map(formatDiagnostic).join('\n')}`);
  return document;
}

// ── Requests ────────────────────────────────────────────────────────────────────────────────────

export interface GeneratedRequest {
  request: PolicyRequest;
  category: RequestCategory;
  /** Rank (position in evaluation order) of the deciding policy, null when none matched. */
  decisiveRank: number | null;
}

/** Where a request is decided: by which rank, and which category that puts it in. */
export interface Classifier {
  classify(request: PolicyRequest): { category: RequestCategory; decisiveRank: number | null };
}

export function classifier(set: CompiledPolicySet): Classifier {
  const rankByName = new Map(set.ordered.map((cp) => [cp.policy.name, cp.rank]));
  const lateFrom = Math.floor(set.size * LATE_FRACTION);
  return {
    classify(request) {
      const d = decide(set, request);
      if (d.source !== 'policy') return { category: 'no-match', decisiveRank: null };
      const rank = rankByName.get(d.policy!)!;
      return { category: rank >= lateFrom ? 'late' : 'early', decisiveRank: rank };
    },
  };
}

/** A request that `policy` matches (as far as its conditions allow; an earlier policy may still decide). */
export function requestMatching(rng: Rng, v: Vocabulary, policy: Policy): PolicyRequest {
  const tool = policy.tool as GeneratedTool;
  const conditions = policy.conditions ?? {};
  const patterns = [policy.actionPattern, policy.toolName, policy.toolNamePattern].filter((x): x is string => x !== undefined);
  const exact = patterns.find((x) => !x.endsWith('*'));
  const prefix = patterns.filter((x) => x.endsWith('*')).map((x) => x.slice(0, -1)).reduce((a, b) => (b.length > a.length ? b : a), '');
  const minRank = Math.max(RISK_RANK[conditions.minRiskLevel ?? 'low'], policy.riskLevel ? RISK_RANK[policy.riskLevel] : 0);
  const maxRank = Math.min(RISK_RANK[conditions.maxRiskLevel ?? 'critical'], policy.riskLevel ? RISK_RANK[policy.riskLevel] : 3);
  const riskFits = (r: RiskLevel): boolean => RISK_RANK[r] >= minRank && RISK_RANK[r] <= maxRank;
  let action: string;
  if (exact !== undefined) {
    action = exact;
  } else {
    const candidates = namesWithPrefix(v.names[tool], prefix);
    action = candidates.length > 0 ? rng.pick(candidates) : `${prefix}${rng.pick(MCP_NOUNS)}`;
    // MCP risk is inferred from the name: look for a name whose risk the policy accepts.
    for (let tries = 0; tool === 'mcp' && tries < 30 && !riskFits(inferMcpRisk(action)) && candidates.length > 0; tries++) action = rng.pick(candidates);
  }
  const request: PolicyRequest = { tool, action };
  const agents = conditions.allowedAgents;
  const agent = agents && agents.length > 0 ? rng.pick(agents) : rng.chance(REQUEST_MIX.noAgent) ? undefined : trafficAgent(rng, v);
  if (agent !== undefined) request.agent = agent;
  if (tool !== 'mcp') {
    const drawn = requestRisk(rng, tool, action)!;
    const fitting = RISK_LEVELS.filter(riskFits);
    request.riskLevel = riskFits(drawn) || fitting.length === 0 ? drawn : rng.pick(fitting);
  } else {
    const args = randomArguments(rng, v);
    for (const [pointer, m] of Object.entries(conditions.arguments ?? {})) {
      if ('equals' in m) setPointer(args, pointer, m.equals);
      else if ('oneOf' in m) setPointer(args, pointer, rng.pick(m.oneOf));
      else if ('prefix' in m) setPointer(args, pointer, `${m.prefix}${rng.pick(['main', 'core', '2', 'x/y.ts', 'ops'])}`);
    }
    request.arguments = args;
  }
  return request;
}

/** A plain request of the vocabulary: any tool call an agent might make. */
export function randomRequest(rng: Rng, v: Vocabulary): PolicyRequest {
  const tool = rng.weighted(MIX.tools);
  let action: string;
  if (tool === 'mcp') {
    // Traffic is mostly reads.
    const risk = rng.weighted<'low' | 'medium' | 'high'>([['low', 0.5], ['medium', 0.38], ['high', 0.12]]);
    const k = rng.int(0, v.maxSuffix);
    action = `${rng.pick(MCP_VERBS[risk])}_${rng.pick(MCP_NOUNS)}${k === 0 ? '' : `_${k}`}`;
  } else {
    action = rng.pick(v.names[tool]);
  }
  const request: PolicyRequest = { tool, action };
  if (!rng.chance(REQUEST_MIX.noAgent)) request.agent = trafficAgent(rng, v);
  const risk = requestRisk(rng, tool, action);
  if (risk) request.riskLevel = risk;
  if (tool === 'mcp') request.arguments = randomArguments(rng, v);
  return request;
}

/** A request less likely to meet any policy: a tool name outside the policed vocabulary, or an unseen agent. */
function unpolicedRequest(rng: Rng, v: Vocabulary): PolicyRequest {
  const request = randomRequest(rng, v);
  if (rng.chance(0.5)) {
    if (request.tool === 'mcp') request.action = `${rng.pick(MCP_VERBS.low)}_${rng.pick(['widget', 'metric', 'dashboard', 'alert', 'invoice'])}_${rng.int(1, 500)}`;
    else request.action = `${rng.pick(['dashboard', 'metric', 'gist', 'discussion'])}.${rng.pick(['read', 'list', 'update'])}`;
  }
  if (rng.chance(0.5)) request.agent = `agent-${v.agents.length + rng.int(1, 1000)}`;
  return request;
}

export interface RequestSetOptions {
  count?: number;
  seed?: number;
  /** Attempts per targeted slot before falling back to plain traffic. */
  attempts?: number;
}

/**
 * `count` distinct requests for `set` (which `document` compiles to), each with its category:
 * REQUEST_MIX.late aimed at late policies, .noMatch aimed at nothing, the rest traffic. The
 * categories are what the engine then decides (a request aimed late that an earlier policy takes
 * counts as early); targeted slots that find no request of their category after `attempts` tries
 * take a traffic request instead, so small policy sets may have fewer late requests.
 */
export function generateRequests(set: CompiledPolicySet, options: RequestSetOptions = {}): GeneratedRequest[] {
  const count = options.count ?? 4096;
  const attempts = options.attempts ?? 25;
  const rng = createRng(deriveSeed(options.seed ?? 1, `requests:${set.size}`));
  const v = vocabulary(set.size);
  const { classify } = classifier(set);
  const seen = new Set<string>();
  const out: GeneratedRequest[] = [];
  const lateFrom = Math.floor(set.size * LATE_FRACTION);
  const latePolicies = set.ordered.slice(lateFrom).map((cp) => cp.policy);
  const allPolicies = set.ordered.map((cp) => cp.policy);

  const tryAdd = (request: PolicyRequest, want: RequestCategory | null): boolean => {
    const key = JSON.stringify(request);
    if (seen.has(key)) return false;
    const c = classify(request);
    if (want !== null && c.category !== want) return false;
    seen.add(key);
    out.push({ request, ...c });
    return true;
  };
  const traffic = (): PolicyRequest =>
    rng.chance(0.5) && allPolicies.length > 0 ? requestMatching(rng, v, rng.pick(allPolicies)) : randomRequest(rng, v);
  const fill = (want: RequestCategory | null, make: () => PolicyRequest): void => {
    for (let i = 0; i < attempts; i++) if (tryAdd(make(), want)) return;
    while (!tryAdd(traffic(), null));
  };

  const late = Math.round(count * REQUEST_MIX.late);
  const noMatch = Math.round(count * REQUEST_MIX.noMatch);
  for (let i = 0; i < late; i++) fill('late', () => requestMatching(rng, v, rng.pick(latePolicies.length > 0 ? latePolicies : allPolicies)));
  for (let i = 0; i < noMatch; i++) fill('no-match', () => unpolicedRequest(rng, v));
  while (out.length < count) fill(null, traffic);
  return rng.shuffle(out);
}

/** Convenience: document, compiled set and requests for one size. */
export function generateBenchCase(count: number, seed = 1, requestCount = 4096): { document: PolicyDocument; set: CompiledPolicySet; requests: GeneratedRequest[] } {
  const document = generatePolicyDocument(count, seed);
  const set = compilePolicySet(document);
  return { document, set, requests: generateRequests(set, { count: requestCount, seed }) };
}

// ── Cedar encoding ──────────────────────────────────────────────────────────────────────────────
//
// Entities: principal Agent::"<agent or unknown>", action Action::"<action>", resource
// Tool::"<tool>". Context: { action: String, risk?: Long (low 0 … critical 3), arguments?: Record }.
// Each of our policies becomes one `permit` with id `p<rank>` whose scope and `when` clause are
// its complete match condition (tool, action patterns, agents, risk, arguments). Cedar has no
// first-match ordering, so Cedar is asked which policies match (its response's
// `diagnostics.reason` lists every satisfied permit) and the decision is the mode of the
// lowest-ranked one, `allow` when there is none: cedarFirstMatch, then decisionAtRank.

export class CedarUnsupported extends Error {}

function cedarString(s: string): string {
  if (/[^\x20-\x7e]/.test(s)) throw new CedarUnsupported(`non-printable or non-ASCII string ${JSON.stringify(s)}`);
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

function cedarLikePrefix(prefix: string): string {
  if (/[^\x20-\x7e]/.test(prefix)) throw new CedarUnsupported(`non-printable or non-ASCII prefix ${JSON.stringify(prefix)}`);
  return `"${prefix.replace(/[\\"*]/g, '\\$&')}*"`;
}

function cedarValue(v: unknown): string {
  if (typeof v === 'string') return cedarString(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new CedarUnsupported(`value ${JSON.stringify(v)} (only strings, integers and booleans)`);
}

/** `context.arguments["a"]["b"]` with the `has` guards that make a missing key a non-match. */
function cedarPointer(pointer: string): { guard: string[]; expr: string } {
  if (pointer === '') throw new CedarUnsupported('the root pointer');
  const tokens = pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const guard = ['context has "arguments"'];
  let expr = 'context["arguments"]';
  for (const t of tokens) {
    if (/^(0|[1-9]\d*)$/.test(t)) throw new CedarUnsupported(`pointer ${pointer}: array indexes`);
    guard.push(`${expr} has ${cedarString(t)}`);
    expr = `${expr}[${cedarString(t)}]`;
  }
  return { guard, expr };
}

/** One policy as Cedar text; throws CedarUnsupported for what Cedar cannot express here (regex, exists, blockedAgents, resourceType). */
export function toCedarPolicy(policy: Policy): string {
  const c = policy.conditions ?? {};
  if (c.blockedAgents) throw new CedarUnsupported('blockedAgents');
  if (policy.resourceType !== undefined) throw new CedarUnsupported('resourceType');
  const when: string[] = [];
  let principal = 'principal';
  let action = 'action';
  if (c.allowedAgents) {
    const agents = [...new Set(c.allowedAgents)];
    if (agents.length === 1) principal = `principal == Agent::${cedarString(agents[0]!)}`;
    else when.push(`[${agents.map((a) => `Agent::${cedarString(a)}`).join(', ')}].contains(principal)`);
  }
  const patterns = [policy.actionPattern, policy.toolName, policy.toolNamePattern].filter((x): x is string => x !== undefined && x !== '*');
  const exacts = [...new Set(patterns.filter((x) => !x.endsWith('*')))];
  if (exacts.length > 1) when.push('false');
  else if (exacts.length === 1) action = `action == Action::${cedarString(exacts[0]!)}`;
  for (const x of patterns.filter((x) => x.endsWith('*'))) when.push(`context.action like ${cedarLikePrefix(x.slice(0, -1))}`);
  const min = Math.max(RISK_RANK[c.minRiskLevel ?? 'low'], policy.riskLevel ? RISK_RANK[policy.riskLevel] : 0);
  const max = Math.min(RISK_RANK[c.maxRiskLevel ?? 'critical'], policy.riskLevel ? RISK_RANK[policy.riskLevel] : 3);
  if (policy.riskLevel || c.minRiskLevel || c.maxRiskLevel) {
    if (min > max) when.push('false');
    else {
      const parts = ['context has risk'];
      if (min === max) parts.push(`context.risk == ${min}`);
      else {
        if (min > 0) parts.push(`context.risk >= ${min}`);
        if (max < 3) parts.push(`context.risk <= ${max}`);
      }
      when.push(parts.join(' && '));
    }
  }
  for (const [pointer, m] of Object.entries(c.arguments ?? {})) {
    const { guard, expr } = cedarPointer(pointer);
    let test: string;
    if ('equals' in m) test = `${expr} == ${cedarValue(m.equals)}`;
    else if ('oneOf' in m) test = `[${m.oneOf.map(cedarValue).join(', ')}].contains(${expr})`;
    else if ('prefix' in m) test = `${expr} like ${cedarLikePrefix(m.prefix)}`;
    else throw new CedarUnsupported(`arguments ${pointer}: ${Object.keys(m)[0]} matcher`);
    when.push([...guard, test].join(' && '));
  }
  const head = `permit (\n  ${principal},\n  ${action},\n  resource == Tool::${cedarString(policy.tool)}\n)`;
  return when.length === 0 ? `${head};` : `${head}\nwhen { ${when.join(' && ')} };`;
}

/** The policies in evaluation order as a Cedar static policy set: id `p<rank>` → text. */
export function toCedarPolicySet(ordered: readonly Policy[]): Record<string, string> {
  const out: Record<string, string> = {};
  ordered.forEach((p, rank) => {
    out[`p${rank}`] = toCedarPolicy(p);
  });
  return out;
}

export interface CedarRequest {
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, unknown>;
}

/** A request as Cedar's principal/action/resource/context (MCP risk inferred as the engine does). */
export function toCedarRequest(request: PolicyRequest): CedarRequest {
  const tool = request.tool ?? 'mcp';
  const risk = request.riskLevel ?? (tool === 'mcp' ? inferMcpRisk(request.action) : undefined);
  const context: Record<string, unknown> = { action: request.action };
  if (risk !== undefined) context.risk = RISK_RANK[risk];
  if (request.arguments !== undefined) context.arguments = request.arguments;
  return {
    principal: { type: 'Agent', id: request.agent ?? 'unknown' },
    action: { type: 'Action', id: request.action },
    resource: { type: 'Tool', id: tool },
    context,
  };
}

/** First match by rank among the satisfied permits `p<rank>`: the rank, or -1 when none. */
export function cedarFirstMatch(reasons: readonly string[]): number {
  let best = -1;
  for (const id of reasons) {
    const rank = Number(id.slice(1));
    if (best === -1 || rank < best) best = rank;
  }
  return best;
}

/** Mode and policy of the policy at `rank` (Sentrail's default `allow`, no policy, for -1). */
export function decisionAtRank(set: CompiledPolicySet, rank: number): { mode: Mode; policy: string | null } {
  if (rank === -1) return { mode: 'allow', policy: null };
  const cp = set.ordered[rank]!;
  return { mode: cp.mode, policy: cp.policy.name };
}
