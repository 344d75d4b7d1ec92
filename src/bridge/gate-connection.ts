// The bridge's upstream as the relay sees it: one logical connection to the gate that survives
// what a long-lived stdio session meets. A lost session is re-initialized with the client's own
// `initialize`; an unreachable gate is retried on the next request (with backoff); a 401 reloads
// the credential once. A credential that is about to expire is renewed before it is sent (one
// renewal at a time in this process; src/auth/oauth/refresh.ts coordinates the processes). Every
// failure reaches the relay, which answers the requests involved.
import { expired, refreshDue } from '../auth/refresh-timing.ts';
import { isRequest, isResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import { UpstreamError, type UpstreamTransport } from '../relay/relay.ts';
import { RenewalError, type Credential, type CredentialSource } from './credentials.ts';
import type { HttpClient } from './http-client.ts';
import { LegacySseClient } from './legacy-sse.ts';
import { StreamableHttpClient } from './streamable-http.ts';

export type TransportChoice = 'auto' | 'http' | 'sse';

export interface GateConnectionOptions {
  url: URL;
  http: HttpClient;
  credentials: CredentialSource;
  agent: () => string;
  transport: TransportChoice;
  initializeTimeoutMs?: number;
  /**
   * Whether the client still waits for the request `id` (the relay knows): a request the gate
   * refused for a lost session is re-sent on the new one only then.
   */
  stillWanted?: (id: JsonRpcId) => boolean;
  log: { debug(m: string, f?: Record<string, unknown>): void; info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void };
}

type Client = StreamableHttpClient | LegacySseClient;

/** How long a new session may take when no client waits on it (reconnects, retries). */
export const REOPEN_TIMEOUT_MS = 10_000;

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** A credential that could not be renewed, as the relay reports failures. */
function renewalFailure(err: unknown): unknown {
  if (!(err instanceof RenewalError)) return err;
  return new UpstreamError(err.message, -32000, undefined, err.kind === 'login' ? 'login-needed' : 'auth-unavailable');
}

export class GateConnection implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;
  /** The gate became unreachable: what is in flight will not be answered. */
  ondisconnect?: (error: UpstreamError) => void;
  /** The session was lost and a new one is being made: in-flight requests are void. */
  onsessionlost?: (error: UpstreamError) => void;
  /** A new session is ready after a loss or an outage: tell the client to list tools again. */
  onsessionrestored?: () => void;

  private client: Client | null = null;
  private kind: 'http' | 'sse' | null = null;
  private credential: Credential | null = null;
  private initRequest: JsonRpcRequest | null = null;
  private initialized = false;
  private reconnecting: Promise<void> | null = null;
  private nextAttemptAt = 0;
  private backoffMs = 500;
  private internalId = 0;
  private readonly waiters = new Map<string, (res: JsonRpcResponse) => void>();
  /** Requests in send() not yet handed to a client transport (waiting for a session, say). */
  private readonly queued = new Set<string>();
  /** Requests the gate refused for a lost session, to be sent again on the new one (not failed meanwhile). */
  private readonly resending = new Set<string>();
  /** The client's initialize on its way: later messages wait for it. */
  private opening: Promise<void> | null = null;
  private releaseOpening: (() => void) | null = null;
  /** notifications/initialized on its way: separate POSTs may overtake each other, so later ones wait. */
  private announcing: Promise<void> | null = null;
  private closed = false;
  /** The renewal in progress: concurrent requests share it. */
  private renewing: Promise<Credential | null> | null = null;

  constructor(private readonly opts: GateConnectionOptions) {}

  get connected(): boolean {
    return this.client !== null;
  }

  get transportKind(): 'http' | 'sse' | null {
    return this.kind;
  }

  get credentialOrigin(): Credential['origin'] | null {
    return this.credential?.origin ?? null;
  }

  async start(): Promise<void> {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'x-agent-id': this.opts.agent() };
    if (this.credential) h.authorization = `Bearer ${this.credential.token}`;
    return h;
  }

  private makeClient(kind: 'http' | 'sse'): Client {
    const common = { url: this.opts.url, http: this.opts.http, headers: () => this.headers(), onDebug: (m: string, f?: Record<string, unknown>) => this.opts.log.debug(m, f) };
    const client = kind === 'http' ? new StreamableHttpClient(common) : new LegacySseClient(common);
    client.onmessage = (m) => this.fromGate(client, m);
    client.onrequestfailed = (id, err) => {
      if (client === this.client) this.onrequestfailed?.(id, err);
    };
    client.onunreachable = (err) => {
      if (client === this.client) this.down(err);
    };
    client.onsessionlost = (err) => {
      if (client === this.client) void this.sessionLost(err);
    };
    return client;
  }

  private fromGate(client: Client, m: JsonRpcMessage): void {
    if (client !== this.client) return;
    if (isResponse(m) && m.id !== undefined) {
      const waiter = this.waiters.get(JSON.stringify(m.id));
      if (waiter) {
        this.waiters.delete(JSON.stringify(m.id));
        waiter(m);
        return;
      }
    }
    this.onmessage?.(m);
  }

  /**
   * Sends `req` on `client` and waits for its response (used for initialize only). Settles once:
   * with the answer, with the failure of the send or of the stream, or when `signal` aborts.
   */
  private call(client: Client, req: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse> {
    const key = JSON.stringify(req.id);
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      const done = () => {
        this.waiters.delete(key);
        signal.removeEventListener('abort', onAbort);
        client.onrequestfailed = (id, err) => {
          if (client === this.client) this.onrequestfailed?.(id, err);
        };
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(key, (res) => {
        done();
        resolve(res);
      });
      client.onrequestfailed = (id, err) => {
        if (JSON.stringify(id) === key) {
          done();
          reject(err);
        } else if (client === this.client) this.onrequestfailed?.(id, err);
      };
      client.send(req).catch((err: unknown) => {
        done();
        reject(err);
      });
    });
  }

  /**
   * The client's initialize has arrived: what it pipelines behind (stdin is an ordered stream)
   * waits until the session exists, even before initialize itself reaches this class.
   */
  expectInitialize(): void {
    if (this.opening) return;
    this.opening = new Promise<void>((resolve) => (this.releaseOpening = resolve));
  }

  /**
   * Opens the session with the client's own initialize and returns the gate's answer, or throws
   * within `timeoutMs` (the session interceptor answers the client itself then, and retries).
   */
  async initialize(req: JsonRpcRequest, timeoutMs = this.opts.initializeTimeoutMs ?? REOPEN_TIMEOUT_MS): Promise<JsonRpcResponse> {
    this.expectInitialize();
    this.initRequest = req;
    try {
      return await this.open(req, timeoutMs);
    } finally {
      const release = this.releaseOpening;
      this.opening = null;
      this.releaseOpening = null;
      release?.();
    }
  }

  /**
   * Opens a session, all of it (credential, stream, initialize) within `timeoutMs`: a gate that
   * accepts the connection and never answers is a failure like any other, not a wait without end.
   * At the deadline the attempt is aborted (its sockets closed) and its later failure ignored.
   */
  private async open(req: JsonRpcRequest, timeoutMs: number): Promise<JsonRpcResponse> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new UpstreamError(`the gate did not answer initialize within ${seconds(timeoutMs)}`, -32000, undefined, 'timeout');
        abort.abort(err);
        reject(err);
      }, timeoutMs);
    });
    const attempt = this.openUntil(req, abort.signal);
    attempt.catch(() => {}); // once the deadline has passed, how the attempt ends is no one's concern
    try {
      return await Promise.race([attempt, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Tries Streamable HTTP, then legacy SSE when the gate answers 400, 404 or 405
   * (gate-protocol.md) unless forced. Stops as soon as `signal` aborts.
   */
  private async openUntil(req: JsonRpcRequest, signal: AbortSignal): Promise<JsonRpcResponse> {
    await this.freshCredential();
    const kinds: ('http' | 'sse')[] = this.opts.transport === 'sse' ? ['sse'] : this.opts.transport === 'http' ? ['http'] : this.kind ? [this.kind] : ['http', 'sse'];
    let lastError: unknown;
    for (const kind of kinds) {
      for (let attempt = 0; attempt < 2; attempt++) {
        if (signal.aborted) throw signal.reason;
        const client = this.makeClient(kind);
        const previous = this.client;
        this.client = client;
        if (previous && previous !== client) void previous.close();
        const onAbort = () => {
          // At once, not when the attempt notices: a retry must find no half-open client.
          if (this.client === client) this.client = null;
          void client.close();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          if (client instanceof LegacySseClient) await client.start();
          const res = await this.call(client, req, signal);
          if (signal.aborted) throw signal.reason; // answered, but too late: the caller has moved on
          this.kind = kind;
          const version = 'result' in res ? (res.result as { protocolVersion?: unknown }).protocolVersion : undefined;
          if (typeof version === 'string') client.protocolVersion = version;
          this.opts.log.debug('session opened with the gate', { transport: kind, protocolVersion: version });
          return res;
        } catch (err) {
          lastError = err;
          if (this.client === client) this.client = null;
          void client.close();
          if (signal.aborted) throw signal.reason;
          const e = err as UpstreamError;
          if (e.kind === 'unauthorized' && attempt === 0 && this.credential) {
            const next = await this.renew(this.credential);
            if (next) {
              this.opts.log.info('the gate refused the credential; retrying with a newer one', { origin: next.origin });
              continue;
            }
          }
          break;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }
      const e = lastError as UpstreamError;
      const fallback = this.opts.transport === 'auto' && kind === 'http' && e?.kind !== undefined && [400, 404, 405].includes(e.status ?? 0);
      if (!fallback) break;
      this.opts.log.debug('the gate does not speak Streamable HTTP here; trying legacy SSE', { status: e.status });
    }
    throw lastError;
  }

  /** A new session with the client's cached `initialize`, then `notifications/initialized`. */
  private async reopen(): Promise<void> {
    if (!this.initRequest) throw new UpstreamError('the client has not initialized yet', -32000, undefined, 'closed');
    const req: JsonRpcRequest = { ...this.initRequest, id: `sentrail-initialize-${++this.internalId}` };
    const res = await this.open(req, this.opts.initializeTimeoutMs ?? REOPEN_TIMEOUT_MS);
    const client = this.client!;
    try {
      if ('error' in res) throw new UpstreamError(`the gate refused to initialize: ${res.error.message}`, res.error.code, res.error.data, 'http');
      if (this.initialized) await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } catch (err) {
      // Half a session is none: the next attempt starts over rather than use it.
      if (this.client === client) this.client = null;
      void client.close();
      throw err;
    }
    this.backoffMs = 500;
    this.nextAttemptAt = 0;
    this.opts.log.info('reconnected to the gate with a new session');
    this.onsessionrestored?.();
  }

  /** Reconnects once (shared by concurrent callers), not more often than the backoff allows. */
  private async ensureConnected(): Promise<void> {
    if (this.client || this.closed) return;
    if (this.reconnecting) return this.reconnecting;
    const now = Date.now();
    if (now < this.nextAttemptAt) {
      throw new UpstreamError(`the gate is unreachable; next attempt in ${Math.ceil((this.nextAttemptAt - now) / 1000)} s`, -32000, undefined, 'unreachable');
    }
    this.reconnecting = this.reopen()
      .catch((err) => {
        this.nextAttemptAt = Date.now() + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
        throw err;
      })
      .finally(() => {
        this.reconnecting = null;
      });
    return this.reconnecting;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (!isRequest(message)) return this.sendNow(message);
    // Until it is handed to a client transport, a request can be abandoned here (see abandon()).
    const key = JSON.stringify(message.id);
    this.queued.add(key);
    try {
      return await this.sendNow(message, () => {
        if (!this.queued.delete(key)) throw new UpstreamError('the request was abandoned before it was sent', -32000, undefined, 'closed');
      });
    } finally {
      this.queued.delete(key);
    }
  }

  /** True while `id` waits to be sent again on a new session (the relay must not fail it meanwhile). */
  isResending(id: JsonRpcId): boolean {
    return this.resending.has(JSON.stringify(id));
  }

  private async sendNow(message: JsonRpcMessage, handOver: () => void = () => {}, resent = false): Promise<void> {
    if (this.closed) throw new UpstreamError('the bridge is shutting down', -32000, undefined, 'closed');
    if ('method' in message && message.method === 'notifications/initialized') this.markClientInitialized();
    if (this.opening) await this.opening;
    if (!this.client) {
      if (!isRequest(message)) return; // a notification or response for a session that is gone
      try {
        await this.ensureConnected();
      } catch (err) {
        // The request waited for a new session that did not come: it was never sent.
        const e = err as UpstreamError;
        if (e.kind === 'timeout') throw new UpstreamError(e.message, e.code, e.data, 'unreachable');
        throw err;
      }
    }
    const client = this.client;
    if (!client) throw new UpstreamError('the bridge is shutting down', -32000, undefined, 'closed');
    if ('method' in message && message.method === 'notifications/initialized') {
      const sending = client.send(message);
      this.announcing = sending.then(
        () => undefined,
        () => undefined,
      );
      try {
        await sending;
      } finally {
        this.announcing = null;
      }
      return;
    }
    if (this.announcing) await this.announcing;
    await this.freshCredential();
    // The relay may have given up meanwhile (its request timeout ran out while a new session was
    // being opened): then the request is not sent at all, rather than sent to no one's benefit.
    handOver();
    try {
      await client.send(message);
    } catch (err) {
      const e = err as UpstreamError;
      if (e.kind === 'unauthorized' && this.credential && isRequest(message)) {
        const next = await this.renew(this.credential);
        if (next) {
          this.opts.log.info('the gate refused the credential; retrying with a newer one', { origin: next.origin });
          await client.send(message);
          return;
        }
      }
      // The gate refused this very POST for its session (404/400 before processing it): the call
      // did not run, so it is sent once more on a new session instead of failing back to the agent.
      if (e.kind === 'session-lost' && isRequest(message) && !resent && this.opts.stillWanted?.(message.id)) {
        const key = JSON.stringify(message.id);
        this.resending.add(key);
        try {
          await this.sessionLost(e);
          await this.ensureConnected();
        } catch {
          throw err;
        } finally {
          this.resending.delete(key);
        }
        if (!this.opts.stillWanted(message.id)) throw err;
        this.opts.log.info('re-sent a request on the new session: the gate had refused it for the lost one', { method: message.method });
        return this.sendNow(message, () => {}, true);
      }
      if (e.kind === 'session-lost') void this.sessionLost(e);
      if (e.kind === 'unreachable' && client === this.client) this.down(e);
      throw err;
    }
  }

  /** The relay gave up on the request `id` (timeout, or the client cancelled it). */
  abandon(id: JsonRpcId): void {
    if (this.queued.delete(JSON.stringify(id))) return; // not sent yet: it will not be
    this.client?.abandon(id);
  }

  private down(error: UpstreamError): void {
    if (!this.client) return;
    this.opts.log.warn('lost the gate', { error: error.message });
    const client = this.client;
    this.client = null;
    void client.close();
    this.ondisconnect?.(error);
  }

  private async sessionLost(error: UpstreamError): Promise<void> {
    if (!this.client) return;
    this.opts.log.warn('the gate lost the session; starting a new one', { error: error.message });
    const client = this.client;
    this.client = null;
    void client.close();
    this.onsessionlost?.(error);
    try {
      await this.ensureConnected();
    } catch (err) {
      this.opts.log.warn('could not start a new session yet; will retry on the next request', { error: (err as Error).message });
    }
  }

  /**
   * A new credential for `stale` (renewed, or newer in the store), which becomes the one in use;
   * null when there is none. One renewal at a time: concurrent callers share it. Throws an
   * UpstreamError (`login-needed`, `auth-unavailable`) when the source says why there is none.
   */
  private async renew(stale: Credential): Promise<Credential | null> {
    this.renewing ??= this.opts.credentials
      .refresh(stale)
      .then((next) => {
        if (next) this.credential = next;
        return next;
      })
      .finally(() => {
        this.renewing = null;
      });
    try {
      return await this.renewing;
    } catch (err) {
      throw renewalFailure(err);
    }
  }

  /**
   * Loads the credential and renews it when less than min(60 s, a tenth of its lifetime) remains.
   * A renewal that fails while the token still works is only logged; once it has expired, sending
   * it is pointless and the failure is the request's. A credential without an expiry (API keys)
   * costs nothing here: no store, no lock, no OAuth code.
   */
  private async freshCredential(): Promise<void> {
    this.credential ??= await this.opts.credentials.get();
    const current = this.credential;
    if (!current || !refreshDue(current)) return;
    let failure: unknown;
    try {
      if (await this.renew(current)) return;
    } catch (err) {
      failure = err;
    }
    if (!expired(current)) {
      if (failure) this.opts.log.warn('could not renew the credential yet; using it until it expires', { error: (failure as Error).message });
      return;
    }
    throw failure ?? new UpstreamError('the login has expired and there is no newer one', -32000, undefined, 'login-needed');
  }

  /** Authorization and agent headers with a credential renewed if due (the policy pull). */
  async freshAuthHeaders(): Promise<Record<string, string>> {
    try {
      await this.freshCredential();
    } catch (err) {
      this.opts.log.debug('sending the last credential: it could not be renewed', { error: (err as Error).message });
    }
    return this.headers();
  }

  /** Loads the credential ahead of the first request (the policy pull goes out before initialize). */
  async prepare(): Promise<Credential | null> {
    this.credential ??= await this.opts.credentials.get();
    return this.credential;
  }

  /** The client sent notifications/initialized (while the bridge was answering it alone). */
  markClientInitialized(): void {
    this.initialized = true;
  }

  /** Tries a new session now (used while unavailable); throws what went wrong. */
  async reconnect(): Promise<void> {
    this.nextAttemptAt = 0;
    this.credential = null; // re-read: the user may have logged in or set a key meanwhile
    await this.ensureConnected();
  }

  /** Ends the gate session (DELETE) and stops every stream, within `timeoutMs`. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (client) {
      await client.terminate(timeoutMs);
      await client.close();
    }
    this.onclose?.();
  }
}
