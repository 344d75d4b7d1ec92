// How decisions and failures reach an MCP client (gate-protocol.md, "Decisions as the client sees
// them"): as tool results, because clients such as Claude Code show the model a result's text but
// drop an error's data. Every block says why and tells the model not to retry.
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcResponse } from '../relay/jsonrpc.ts';
import type { Decision } from '../policy/types.ts';

export interface BlockInfo {
  policy: string | null;
  policyId: string | null;
  policyVersion: string | null;
  reason: string;
  source: 'local' | 'gate';
}

export function blockedResult(id: JsonRpcId, info: BlockInfo): JsonRpcResponse {
  const who = info.policy ? `Blocked by Sentrail policy "${info.policy}"` : 'Blocked by Sentrail policy';
  const reason = info.reason.replace(/\.?\s*$/, '.');
  return {
    jsonrpc: '2.0',
    id,
    result: {
      isError: true,
      content: [{ type: 'text', text: `${who}: ${reason} Do not retry this call.` }],
      _meta: { sentrail: { status: 'blocked', ...info } },
    },
  };
}

export function localBlock(id: JsonRpcId, d: Decision): JsonRpcResponse {
  return blockedResult(id, { policy: d.policy, policyId: d.policyId, policyVersion: d.policyVersion, reason: d.reason, source: 'local' });
}

/** The gate's -32001 (message `Blocked by Sentrail policy: <reason>`, maybe `data.sentrail`). */
export function gateBlock(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse {
  const data = (error.data as { sentrail?: Partial<BlockInfo> } | undefined)?.sentrail;
  const reason = data?.reason ?? error.message.replace(/^Blocked by Sentrail policy:\s*/i, '');
  const named = /Policy "([^"]+)" matched/.exec(reason)?.[1] ?? null;
  return blockedResult(id, {
    policy: data?.policy ?? named,
    policyId: data?.policyId ?? null,
    policyVersion: data?.policyVersion ?? null,
    reason,
    source: 'gate',
  });
}

/** A tool call that did not happen, and what the user can do about it. */
export function unavailableResult(id: JsonRpcId, text: string, status: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result: { isError: true, content: [{ type: 'text', text }], _meta: { sentrail: { status } } } };
}
