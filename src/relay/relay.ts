// The relay core shared by the bridge and the local gate: a faithful JSON-RPC pipe between a
// client-side transport and an upstream transport, with interceptors in between (policy now;
// approvals and audit next). It forwards; it does not re-implement MCP. Its one promise beyond
// forwarding: every request from the client gets exactly one response.
import {
  ErrorCode,
  errorResponse,
  idKey,
  isNotification,
  isRequest,
  isResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from './jsonrpc.ts';
import type { Transport } from './transport.ts';

/** An upstream can also fail a request it accepted (its stream ended before the answer). */
export interface UpstreamTransport extends Transport {
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;
}

/**
 * Why a request got no answer from the upstream. `unreachable`: it was not sent. `interrupted`:
 * it was sent and the connection ended before the answer (it may have run).
 */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly code: number = ErrorCode.ConnectionClosed,
    readonly data?: unknown,
    /** What went wrong, for interceptors that turn failures into friendly results. */
    readonly kind: 'unreachable' | 'interrupted' | 'session-lost' | 'unauthorized' | 'login-needed' | 'auth-unavailable' | 'no-upstream' | 'http' | 'closed' = 'http',
    /** The HTTP status behind it, when there was one. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface Interceptor {
  /**
   * Called synchronously as each client message arrives, before any interceptor awaits anything:
   * the place to note what later messages must wait for (their processing is concurrent).
   */
  arrived?(message: JsonRpcMessage): void;
  /** A client request before it is forwarded: return a response to answer it here instead. */
  request?(req: JsonRpcRequest): JsonRpcResponse | undefined | Promise<JsonRpcResponse | undefined>;
  /** The upstream's response to a client request, before the client sees it. */
  response?(req: JsonRpcRequest, res: JsonRpcResponse): JsonRpcResponse | Promise<JsonRpcResponse>;
  /** The request could not be forwarded or was lost upstream: shape the answer (first one wins). */
  failure?(req: JsonRpcRequest, error: UpstreamError): JsonRpcResponse | undefined;
  /** A notification from the client; return true to keep it from the upstream. */
  notification?(n: JsonRpcNotification): boolean | void;
}

export interface RelayLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface RelayOptions {
  client: Transport;
  upstream: UpstreamTransport;
  interceptors?: Interceptor[];
  log?: RelayLogger;
  /** Responses to ids the relay did not forward (the composition's own requests upstream). */
  onInternalResponse?: (res: JsonRpcResponse) => boolean;
}

interface Pending {
  request: JsonRpcRequest;
  forwarded: boolean;
}

export class Relay {
  private readonly pending = new Map<string, Pending>();
  private readonly interceptors: Interceptor[];
  private readonly log: RelayLogger | undefined;

  constructor(private readonly opts: RelayOptions) {
    this.interceptors = opts.interceptors ?? [];
    this.log = opts.log;
    opts.client.onmessage = (m) => void this.fromClient(m);
    opts.upstream.onmessage = (m) => void this.fromUpstream(m);
    opts.upstream.onrequestfailed = (id, err) => this.failOne(id, toUpstreamError(err));
  }

  /** Requests the client is still waiting for (forwarded or not). */
  get inFlight(): number {
    return this.pending.size;
  }

  async fromClient(message: JsonRpcMessage): Promise<void> {
    for (const i of this.interceptors) i.arrived?.(message);
    if (isRequest(message)) return this.clientRequest(message);
    if (isNotification(message)) {
      for (const i of this.interceptors) if (i.notification?.(message)) return;
      return this.forward(message);
    }
    // A response to a request the upstream sent (sampling, elicitation, roots/list, ping).
    return this.forward(message);
  }

  private async clientRequest(req: JsonRpcRequest): Promise<void> {
    const key = idKey(req.id);
    if (this.pending.has(key)) {
      void this.toClient(errorResponse(req.id, ErrorCode.InvalidRequest, `Invalid Request: id ${JSON.stringify(req.id)} is already in use by a request in flight`));
      return;
    }
    const entry: Pending = { request: req, forwarded: false };
    this.pending.set(key, entry);
    try {
      for (const i of this.interceptors) {
        const answer = await i.request?.(req);
        if (answer) return this.answer(req.id, answer);
      }
    } catch (err) {
      this.log?.warn('an interceptor failed; answering with an internal error', { method: req.method, error: (err as Error).message });
      return this.answer(req.id, errorResponse(req.id, ErrorCode.InternalError, `Internal error in sentrail: ${(err as Error).message}`));
    }
    if (!this.pending.has(key)) return; // failed meanwhile (e.g. shutdown)
    entry.forwarded = true;
    try {
      await this.opts.upstream.send(req);
    } catch (err) {
      this.failOne(req.id, toUpstreamError(err));
    }
  }

  private async forward(message: JsonRpcMessage): Promise<void> {
    try {
      await this.opts.upstream.send(message);
    } catch (err) {
      this.log?.debug('could not forward a message upstream', { error: (err as Error).message });
    }
  }

  async fromUpstream(message: JsonRpcMessage): Promise<void> {
    if (!isResponse(message)) {
      // Requests and notifications from the server pass to the client unchanged.
      await this.toClient(message);
      return;
    }
    const key = message.id === undefined ? undefined : idKey(message.id);
    const entry = key === undefined ? undefined : this.pending.get(key);
    if (!entry || !entry.forwarded) {
      if (this.opts.onInternalResponse?.(message)) return;
      this.log?.debug('dropped a response nobody is waiting for', { id: message.id });
      return;
    }
    let res: JsonRpcResponse = message;
    try {
      for (const i of this.interceptors) if (i.response) res = await i.response(entry.request, res);
    } catch (err) {
      res = errorResponse(entry.request.id, ErrorCode.InternalError, `Internal error in sentrail: ${(err as Error).message}`);
    }
    this.answer(entry.request.id, res);
  }

  /** Answers one pending request, once; later answers for the same id are dropped. */
  answer(id: JsonRpcId, res: JsonRpcResponse): void {
    const key = idKey(id);
    if (!this.pending.delete(key)) return;
    void this.toClient(res.id === id ? res : { ...res, id });
  }

  /** A client that went away must not take the process with it: a failed send is logged. */
  private async toClient(message: JsonRpcMessage): Promise<void> {
    try {
      await this.opts.client.send(message);
    } catch (err) {
      this.log?.debug('could not send to the client', { error: (err as Error).message });
    }
  }

  private failOne(id: JsonRpcId, error: UpstreamError): void {
    const entry = this.pending.get(idKey(id));
    if (!entry) return;
    this.answer(id, this.failureResponse(entry.request, error));
  }

  private failureResponse(req: JsonRpcRequest, error: UpstreamError): JsonRpcResponse {
    for (const i of this.interceptors) {
      const shaped = i.failure?.(req, error);
      if (shaped) return shaped;
    }
    return errorResponse(req.id, error.code, error.message, error.data);
  }

  /** Answers every forwarded request still waiting (the upstream is gone or its session was lost). */
  failForwarded(error: UpstreamError): number {
    let n = 0;
    for (const entry of [...this.pending.values()]) {
      if (!entry.forwarded) continue;
      this.answer(entry.request.id, this.failureResponse(entry.request, error));
      n++;
    }
    return n;
  }

  /** Answers everything still waiting, forwarded or not (shutdown). */
  failAll(error: UpstreamError): void {
    for (const entry of [...this.pending.values()]) this.answer(entry.request.id, this.failureResponse(entry.request, error));
  }
}

function toUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError((err as Error)?.message ?? String(err), ErrorCode.ConnectionClosed, undefined, 'unreachable');
}
