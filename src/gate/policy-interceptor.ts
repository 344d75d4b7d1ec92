// The gate's enforcement: every tools/call is decided with the org policy before anything reaches
// the upstream (gate-protocol.md, "Decisions as the client sees them"). block → JSON-RPC -32001
// with data.sentrail; require_approval → a result backed by a stored approval request; allow → the
// call goes on, and its result comes back unchanged.
import { decide, type Decision } from '../policy/index.ts';
import { ErrorCode, errorResponse, resultResponse, type JsonRpcRequest, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import type { Interceptor } from '../relay/relay.ts';
import { replayableParams, type ApprovalRecord, type ApprovalStore } from './approvals.ts';
import type { PolicySource } from './policy-source.ts';
import type { RequestContexts } from './request-context.ts';

export interface PolicyInterceptorDeps {
  policy: PolicySource;
  approvals: ApprovalStore;
  contexts: RequestContexts;
  /** Where the agent can check an approval request: `C/mcp-gate/status/{id}`. */
  statusUrl: (approvalRequestId: string) => string;
  log: { info(m: string, f?: Record<string, unknown>): void };
}

export function blockedResponse(req: JsonRpcRequest, decision: Decision): JsonRpcResponse {
  return errorResponse(req.id, ErrorCode.Blocked, `Blocked by Sentrail policy: ${decision.reason}`, {
    sentrail: {
      status: 'blocked',
      policy: decision.policy,
      policyId: decision.policyId,
      policyVersion: decision.policyVersion,
      reason: decision.reason,
      source: 'gate',
    },
  });
}

export function approvalResponse(req: JsonRpcRequest, record: ApprovalRecord, statusUrl: string): JsonRpcResponse {
  const name = String(record.params.name);
  const text =
    `This call to ${name} needs a human's approval before it runs (${record.reason}). ` +
    `Approval request ${record.id} is pending until ${record.expiresAt}. ` +
    `Check it with GET ${statusUrl}: once a reviewer approves, Sentrail runs the call and the result appears there. Do not retry this call.`;
  return resultResponse(req.id, {
    content: [{ type: 'text', text }],
    _meta: { sentrail: { status: 'require_approval', approvalRequestId: record.id, reason: record.reason, policy: record.policy } },
  });
}

export function createPolicyInterceptor(deps: PolicyInterceptorDeps): Interceptor {
  return {
    async request(req) {
      if (req.method !== 'tools/call') return undefined;
      const name = req.params?.name;
      // An undecidable call is never forwarded: the policy cannot be applied to a call without a name.
      if (typeof name !== 'string' || name === '') return errorResponse(req.id, ErrorCode.InvalidParams, 'Invalid params: tools/call needs params.name, a string');
      const { agent } = deps.contexts.get(req);
      const snapshot = await deps.policy.current();
      const decision = decide(snapshot.set, { tool: 'mcp', action: name, agent, arguments: req.params?.arguments });
      // Worded so that no `code: value` pair appears: the log's redactor masks those (claude-code: …).
      deps.log.info(`tools/call ${name} (agent ${agent}) → ${decision.mode}${decision.policy ? `, policy "${decision.policy}"` : ''}`);
      if (decision.mode === 'allow') return undefined;
      if (decision.mode === 'block') return blockedResponse(req, decision);
      const record = await deps.approvals.create(
        { method: 'tools/call', params: replayableParams(req.params), agent },
        { policy: decision.policy, policyId: decision.policyId, policyVersion: decision.policyVersion, reason: decision.reason },
      );
      return approvalResponse(req, record, deps.statusUrl(record.id));
    },
  };
}
