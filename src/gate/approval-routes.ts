// The approvals' HTTP side: the agent's status read (`GET C/mcp-gate/status/{id}`, the API key or
// the admin key) and the reviewer's endpoints (the admin key only):
//   POST C/approval-decision   {approvalRequestId, decision: "approved"|"denied", reason?}
//   GET  C/approvals           every request, newest first (?status=pending narrows)
//   GET  C/approvals/{id}      one request, with the stored call
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KillSwitch } from '../policy/types.ts';
import type { ApprovalDecisions } from './approval-decisions.ts';
import { APPROVAL_STATUSES, ApprovalStateError, type ApprovalRecord, type ApprovalStatus, type ApprovalStore } from './approvals.ts';
import { BodyTooLargeError, readBody, sendJson } from './http.ts';
import type { PolicySource } from './policy-source.ts';

/** A decision is a few short fields: anything bigger is not one. */
const MAX_DECISION_BODY_BYTES = 64 * 1024;
export const MAX_REASON_LENGTH = 2000;

/** What the agent's side reads: gate-protocol.md's fields, then this gate's additions. */
export function statusBody(record: ApprovalRecord, killSwitch: KillSwitch): Record<string, unknown> {
  return {
    ok: true,
    status: record.status,
    decision: 'require_approval',
    result: record.result ?? null,
    killSwitch,
    approvalRequestId: record.id,
    reason: record.reason,
    expiresAt: record.expiresAt,
    decisionReason: record.decisionReason ?? null,
    error: record.error ?? null,
  };
}

/** What a reviewer reads: the whole record but its bookkeeping (the hash is shown, as the call's fingerprint). */
export function reviewerView(record: ApprovalRecord): Record<string, unknown> {
  const { replayingPid: _pid, replayingNonce: _nonce, ...rest } = record;
  return { ...rest, tool: record.params.name ?? null, arguments: record.params.arguments ?? null };
}

export async function serveApprovalStatus(res: ServerResponse, id: string, approvals: ApprovalStore, policy: PolicySource): Promise<void> {
  const record = await approvals.get(id);
  if (!record) return sendJson(res, 404, { ok: false, error: 'Approval request not found' });
  const { killSwitch } = await policy.current();
  sendJson(res, 200, statusBody(record, killSwitch));
}

export async function serveApprovalList(res: ServerResponse, url: URL, approvals: ApprovalStore): Promise<void> {
  const wanted = url.searchParams.get('status');
  if (wanted !== null && !APPROVAL_STATUSES.includes(wanted as ApprovalStatus)) {
    return sendJson(res, 400, { ok: false, error: `status: expected one of ${APPROVAL_STATUSES.join(', ')}` });
  }
  const records = (await approvals.list()).filter((r) => wanted === null || r.status === wanted);
  sendJson(res, 200, { ok: true, approvals: records.map(reviewerView) });
}

export async function serveApprovalRecord(res: ServerResponse, id: string, approvals: ApprovalStore): Promise<void> {
  const record = await approvals.get(id);
  if (!record) return sendJson(res, 404, { ok: false, error: 'Approval request not found' });
  sendJson(res, 200, { ok: true, approval: reviewerView(record) });
}

type Parsed = { ok: true; id: string; decision: 'approved' | 'denied'; reason?: string } | { ok: false; error: string };

/** The body of POST /approval-decision, or what is wrong with it (naming the field). */
export function parseDecision(text: string): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: 'the body is not JSON: expected {"approvalRequestId": "…", "decision": "approved" | "denied", "reason"?: "…"}' };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'the body must be a JSON object: {"approvalRequestId": "…", "decision": "approved" | "denied", "reason"?: "…"}' };
  const b = body as Record<string, unknown>;
  if (typeof b.approvalRequestId !== 'string' || b.approvalRequestId.trim() === '') return { ok: false, error: 'approvalRequestId: expected the approval request id, a non-empty string' };
  if (b.decision !== 'approved' && b.decision !== 'denied') return { ok: false, error: `decision: expected "approved" or "denied", got ${JSON.stringify(b.decision) ?? 'nothing'}` };
  if (b.reason !== undefined && b.reason !== null && typeof b.reason !== 'string') return { ok: false, error: 'reason: expected a string' };
  if (typeof b.reason === 'string' && b.reason.length > MAX_REASON_LENGTH) return { ok: false, error: `reason: at most ${MAX_REASON_LENGTH} characters` };
  return { ok: true, id: b.approvalRequestId, decision: b.decision, ...(typeof b.reason === 'string' && b.reason !== '' ? { reason: b.reason } : {}) };
}

export async function serveApprovalDecision(req: IncomingMessage, res: ServerResponse, reviewer: string, decisions: ApprovalDecisions, policy: PolicySource): Promise<void> {
  let text: string;
  try {
    text = await readBody(req, MAX_DECISION_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return sendJson(res, 413, { ok: false, error: `the body is over ${MAX_DECISION_BODY_BYTES} bytes` });
    throw err;
  }
  const parsed = parseDecision(text);
  if (!parsed.ok) return sendJson(res, 400, { ok: false, error: parsed.error });
  try {
    const record = await decisions.decide(parsed.id, parsed.decision, reviewer, parsed.reason);
    const { killSwitch } = await policy.current();
    sendJson(res, 200, statusBody(record, killSwitch));
  } catch (err) {
    if (!(err instanceof ApprovalStateError)) throw err;
    if (err.code === 'not-found') return sendJson(res, 404, { ok: false, error: 'Approval request not found', approvalRequestId: parsed.id });
    sendJson(res, 409, { ok: false, error: `Approval request ${parsed.id} is ${err.status}: only a pending, unexpired request can be decided`, approvalRequestId: parsed.id, status: err.status });
  }
}
