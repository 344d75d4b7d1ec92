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
import { Deadlines } from './deadlines.ts';
import type { Transport } from './transport.ts';

/** An upstream can also fail a request it accepted (its stream ended before the answer). */
export interface UpstreamTransport extends Transport {
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;
  /** The relay no longer waits for `id` (timed out, or cancelled by the client): free what carries it. */
  abandon?(id: JsonRpcId): void;
}

/**
 * Why a request got no answer from the upstream. `unreachable`: it was not sent. `interrupted`:
 * it was sent and the connection ended before the answer (it may have run). `timeout`: it was
 * sent and the upstream said nothing within the time allowed (it may have run, or still run).
 */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly code: number = ErrorCode.ConnectionClosed,
    readonly data?: unknown,
    /** What went wrong, for interceptors that turn failures into friendly results. */
    readonly kind: 'unreachable' | 'interrupted' | 'timeout' | 'session-lost' | 'unauthorized' | 'login-needed' | 'auth-unavailable' | 'no-upstream' | 'http' | 'closed' = 'http',
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
  /**
   * How long a forwarded request may go without a word from the upstream (Deadlines); then the
   * client gets an answer (a `timeout` failure) and the upstream `notifications/cancelled`.
   * Null or 0: no bound (the client's own timeout and cancel apply).
   */
  requestTimeoutMs?: (req: JsonRpcRequest) => number | null;
  /**
   * A request the client cancels is forgotten: never answered (MCP: the client ignores an answer
   * anyway), its deadline cleared, its upstream exchange abandoned. Off by default: a relay whose
   * client transport needs an answer to close a stream (the gate's HTTP side) keeps waiting.
   */
  forgetCancelled?: boolean;
  /** Every answer the client gets to one of its requests, with that request (the audit's hook). */
  onAnswer?: (req: JsonRpcRequest, res: JsonRpcResponse) => void;
}

interface Pending {
  request: JsonRpcRequest;
  /** Sent upstream, its answer not arrived yet (what an upstream outage or timeout affects). */
  forwarded: boolean;
  /** Its `_meta.progressToken`, keyed as the upstream's progress notifications name it. */
  progressKey?: string;
}

export class Relay {
  private readonly pending = new Map<string, Pending>();
  private readonly interceptors: Interceptor[];
  private readonly log: RelayLogger | undefined;
  private readonly deadlines = new Deadlines((key, ms) => this.expire(key, ms));
  /** Progress tokens of forwarded requests → their pending keys. */
  private readonly progress = new Map<string, string>();

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
      const cancelled = message.method === 'notifications/cancelled' ? this.cancelled(message) : undefined;
      if (cancelled === 'not-sent') return; // it never left: nothing upstream to tell
      for (const i of this.interceptors) if (i.notification?.(message)) return;
      const telling = this.forward(message);
      if (cancelled) this.opts.upstream.abandon?.(cancelled.request.id);
      return telling;
    }
    // A response to a request the upstream sent (sampling, elicitation, roots/list, ping).
    if (isResponse(message) && message.id !== undefined) this.deadlines.resume(idKey(message.id));
    return this.forward(message);
  }

  /** The client cancelled a request: with forgetCancelled, it is dropped here. */
  private cancelled(n: JsonRpcNotification): Pending | 'not-sent' | undefined {
    if (!this.opts.forgetCancelled) return undefined;
    const id = (n.params as { requestId?: unknown } | undefined)?.requestId;
    if (typeof id !== 'string' && typeof id !== 'number') return undefined;
    const entry = this.pending.get(idKey(id));
    if (!entry) return undefined;
    this.forget(idKey(id));
    this.log?.debug('the client cancelled a request', { id, method: entry.request.method, forwarded: entry.forwarded });
    return entry.forwarded ? entry : 'not-sent';
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
    if (this.pending.get(key) !== entry) return; // failed or cancelled meanwhile
    entry.forwarded = true;
    this.watch(key, entry);
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
      this.noteUpstream(message);
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
    // The upstream has answered: its part is over. The deadline measured its silence, and an outage
    // from now on cannot affect the request, so neither applies while interceptors shape the answer
    // (which may take minutes: a call held for approval, approval-interceptor.ts).
    this.deadlines.clear(key!);
    entry.forwarded = false;
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
    const request = this.pending.get(idKey(id))?.request;
    if (!this.forget(idKey(id))) return;
    const out = res.id === id ? res : { ...res, id };
    if (request && this.opts.onAnswer) {
      try {
        this.opts.onAnswer(request, out);
      } catch (err) {
        this.log?.warn('the answer observer failed', { error: (err as Error).message });
      }
    }
    void this.toClient(out);
  }

  /** Removes a pending request and what watches it; false when it was not pending. */
  private forget(key: string): boolean {
    const entry = this.pending.get(key);
    if (!entry) return false;
    this.pending.delete(key);
    this.deadlines.clear(key);
    if (entry.progressKey !== undefined && this.progress.get(entry.progressKey) === key) this.progress.delete(entry.progressKey);
    return true;
  }

  /** A forwarded request gets its deadline, and its progress token is noted (progress restarts it). */
  private watch(key: string, entry: Pending): void {
    const ms = this.opts.requestTimeoutMs?.(entry.request);
    if (!ms) return;
    const token = (entry.request.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta?.progressToken;
    if (typeof token === 'string' || typeof token === 'number') {
      entry.progressKey = JSON.stringify(token);
      this.progress.set(entry.progressKey, key);
    }
    this.deadlines.arm(key, ms);
  }

  /** What the upstream's own messages say about the requests in flight. */
  private noteUpstream(message: JsonRpcMessage): void {
    if (isRequest(message)) return this.deadlines.pause(idKey(message.id));
    if (!isNotification(message)) return;
    const params = message.params as { progressToken?: unknown; requestId?: unknown } | undefined;
    if (message.method === 'notifications/progress') {
      const key = this.progress.get(JSON.stringify(params?.progressToken));
      if (key !== undefined) this.deadlines.touch(key);
    } else if (message.method === 'notifications/cancelled' && (typeof params?.requestId === 'string' || typeof params?.requestId === 'number')) {
      this.deadlines.resume(idKey(params.requestId)); // the upstream withdrew its own request
    }
  }

  /** A forwarded request ran out of time: the client is answered, the upstream told to stop. */
  private expire(key: string, ms: number): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    const id = entry.request.id;
    const after = ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
    this.log?.warn('the upstream did not answer in time; answering the client and cancelling the request upstream', { method: entry.request.method, id, after });
    this.answer(id, this.failureResponse(entry.request, new UpstreamError(`no answer within ${after}`, ErrorCode.ConnectionClosed, undefined, 'timeout')));
    void this.forward({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: `no answer within ${after}` } });
    this.opts.upstream.abandon?.(id);
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
  /** True while the client still waits for an answer to `id`. */
  isPending(id: JsonRpcId): boolean {
    return this.pending.has(idKey(id));
  }

  failForwarded(error: UpstreamError, keep: (req: JsonRpcRequest) => boolean = () => false): number {
    let n = 0;
    for (const entry of [...this.pending.values()]) {
      if (!entry.forwarded || keep(entry.request)) continue;
      this.answer(entry.request.id, this.failureResponse(entry.request, error));
      n++;
    }
    return n;
  }

  /** Answers everything still waiting, forwarded or not (shutdown). */
  failAll(error: UpstreamError): void {
    for (const entry of [...this.pending.values()]) this.answer(entry.request.id, this.failureResponse(entry.request, error));
    this.deadlines.clearAll();
  }
}

function toUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError((err as Error)?.message ?? String(err), ErrorCode.ConnectionClosed, undefined, 'unreachable');
}
