// `POST C/evaluate-action` (Sentrail's API reference): one decision with the org policy, for a
// caller that makes the API call itself, and for `sentrail policy test --remote`, which compares
// the gate's decisions with the local engine's. Each call is logged as the gate's audit of it.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseEvaluateActionBody } from '../policy/evaluate-action.ts';
import { decide } from '../policy/index.ts';
import { BodyTooLargeError, readBody, sendJson } from './http.ts';
import type { PolicySource } from './policy-source.ts';
import type { GateLogger } from './session.ts';

export const EVALUATE_ACTION_PATH = '/evaluate-action';

export async function serveEvaluateAction(req: IncomingMessage, res: ServerResponse, policy: PolicySource, log: GateLogger): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'Method not allowed: only POST is accepted' }, { Allow: 'POST' });
  let json: unknown;
  try {
    json = JSON.parse(await readBody(req));
  } catch (err) {
    if (err instanceof BodyTooLargeError) return sendJson(res, 413, { ok: false, error: err.message });
    return sendJson(res, 400, { ok: false, error: 'Invalid request body: not JSON' });
  }
  const parsed = parseEvaluateActionBody(json);
  if ('error' in parsed) return sendJson(res, 400, { ok: false, error: `Invalid request body: ${parsed.error}` });
  const snapshot = await policy.current();
  const decision = decide(snapshot.set, parsed.request);
  const auditLogId = randomUUID();
  const r = parsed.request;
  log.info(`evaluate-action ${r.tool} ${r.action} (agent ${r.agent ?? 'unknown'}, risk ${r.riskLevel}) → ${decision.mode}${decision.policy ? `, policy "${decision.policy}"` : ''} [audit ${auditLogId}]`);
  sendJson(res, 200, {
    ok: true,
    decision: decision.mode,
    reason: decision.reason,
    matchedPolicyId: decision.policyId,
    // Nothing to replay: the caller makes the call itself, so the local gate holds no approval for it.
    approvalRequestId: null,
    auditLogId,
    correlationId: randomUUID(),
    // Beyond the API reference: the local gate names the policy and its version.
    policy: decision.policy,
    policyVersion: decision.policyVersion,
    ...(parsed.ignored.length > 0 ? { ignoredFields: parsed.ignored } : {}),
  });
}
