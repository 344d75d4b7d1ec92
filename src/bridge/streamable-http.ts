// MCP Streamable HTTP, client side, as a relay needs it: POST each message, take the answer as
// JSON or as an SSE stream, keep the session id and protocol version, hold a GET stream open for
// what the server sends on its own, DELETE at the end. Unlike the SDK's transport it fails every
// request whose stream ends unanswered (instead of leaving it hanging), tells a lost session
// (404, or 400 naming the session) from other errors, and loads no schema library.
import { classify, isRequest, isResponse, type JsonRpcId, type JsonRpcMessage } from '../relay/jsonrpc.ts';
import { rememberText } from '../relay/raw-text.ts';
import { UpstreamError, type UpstreamTransport } from '../relay/relay.ts';
import { failedAnswer, isEventStream, isJsonType, unreachable, wrongMediaType } from './gate-answers.ts';
import type { HttpClient, HttpResponse } from './http-client.ts';
import { readSse } from './sse-reader.ts';

export interface HttpClientOptions {
  url: URL;
  http: HttpClient;
  /** Authorization and X-Agent-Id, read fresh for each request (a refreshed token takes effect at once). */
  headers: () => Record<string, string>;
  onDebug?: (message: string, fields?: Record<string, unknown>) => void;
}

/** How long a notification or a response to the gate may take to be acknowledged (202). */
export const ACK_TIMEOUT_MS = 10_000;

export class StreamableHttpClient implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;
  /** The GET stream could not be (re)opened because the gate is gone. */
  onunreachable?: (error: UpstreamError) => void;
  /** The GET stream learned the session is gone. */
  onsessionlost?: (error: UpstreamError) => void;

  sessionId: string | undefined;
  protocolVersion: string | undefined;
  private closed = false;
  private readonly controllers = new Set<AbortController>();
  /** Each request in flight: the POST that carries it, and the ids its answer stream still owes. */
  private readonly exchanges = new Map<string, { controller: AbortController; waiting: Set<string> }>();
  private getStreamOpen = false;
  private lastEventId: string | undefined;

  constructor(private readonly opts: HttpClientOptions) {}

  async start(): Promise<void> {}

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { ...this.opts.headers(), ...extra };
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) h['mcp-protocol-version'] = this.protocolVersion;
    return h;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.closed) throw new UpstreamError('the connection to the gate is closed', -32000, undefined, 'closed');
    const waiting = new Set<string>();
    const controller = new AbortController();
    this.controllers.add(controller);
    const request = isRequest(message);
    const key = request ? JSON.stringify(message.id) : undefined;
    if (key !== undefined) {
      waiting.add(key);
      this.exchanges.set(key, { controller, waiting });
    }
    // A request is bounded by whoever waits for it (the relay's request timeout, initialize's
    // deadline), through abandon() or close(). A notification or a response is acknowledged at
    // once (202): a gate that sits on one must not hold a socket, and what waits behind it, forever.
    const signal = request ? controller.signal : AbortSignal.any([controller.signal, AbortSignal.timeout(ACK_TIMEOUT_MS)]);
    const finish = () => {
      this.controllers.delete(controller);
      if (key !== undefined && this.exchanges.get(key)?.controller === controller) this.exchanges.delete(key);
    };
    // Why the exchange stopped, when it was stopped on purpose (not the gate's doing).
    const stopped = (): UpstreamError | null => {
      if (controller.signal.aborted) return new UpstreamError(this.closed ? 'the connection to the gate is closed' : 'the request was abandoned', -32000, undefined, 'closed');
      if (signal.aborted) return new UpstreamError(`the gate did not acknowledge the message within ${ACK_TIMEOUT_MS / 1000} s`, -32000, undefined, 'timeout');
      return null;
    };
    let res: HttpResponse;
    try {
      res = await this.opts.http(this.opts.url, {
        method: 'POST',
        headers: this.headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }),
        body: JSON.stringify(message),
        signal,
      });
    } catch (err) {
      finish();
      throw stopped() ?? unreachable(this.opts.url, err);
    }
    const hadSession = this.sessionId !== undefined;
    const sid = res.header('mcp-session-id');
    if (sid) this.sessionId = sid;
    if (res.status === 202 || res.status === 204) {
      finish();
      res.discard();
      if ('method' in message && message.method === 'notifications/initialized') this.openGetStream();
      return;
    }
    if (res.status < 200 || res.status > 299) {
      finish();
      throw await failedAnswer(res, this.opts.url, hadSession);
    }
    const type = res.header('content-type');
    if (isEventStream(type)) {
      // The answer comes as events; send() returns once the stream is open, as the SDK's does.
      void this.consumeStream(res, waiting, finish);
      return;
    }
    if (!isJsonType(type)) {
      finish();
      res.discard();
      const err = wrongMediaType(type, res.status);
      if (waiting.size === 0) return this.opts.onDebug?.('ignored an answer to a notification', { error: err.message });
      throw err;
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      finish();
      if (waiting.size === 0) return;
      // The gate had the request and began to answer: it may have acted on it.
      throw stopped() ?? new UpstreamError(`the connection broke before the gate's answer ended (${(err as Error).message})`, -32000, undefined, 'interrupted');
    }
    finish();
    if (text.trim() !== '') {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        if (waiting.size === 0) return;
        throw new UpstreamError(`the gate sent an answer that is not JSON (${(err as Error).message})`, -32000, undefined, 'http', res.status);
      }
      if (Array.isArray(value)) for (const item of value) this.deliver(item, waiting);
      else this.deliver(value, waiting, text);
    }
    this.failUnanswered(waiting, 'the gate answered without a response to the request');
  }

  /**
   * Stops waiting for the request `id` (the relay gave up on it, or the client cancelled it): its
   * HTTP exchange is aborted, so a gate that hangs does not keep a socket per abandoned call.
   */
  abandon(id: JsonRpcId): void {
    const key = JSON.stringify(id);
    const exchange = this.exchanges.get(key);
    if (!exchange) return;
    this.exchanges.delete(key);
    exchange.waiting.delete(key);
    if (exchange.waiting.size === 0) exchange.controller.abort();
  }

  /** Hands one message to the composition; false when it is not JSON-RPC (dropped). */
  private deliver(value: unknown, waiting: Set<string>, text?: string): boolean {
    const c = classify(value);
    if (!c.ok) {
      this.opts.onDebug?.('dropped an invalid message from the gate', { error: c.error.error.message });
      return false;
    }
    if (text !== undefined) rememberText(c.message, text);
    if (isResponse(c.message) && c.message.id !== undefined) waiting.delete(JSON.stringify(c.message.id));
    this.onmessage?.(c.message);
    return true;
  }

  private failUnanswered(waiting: Set<string>, why: string): void {
    for (const id of waiting) this.onrequestfailed?.(JSON.parse(id) as JsonRpcId, new UpstreamError(why, -32000, undefined, 'interrupted'));
    waiting.clear();
  }

  private async consumeStream(res: HttpResponse, waiting: Set<string>, finish: () => void): Promise<void> {
    let broke = false;
    let dropped = 0;
    try {
      await readSse(res.chunks(), (e) => {
        if (e.event !== undefined && e.event !== 'message') return;
        if (e.data.trim() === '') return; // priming events carry only an id
        try {
          const value = JSON.parse(e.data) as unknown;
          if (Array.isArray(value)) for (const item of value) dropped += this.deliver(item, waiting) ? 0 : 1;
          else dropped += this.deliver(value, waiting, e.data) ? 0 : 1;
        } catch (err) {
          dropped++;
          this.opts.onDebug?.('dropped an event that is not JSON', { error: (err as Error).message });
        }
      });
    } catch {
      broke = true;
    } finally {
      finish();
    }
    const garbage = dropped > 0 ? ` (it sent ${dropped} event${dropped === 1 ? '' : 's'} that ${dropped === 1 ? 'is' : 'are'} not JSON-RPC)` : '';
    if (waiting.size > 0) this.failUnanswered(waiting, this.closed ? 'the bridge is shutting down' : broke ? `the connection to the gate broke before it answered${garbage}` : `the gate ended the response stream before answering${garbage}`);
  }

  /** The GET stream for requests and notifications the server sends on its own (sampling, list_changed…). */
  openGetStream(): void {
    if (this.getStreamOpen || this.closed) return;
    this.getStreamOpen = true;
    void this.runGetStream();
  }

  private async runGetStream(): Promise<void> {
    let delay = 250;
    while (!this.closed) {
      const controller = new AbortController();
      this.controllers.add(controller);
      try {
        const headers = this.headers({ accept: 'text/event-stream' });
        if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
        const res = await this.opts.http(this.opts.url, { method: 'GET', headers, signal: controller.signal });
        if (res.status === 405) {
          res.discard();
          this.opts.onDebug?.('the gate offers no GET stream (405)');
          break;
        }
        if (res.status < 200 || res.status > 299) {
          const err = await failedAnswer(res, this.opts.url, true);
          if (err.kind === 'session-lost') {
            this.onsessionlost?.(err);
            break;
          }
          this.opts.onDebug?.('the GET stream was refused', { status: res.status, error: err.message });
        } else if (!isEventStream(res.header('content-type'))) {
          // Not a stream (a web page, say): try again later, with the same backoff as a refusal.
          res.discard();
          this.opts.onDebug?.('the GET stream was answered with something else', { error: wrongMediaType(res.header('content-type'), res.status, 'text/event-stream').message });
        } else {
          delay = 250;
          await readSse(res.chunks(), (e) => {
            if (e.id) this.lastEventId = e.id;
            if (e.event !== undefined && e.event !== 'message') return;
            if (e.data.trim() === '') return;
            try {
              this.deliver(JSON.parse(e.data), new Set());
            } catch (err) {
              this.opts.onDebug?.('dropped an event that is not JSON', { error: (err as Error).message });
            }
          }).catch(() => {});
        }
      } catch (err) {
        if (this.closed) break;
        this.onunreachable?.(unreachable(this.opts.url, err));
      } finally {
        this.controllers.delete(controller);
      }
      if (this.closed) break;
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, 10_000);
    }
    this.getStreamOpen = false;
  }

  /** Ends the session at the gate (DELETE), best effort, within `timeoutMs`. */
  async terminate(timeoutMs = 1000): Promise<void> {
    if (!this.sessionId) return;
    try {
      const res = await this.opts.http(this.opts.url, { method: 'DELETE', headers: this.headers({}), signal: AbortSignal.timeout(timeoutMs) });
      res.discard();
    } catch {
      // the gate is gone or slow: nothing more to do
    }
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
    this.onclose?.();
  }
}
