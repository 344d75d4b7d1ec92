// The bridge's first check, as a relay interceptor: a tools/call the org policy certainly blocks
// is answered here and never sent; tools/list hides what every call of would certainly block; the
// gate's own blocks and every failure become tool results that say what happened.
import { decideLocally, isHiddenFromListing } from '../policy/decide.ts';
import { ErrorCode, errorResponse, type JsonRpcRequest, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import type { Interceptor, UpstreamError } from '../relay/relay.ts';
import { gateBlock, localBlock, unavailableResult } from './decision-results.ts';
import type { PolicySync } from './policy-sync.ts';

export interface PolicyInterceptorOptions {
  policy: PolicySync;
  agent: () => string;
  log: { info(m: string, f?: Record<string, unknown>): void; debug(m: string, f?: Record<string, unknown>): void };
  /** Seen when something fails: the gate's address, for messages. */
  gateLabel: string;
  /** Applied to every text the bridge composes: a gate may echo the credential in an error body. */
  redact: (text: string) => string;
}

export const LOGIN_HINT = 'Run `sentrail login` in a terminal (or set SENTRAIL_API_KEY), then try again: the bridge picks up the new credential without a restart.';

export function failureText(error: UpstreamError, gateLabel: string): { text: string; status: string } {
  switch (error.kind) {
    case 'unauthorized':
      return { text: `Sentrail: the gate ${gateLabel} refused the credential (${error.message}). The call was not made. ${LOGIN_HINT}`, status: 'unauthorized' };
    case 'login-needed':
      return { text: `Sentrail: your login for the gate ${gateLabel} cannot be renewed (${error.message}). The call was not made. ${LOGIN_HINT}`, status: 'login_required' };
    case 'auth-unavailable':
      return { text: `Sentrail: your login for the gate ${gateLabel} is due for renewal, but ${error.message}. The call was not made. Check your network, then try again; there is no need to log in again.`, status: 'auth_server_unreachable' };
    case 'no-upstream':
      return { text: `Sentrail: the gate ${gateLabel} has no MCP server connected to this workspace (HTTP 424). The call was not made. Ask your Sentrail admin to connect one.`, status: 'no_upstream' };
    case 'session-lost':
      return { text: `Sentrail: the gate lost this session while the call was in flight; a new session is being opened. The call may not have completed.`, status: 'session_lost' };
    case 'closed':
      return { text: 'Sentrail: the bridge is shutting down; the call was not made.', status: 'closed' };
    case 'interrupted':
      return { text: `Sentrail: the call reached the gate ${gateLabel}, but ${error.message.replace(/^the /, 'the ')}. It may or may not have run: check its effect before trying again.`, status: 'interrupted' };
    case 'timeout':
      return { text: `Sentrail: the gate ${gateLabel} did not answer the call (${error.message}). The bridge stopped waiting and asked the gate to cancel it; it may or may not have run: check its effect before trying again.`, status: 'timeout' };
    case 'unreachable':
      return { text: `Sentrail: cannot reach the gate ${gateLabel} (${error.message}). Nothing was sent: calls fail closed while the gate is unreachable. Check your network or the gate's status, then try again.`, status: 'gate_unreachable' };
    default:
      return { text: `Sentrail: the gate ${gateLabel} could not take the call (${error.message}).`, status: 'gate_error' };
  }
}

export function createPolicyInterceptor(opts: PolicyInterceptorOptions): Interceptor {
  return {
    async request(req: JsonRpcRequest) {
      if (req.method !== 'tools/call' && req.method !== 'tools/list') return undefined;
      const state = await opts.policy.ready();
      if (req.method !== 'tools/call' || state.kind !== 'active') return undefined;
      const params = req.params ?? {};
      const name = typeof params.name === 'string' ? params.name : '';
      if (!name) return undefined; // malformed: let the gate say so
      const { decision, certainBlock } = decideLocally(state.set, { tool: 'mcp', action: name, agent: opts.agent(), arguments: params.arguments });
      // Only the gate can create an approval request: the call goes there, and the approval
      // interceptor waits for the reviewer on the answer (approval-interceptor.ts).
      if (decision.mode === 'require_approval') opts.log.info('the org policy holds this call for approval; sending it to the gate, which creates the request', { tool: name, policy: decision.policy });
      if (!certainBlock) return undefined;
      opts.log.info('blocked locally', { tool: name, policy: decision.policy, reason: decision.reason });
      return localBlock(req.id, decision);
    },

    response(req: JsonRpcRequest, res: JsonRpcResponse) {
      if (req.method === 'tools/call' && 'error' in res && res.error.code === ErrorCode.Blocked) {
        opts.log.info('blocked by the gate', { tool: (req.params as { name?: string })?.name, message: res.error.message });
        return gateBlock(req.id, { ...res.error, message: opts.redact(res.error.message) });
      }
      if (req.method === 'tools/list' && 'result' in res && opts.policy.state.kind === 'active') {
        const tools = res.result.tools;
        if (!Array.isArray(tools)) return res;
        const set = opts.policy.state.set;
        const agent = opts.agent();
        const visible = tools.filter((t: { name?: unknown }) => typeof t?.name !== 'string' || !isHiddenFromListing(set, t.name, agent));
        if (visible.length === tools.length) return res;
        opts.log.debug('hid tools every call of which the org policy blocks', { hidden: tools.length - visible.length });
        return { ...res, result: { ...res.result, tools: visible } };
      }
      return res;
    },

    failure(req: JsonRpcRequest, error: UpstreamError) {
      // Tool calls fail as results the model can read; everything else as a JSON-RPC error.
      if (req.method !== 'tools/call') {
        if (error.kind !== 'timeout') return undefined;
        return errorResponse(req.id, ErrorCode.ConnectionClosed, `Sentrail: the gate ${opts.gateLabel} did not answer ${req.method} (${error.message}); the bridge stopped waiting and cancelled it`);
      }
      if (error.kind === 'session-lost') return undefined; // the issue: a JSON-RPC error, then list_changed
      const { text, status } = failureText(error, opts.gateLabel);
      return unavailableResult(req.id, opts.redact(text), status);
    },
  };
}
