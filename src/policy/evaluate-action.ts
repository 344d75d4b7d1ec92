// Sentrail's evaluate-action body (docs.sentrail.dev, API reference "evaluate-action"), both ways:
// the local gate reads it into a policy request, `policy test --remote` writes one from a test
// case, and the two decisions are compared. Pure: no I/O.
import { MODES, RISK_LEVELS, TOOLS, type Decision, type Mode, type PolicyRequest, type RiskLevel, type Tool } from './types.ts';

/** The request fields the API reference lists; `riskLevel` is required there. */
export interface EvaluateActionBody {
  tool: Tool;
  action: string;
  riskLevel: RiskLevel;
  agentId?: string;
  agentName?: string;
  resourceType?: string;
  resourceId?: string;
  payload?: Record<string, unknown>;
  requestedBy?: string;
}

export const EVALUATE_ACTION_FIELDS = ['tool', 'action', 'riskLevel', 'agentId', 'agentName', 'resourceType', 'resourceId', 'payload', 'requestedBy'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The body as a policy request, or the first thing wrong with it (HTTP 400). Unknown fields are listed, not refused. */
export function parseEvaluateActionBody(body: unknown): { request: PolicyRequest; ignored: string[] } | { error: string } {
  if (!isRecord(body)) return { error: 'the body must be a JSON object' };
  const need = (field: string, allowed: readonly string[]): string | null => {
    const v = body[field];
    if (v === undefined || v === null) return `${field} is required (one of ${allowed.join(', ')})`;
    if (typeof v !== 'string' || !allowed.includes(v)) return `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`;
    return null;
  };
  const problem = need('tool', TOOLS) ?? need('riskLevel', RISK_LEVELS);
  if (problem) return { error: problem };
  if (typeof body.action !== 'string' || body.action === '') return { error: 'action is required: a non-empty string, e.g. pull_request.create' };
  for (const field of ['agentId', 'agentName', 'resourceType', 'resourceId', 'requestedBy']) {
    const v = body[field];
    if (v !== undefined && v !== null && typeof v !== 'string') return { error: `${field} must be a string, got ${typeof v}` };
  }
  if (body.payload !== undefined && body.payload !== null && !isRecord(body.payload)) return { error: 'payload must be a JSON object' };
  const request: PolicyRequest = { tool: body.tool as Tool, action: body.action, riskLevel: body.riskLevel as RiskLevel };
  if (typeof body.agentId === 'string') request.agent = body.agentId;
  if (typeof body.resourceType === 'string') request.resourceType = body.resourceType;
  // The local gate reads `payload` as the call's arguments (the `conditions.arguments` extension).
  if (isRecord(body.payload)) request.arguments = body.payload;
  const known: readonly string[] = EVALUATE_ACTION_FIELDS;
  return { request, ignored: Object.keys(body).filter((k) => !known.includes(k)) };
}

/**
 * A test case's request as the gate's body. The local run decided with `decided.riskLevel` (given,
 * or inferred for MCP); the same level is sent, since the API requires one. A non-MCP case with no
 * risk level cannot be sent as it was decided.
 */
export function evaluateActionBodyFor(request: PolicyRequest, decided: Decision): { body: EvaluateActionBody } | { unsendable: string } {
  const riskLevel = request.riskLevel ?? decided.riskLevel;
  if (riskLevel === null || riskLevel === undefined) return { unsendable: 'evaluate-action requires a riskLevel and this case has none' };
  const body: EvaluateActionBody = { tool: request.tool ?? 'mcp', action: request.action, riskLevel };
  if (request.agent !== undefined) body.agentId = request.agent;
  if (request.resourceType !== undefined) body.resourceType = request.resourceType;
  if (isRecord(request.arguments)) body.payload = request.arguments;
  body.requestedBy = 'sentrail policy test --remote';
  return { body };
}

/** What a gate answered: the API reference's fields, plus `policy` (a name) where the gate gives one. */
export interface GateDecision {
  decision: Mode;
  reason: string;
  matchedPolicyId: string | null;
  policy?: string | null;
  approvalRequestId: string | null;
  auditLogId: string | null;
}

export function parseGateDecision(json: unknown): GateDecision | { error: string } {
  if (!isRecord(json)) return { error: 'the answer is not a JSON object' };
  if (typeof json.decision !== 'string' || !(MODES as readonly string[]).includes(json.decision)) {
    return { error: `the answer's decision is ${JSON.stringify(json.decision)}, not one of ${MODES.join(', ')}` };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    decision: json.decision as Mode,
    reason: str(json.reason) ?? '',
    matchedPolicyId: str(json.matchedPolicyId),
    ...('policy' in json ? { policy: str(json.policy) } : {}),
    approvalRequestId: str(json.approvalRequestId),
    auditLogId: str(json.auditLogId),
  };
}

/**
 * Where the gate and the local engine differ, in words; empty when they agree. The mode always
 * counts; the policy counts where the gate names it (`policy`), or by id where both have one.
 */
export function differencesFrom(local: Decision, gate: GateDecision): string[] {
  const out: string[] = [];
  if (local.mode !== gate.decision) out.push(`decision: local ${local.mode}, gate ${gate.decision}`);
  if (gate.policy !== undefined) {
    if (gate.policy !== local.policy) out.push(`policy: local ${quote(local.policy)}, gate ${quote(gate.policy)}`);
  } else if (local.policyId !== null && gate.matchedPolicyId !== null && local.policyId !== gate.matchedPolicyId) {
    out.push(`policy id: local ${local.policyId}, gate ${gate.matchedPolicyId}`);
  }
  return out;
}

const quote = (name: string | null | undefined) => (name === null || name === undefined ? '(none)' : JSON.stringify(name));
