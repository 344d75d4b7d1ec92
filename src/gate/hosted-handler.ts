// `--hosted`: /mcp-gate/sse exactly as the hosted gate serves it (gate-protocol.md's method table):
// plain JSON over POST, no sessions, no streams; initialize and ping answered by the gate,
// tools/list and tools/call through the policy to the one shared upstream, anything else -32601.
// Still the same relay and interceptors as the default mode: every POST's request is handed to one
// relay through a client transport that renumbers ids (many HTTP clients share one upstream, and
// all of them may use id 1) and hands each answer back to the POST waiting for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  classify,
  ErrorCode,
  errorResponse,
  idKey,
  isRequest,
  isResponse,
  resultResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../relay/jsonrpc.ts';
import { Relay, type Interceptor } from '../relay/relay.ts';
import type { Transport } from '../relay/transport.ts';
import type { ApprovalStore } from './approvals.ts';
import { BodyTooLargeError, readBody, sendEmpty, sendJson, sendJsonRpcError } from './http.ts';
import { createPolicyInterceptor } from './policy-interceptor.ts';
import type { PolicySource } from './policy-source.ts';
import { agentFromHeaders, RequestContexts, type RequestContext } from './request-context.ts';
import type { GateLogger } from './session.ts';
import type { SharedUpstream } from './shared-upstream.ts';
import { createToolsListCache } from './tools-list-cache.ts';

export const HOSTED_INITIALIZE_RESULT = {
  protocolVersion: '2024-11-05',
  capabilities: { tools: { listChanged: false } },
  serverInfo: { name: 'sentrail-mcp-gate', version: '1.0.0' },
};

const FORWARDED = new Set(['tools/list', 'tools/call']);

interface Answer {
  response: JsonRpcResponse;
  /** Answered because no upstream is connected: HTTP 424. */
  noUpstream: boolean;
}

/** The relay's client end in hosted mode: one per gate, fed by every POST. */
class HostedClientTransport implements Transport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private nextId = 0;
  private readonly waiting = new Map<string, { originalId: JsonRpcId; resolve: (a: Answer) => void }>();
  private readonly noUpstream = new Set<string>();

  constructor(
    private readonly contexts: RequestContexts,
    private readonly log: GateLogger,
  ) {}

  dispatch(req: JsonRpcRequest, context: RequestContext): Promise<Answer> {
    const internal: JsonRpcRequest = { ...req, id: ++this.nextId };
    this.contexts.set(internal, context);
    return new Promise((resolve) => {
      this.waiting.set(idKey(internal.id), { originalId: req.id, resolve });
      this.onmessage?.(internal);
    });
  }

  /** Marks a request the relay is failing for want of an upstream (see the failure hook below). */
  markNoUpstream(id: JsonRpcId): void {
    this.noUpstream.add(idKey(id));
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (isResponse(message)) {
      const key = message.id === undefined ? undefined : idKey(message.id);
      const entry = key === undefined ? undefined : this.waiting.get(key);
      if (!entry || key === undefined) return;
      this.waiting.delete(key);
      entry.resolve({ response: { ...message, id: entry.originalId }, noUpstream: this.noUpstream.delete(key) });
      return;
    }
    if (isRequest(message)) {
      // A server→client request has no client to reach here: ping is answered, the rest refused.
      const answer = message.method === 'ping' ? resultResponse(message.id, {}) : errorResponse(message.id, ErrorCode.MethodNotFound, `Method not found: the hosted gate has no client to ask (${message.method})`);
      this.onmessage?.(answer);
      return;
    }
    this.log.debug('dropped a server notification (the hosted gate has no stream)', { method: message.method });
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The methods the hosted gate answers itself, and the 424 marking. */
function hostedMethods(transport: HostedClientTransport): Interceptor {
  return {
    request(req) {
      if (req.method === 'initialize') return resultResponse(req.id, HOSTED_INITIALIZE_RESULT);
      if (req.method === 'ping') return resultResponse(req.id, {});
      if (!FORWARDED.has(req.method)) return errorResponse(req.id, ErrorCode.MethodNotFound, `Method not found: ${req.method}`);
      return undefined;
    },
    failure(req, error) {
      if (error.kind === 'no-upstream') transport.markNoUpstream(req.id);
      return undefined;
    },
  };
}

export interface HostedDeps {
  upstream: SharedUpstream;
  policy: PolicySource;
  approvals: ApprovalStore;
  statusUrl: (approvalRequestId: string) => string;
  log: GateLogger;
  toolsListTtlMs?: number;
}

export class HostedEndpoint {
  private readonly transport: HostedClientTransport;
  /** Kept for clarity: the relay lives as long as the endpoint (its transports hold it too). */
  readonly relay: Relay;

  constructor(private readonly deps: HostedDeps) {
    const contexts = new RequestContexts();
    this.transport = new HostedClientTransport(contexts, deps.log);
    const toolsList = createToolsListCache({ ttlMs: deps.toolsListTtlMs });
    deps.upstream.tap((m) => {
      if ('method' in m && m.method === 'notifications/tools/list_changed') toolsList.invalidate();
    });
    const policy = createPolicyInterceptor({ policy: deps.policy, approvals: deps.approvals, contexts, statusUrl: deps.statusUrl, log: deps.log });
    this.relay = new Relay({ client: this.transport, upstream: deps.upstream, interceptors: [hostedMethods(this.transport), toolsList, policy], log: deps.log });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendJsonRpcError(res, 405, ErrorCode.ConnectionClosed, 'Method not allowed: the hosted gate takes POST only', { Allow: 'POST' });
    let value: unknown;
    try {
      value = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendJsonRpcError(res, 413, ErrorCode.InvalidRequest, err.message);
      return sendJson(res, 400, errorResponse(undefined, ErrorCode.ParseError, 'Parse error: the body is not JSON'));
    }
    if (Array.isArray(value)) return sendJson(res, 400, errorResponse(undefined, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported'));
    const classified = classify(value);
    if (!classified.ok) return sendJson(res, 400, classified.error);
    const message = classified.message;
    // notifications/initialized and every other notification or response: accepted, nothing to say.
    if (!isRequest(message)) return sendEmpty(res, 202);
    const { response, noUpstream } = await this.transport.dispatch(message, { agent: agentFromHeaders(req.headers) });
    sendJson(res, noUpstream ? 424 : 200, response);
  }

  async close(): Promise<void> {
    await this.deps.upstream.kill();
  }
}
