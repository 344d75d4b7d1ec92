// The shapes of Sentrail's policy document, a request and a decision (../shared/docs/policy.md).
// Everything here is plain data: the engine takes these and returns these, with no I/O.

export const TOOLS = ['github', 'linear', 'slack', 'notion', 'internal_api', 'mcp'] as const;
export type Tool = (typeof TOOLS)[number];
/** A policy's tool: an integration, or `*` for every one (Sentrail's "Policy engine" page). */
export type PolicyTool = Tool | '*';

export const MODES = ['allow', 'block', 'require_approval'] as const;
export type Mode = (typeof MODES)[number];

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export type Matcher =
  | { equals: unknown }
  | { oneOf: unknown[] }
  | { prefix: string }
  | { regex: string }
  | { exists: boolean };

export interface Conditions {
  allowedAgents?: string[];
  blockedAgents?: string[];
  minRiskLevel?: RiskLevel;
  maxRiskLevel?: RiskLevel;
  /** Extension of this CLI and its local gate: JSON Pointer (RFC 6901) → matcher. */
  arguments?: Record<string, Matcher>;
  // The three below come from Sentrail's "Policy engine" page, which gives them no semantics for
  // MCP: `test`/`explain` use the readings in docs/policy.md, the bridge never rests a block on them.
  allowedResourceTypes?: string[];
  blockedResourceTypes?: string[];
  /** Any JSON the gate stores; only "empty or not" matters here (`{}` / `[]` is ignored). */
  customRules?: unknown;
}

/** Where a value came from, so every message can name file and line. */
export interface SourceLocation {
  file: string;
  line: number;
}

export interface Policy {
  id?: string;
  /** The hosted gate's workspace id (Policy engine page); carried, never used to decide. */
  workspaceId?: string;
  name: string;
  tool: PolicyTool;
  /** Legacy field of the Policy engine page, without stated semantics: ignored by `test`, uncertain for the bridge. */
  actionType?: string;
  actionPattern: string;
  toolName?: string;
  toolNamePattern?: string;
  resourceType?: string;
  riskLevel?: RiskLevel;
  conditions?: Conditions;
  mode: Mode;
  priority: number;
  enabled: boolean;
  /** Position of the policy in the (concatenated) document: the last tie-break. */
  index: number;
  location: SourceLocation;
}

export interface KillSwitch {
  global: boolean;
  /** Paused integrations (Sentrail's per-tool pause: github, linear, …, mcp). */
  toolsPaused: Tool[];
}

export interface PolicyDocument {
  version: string | null;
  policies: Policy[];
  killSwitch: KillSwitch;
  /** The files the document was loaded from, in load order. */
  files: string[];
}

export interface PolicyRequest {
  tool?: Tool;
  action: string;
  riskLevel?: RiskLevel;
  agent?: string;
  resourceType?: string;
  arguments?: unknown;
}

/** How much the caller knows about a request (the bridge knows less than the gate). */
export interface DecideContext {
  /**
   * The bridge cannot know a request's resource type (MCP calls carry none), so a policy that
   * filters on it can neither be ruled in nor out: see policy.md, "What the bridge may decide alone".
   */
  resourceTypeUnknown?: boolean;
  /** Listing: the call's arguments are not known yet, so `arguments` conditions are undecidable. */
  argumentsUnknown?: boolean;
  /** The bridge: a policy with `blockedAgents` can neither be ruled in nor out (docs disagree). */
  blockedAgentsUnsettled?: boolean;
  /**
   * The bridge: every point where Sentrail's pages disagree (docs/policy.md, "Readings") is
   * evaluated under all readings; a policy matches only when every reading matches.
   */
  readingsUnsettled?: boolean;
}

export type DecisionSource = 'policy' | 'default' | 'kill_switch';

export interface Decision {
  mode: Mode;
  policy: string | null;
  policyId: string | null;
  priority: number | null;
  reason: string;
  policyVersion: string | null;
  /** The risk level the decision was made with (given, or inferred for MCP). */
  riskLevel: RiskLevel | null;
  source: DecisionSource;
  /** True when a policy's evaluation erred and "errors never widen access" decided. */
  evaluationError?: string;
}

/** One line of an explanation: a policy considered before the match, and why it did not apply. */
export interface TraceEntry {
  policy: string;
  priority: number;
  mode: Mode;
  /** `no-match`: the first thing that did not hold. `unknown`: could not be evaluated here. */
  result: 'no-match' | 'match' | 'unknown' | 'error';
  detail: string;
  /** Fields of this policy whose meaning Sentrail's pages dispute: the gate decides them. */
  uncertain?: string[];
  location: SourceLocation;
}

export interface Explanation {
  decision: Decision;
  request: Required<Pick<PolicyRequest, 'tool' | 'action'>> & PolicyRequest;
  trace: TraceEntry[];
  /**
   * Points of this decision where Sentrail's pages disagree (policy.md, "Readings"): the decision
   * follows the contract's reading; the gate decides these. Empty when nothing is in dispute.
   */
  uncertain: string[];
}
