// The client end of a default-mode session: the SDK's server transport (Streamable HTTP or legacy
// SSE) seen as the relay's Transport. What it adds:
//  - each request's context (the X-Agent-Id of the POST that carried it) for the interceptors;
//  - where a server→client message goes on Streamable HTTP. A progress notification rides the SSE
//    response of the request that asked for it (`_meta.progressToken`); other requests and
//    notifications go on the session's GET stream, or, while none is open, on the response
//    stream of the latest request still in flight (else the SDK would drop them);
//  - a send that never rejects: the relay fires sends without awaiting them, and a client that
//    hung up must not crash the gate.
import type { Transport as SdkTransport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { idKey, isNotification, isRequest, isResponse, type JsonRpcId, type JsonRpcMessage } from '../relay/jsonrpc.ts';
import type { Transport } from '../relay/transport.ts';
import { agentFromHeaders, type RequestContexts } from './request-context.ts';

/** The SDK's server transports (StreamableHTTPServerTransport, SSEServerTransport) share its Transport shape. */
export type SdkServerTransport = SdkTransport;

export interface ClientTransportOptions {
  contexts: RequestContexts;
  /** Whether the client holds a GET stream open (always true for legacy SSE: it has only that one). */
  standaloneStreamOpen: () => boolean;
  log: { debug(m: string, f?: Record<string, unknown>): void };
}

const tokenKey = (token: unknown) => `${typeof token}:${String(token)}`;

export class GateClientTransport implements Transport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  /** Client requests not answered yet, oldest first. */
  private readonly inFlight = new Map<string, JsonRpcId>();
  private readonly progressTokens = new Map<string, JsonRpcId>();
  private readonly tokenOfRequest = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly inner: SdkServerTransport,
    private readonly opts: ClientTransportOptions,
  ) {
    inner.onmessage = (raw, extra) => {
      const message = raw as JsonRpcMessage;
      if (isRequest(message)) {
        opts.contexts.set(message, { agent: agentFromHeaders(extra?.requestInfo?.headers) });
        const key = idKey(message.id);
        this.inFlight.set(key, message.id);
        const token = (message.params?._meta as Record<string, unknown> | undefined)?.progressToken;
        if (token !== undefined) {
          this.progressTokens.set(tokenKey(token), message.id);
          this.tokenOfRequest.set(key, tokenKey(token));
        }
      }
      this.onmessage?.(message);
    };
    inner.onerror = (err) => this.onerror?.(err);
    inner.onclose = () => {
      if (this.closed) return;
      this.closed = true;
      this.onclose?.();
    };
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.closed) return;
    if (isResponse(message) && message.id !== undefined) this.settled(message.id);
    const relatedRequestId = isResponse(message) ? undefined : this.relatedRequestOf(message);
    try {
      await this.inner.send(message as never, relatedRequestId === undefined ? undefined : { relatedRequestId });
    } catch (err) {
      // The request's stream is gone (the client hung up on it): the GET stream may still carry it.
      if (relatedRequestId !== undefined) {
        try {
          await this.inner.send(message as never);
          return;
        } catch {
          // fall through to the log
        }
      }
      this.opts.log.debug('could not deliver a message to the client', { error: (err as Error).message, ...('method' in message ? { method: message.method } : { id: message.id }) });
    }
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  private relatedRequestOf(message: JsonRpcMessage): JsonRpcId | undefined {
    if (isNotification(message) && message.method === 'notifications/progress') {
      const related = this.progressTokens.get(tokenKey(message.params?.progressToken));
      if (related !== undefined) return related;
    }
    if (this.opts.standaloneStreamOpen() || this.inFlight.size === 0) return undefined;
    return [...this.inFlight.values()].at(-1);
  }

  private settled(id: JsonRpcId): void {
    const key = idKey(id);
    this.inFlight.delete(key);
    const token = this.tokenOfRequest.get(key);
    if (token !== undefined) {
      this.tokenOfRequest.delete(key);
      this.progressTokens.delete(token);
    }
  }
}
