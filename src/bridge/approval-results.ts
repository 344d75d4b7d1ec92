// What a call held for approval finally answers (gate-protocol.md, "Approvals"), and what the
// client is told while it waits. Pure. The replayed result comes back unchanged; every other
// ending is an `isError` result (clients such as Claude Code show the model a result's text, not
// an error's data) that says what happened, and whether trying again makes sense.
import type { JsonRpcId, JsonRpcResponse } from '../relay/jsonrpc.ts';

/** The approval as this bridge knows it: enough to name it in every message. */
export interface HeldCall {
  approvalRequestId: string;
  tool: string;
  policy: string | null;
}

/** What `GET C/mcp-gate/status/{id}` said, as far as the bridge reads it. */
export interface StatusAnswer {
  status: 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'failed';
  result: unknown;
  decisionReason: string | null;
  expiresAt: string | null;
  error: { reason?: string; message?: string } | null;
}

const STATUSES = new Set(['pending', 'approved', 'denied', 'expired', 'executed', 'failed']);

/** Reads a status body; null when it is not one (a web page's JSON, another endpoint). */
export function readStatusAnswer(body: unknown): StatusAnswer | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.status !== 'string' || !STATUSES.has(b.status)) return null;
  const error = b.error && typeof b.error === 'object' ? (b.error as StatusAnswer['error']) : null;
  return {
    status: b.status as StatusAnswer['status'],
    result: b.result ?? null,
    decisionReason: typeof b.decisionReason === 'string' && b.decisionReason !== '' ? b.decisionReason : null,
    expiresAt: typeof b.expiresAt === 'string' ? b.expiresAt : null,
    error,
  };
}

export const isSettled = (s: StatusAnswer['status']): boolean => s === 'executed' || s === 'denied' || s === 'expired' || s === 'failed';

/** "12 s", "3 min 5 s", "10 min": how long, for people. */
export function formatWait(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

export const approveCommand = (id: string) => `sentrail approvals approve ${id}`;
export const statusCommand = (id: string) => `sentrail approvals status ${id}`;

/**
 * Where the reviewer decides, for the progress text. A gate on this machine (the local gate) takes
 * its admin key, which `sentrail approvals` finds by itself; any other gate (the hosted one decides
 * with a reviewer's Supabase session, docs/commands.md) is decided in the dashboard, or with the
 * CLI pointed at it by someone who holds its admin key.
 */
export function approveHint(id: string, gate: { loopback: boolean; label: string }): string {
  if (gate.loopback) return `To approve it on this machine: ${approveCommand(id)}`;
  return `A reviewer approves it in the Sentrail dashboard, or with the gate's admin key: ${approveCommand(id)} --gate ${gate.label}`;
}

/** The text of each progress notification while a call waits. */
export function waitingMessage(held: HeldCall, waitedMs: number, boundMs: number, gate: { loopback: boolean; label: string } = { loopback: true, label: '' }): string {
  const why = held.policy ? ` (policy "${held.policy}")` : '';
  return (
    `Waiting for a Sentrail reviewer to approve ${held.tool}${why}: approval ${held.approvalRequestId}, ` +
    `waited ${formatWait(waitedMs)} of ${formatWait(boundMs)}. ${approveHint(held.approvalRequestId, gate)}`
  );
}

function errorResult(id: JsonRpcId, text: string, sentrail: Record<string, unknown>): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result: { isError: true, content: [{ type: 'text', text }], _meta: { sentrail } } };
}

const sentence = (text: string) => text.trim().replace(/\.?$/, '.');

/** The answer for a settled approval: executed → the replayed result, unchanged; the rest → isError. */
export function settledResult(id: JsonRpcId, held: HeldCall, answer: StatusAnswer): JsonRpcResponse {
  const meta = { approvalRequestId: held.approvalRequestId, policy: held.policy };
  switch (answer.status) {
    case 'executed':
      if (answer.result && typeof answer.result === 'object' && !Array.isArray(answer.result)) {
        return { jsonrpc: '2.0', id, result: answer.result as Record<string, unknown> };
      }
      return errorResult(id, `Sentrail: the call to ${held.tool} was approved and run (approval ${held.approvalRequestId}), but the gate returned no result for it. Check its effect before trying again; \`${statusCommand(held.approvalRequestId)}\` shows what the gate recorded.`, { status: 'executed', ...meta, reason: 'no_result' });
    case 'denied': {
      const why = answer.decisionReason ? `: ${sentence(answer.decisionReason)}` : ' (no reason given).';
      return errorResult(id, `Sentrail: a reviewer denied this call to ${held.tool} (approval ${held.approvalRequestId})${why} The call was not made. Do not retry this call.`, { status: 'denied', ...meta, reason: answer.decisionReason });
    }
    case 'expired': {
      const at = answer.expiresAt ? ` at ${answer.expiresAt}` : '';
      return errorResult(id, `Sentrail: the approval request ${held.approvalRequestId} for ${held.tool} expired${at} before a reviewer decided. The call was not made. Making it again asks for a new approval.`, { status: 'expired', ...meta, reason: 'expired' });
    }
    case 'failed': {
      const reason = answer.error?.reason ?? 'failed';
      const message = answer.error?.message ? sentence(answer.error.message) : 'The gate gave no detail.';
      return errorResult(id, `Sentrail: the call to ${held.tool} was approved (approval ${held.approvalRequestId}) but did not complete (${reason}): ${message} Check its effect before trying again.`, { status: 'failed', ...meta, reason });
    }
    default:
      throw new Error(`settledResult: ${answer.status} is not settled`);
  }
}

/** The bound ran out while the approval is still pending: say how to follow it up. */
export function stillPendingResult(id: JsonRpcId, held: HeldCall, waitedMs: number, lastProblem: string | null): JsonRpcResponse {
  const gate = lastProblem ? ` (the gate could not be asked at the end: ${lastProblem})` : '';
  return errorResult(
    id,
    `Sentrail: this call to ${held.tool} is still waiting for a reviewer's approval after ${formatWait(waitedMs)}${gate}. ` +
      `The bridge stopped waiting; the approval request ${held.approvalRequestId} stays open on the gate. Check it with \`${statusCommand(held.approvalRequestId)}\`. ` +
      `Once it is approved, making this same call again returns its result without asking for a second approval.`,
    { status: 'approval_pending', ...{ approvalRequestId: held.approvalRequestId, policy: held.policy } },
  );
}

/** The bridge is closing while the call waits: the approval outlives it, on the gate. */
export function closingResult(id: JsonRpcId, held: HeldCall): JsonRpcResponse {
  return errorResult(
    id,
    `Sentrail: the bridge is shutting down while this call to ${held.tool} waits for a reviewer's approval. ` +
      `The approval request ${held.approvalRequestId} stays open on the gate: check it with \`${statusCommand(held.approvalRequestId)}\`.`,
    { status: 'approval_pending', approvalRequestId: held.approvalRequestId, policy: held.policy },
  );
}

/** The gate no longer knows an approval it answered about before (a dev gate restarted without its store). */
export function lostResult(id: JsonRpcId, held: HeldCall): JsonRpcResponse {
  return errorResult(id, `Sentrail: the gate no longer knows the approval request ${held.approvalRequestId} for ${held.tool} (it answered 404). The call was not made by this request; check with a reviewer before trying again.`, { status: 'approval_lost', approvalRequestId: held.approvalRequestId, policy: held.policy });
}
