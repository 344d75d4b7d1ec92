// MCP Streamable HTTP, client side, as a relay needs it: POST each message, take the answer as
// JSON or as an SSE stream, keep the session id and protocol version, hold a GET stream open for
// what the server sends on its own, DELETE at the end. Unlike the SDK's transport it fails every
// request whose stream ends unanswered (instead of leaving it hanging), tells a lost session
// (404, or 400 naming the session) from other errors, and loads no schema library.
import { classify, isRequest, isResponse, type JsonRpcId, type JsonRpcMessage } from '../relay/jsonrpc.ts';
import { rememberText } from '../relay/raw-text.ts';
import { UpstreamError, type UpstreamTransport } from '../relay/relay.ts';
import type { HttpClient, HttpResponse } from './http-client.ts';
import { readSse } from './sse-reader.ts';

export interface HttpClientOptions {
  url: URL;
  http: HttpClient;
  /** Authorization and X-Agent-Id, read fresh for each request (a refreshed token takes effect at once). */
  headers: () => Record<string, string>;
  onDebug?: (message: string, fields?: Record<string, unknown>) => void;
}

export function httpError(status: number, body: string, hadSession: boolean, what = 'the gate'): UpstreamError {
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 300);
  const text = `${what} answered HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  if (status === 401 || status === 403) return new UpstreamError(text, -32000, undefined, 'unauthorized', status);
  if (status === 404 && hadSession) return new UpstreamError(`${what} no longer knows this session (HTTP 404)`, -32000, undefined, 'session-lost', status);
  if (status === 400 && hadSession && /session/i.test(body)) return new UpstreamError(`${what} no longer knows this session (HTTP 400)`, -32000, undefined, 'session-lost', status);
  if (status === 424) return new UpstreamError(`${what} has no MCP server connected to the workspace (HTTP 424)`, -32000, undefined, 'no-upstream', status);
  return new UpstreamError(text, -32000, undefined, 'http', status);
}

export function unreachable(url: URL, err: unknown): UpstreamError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new UpstreamError(`${url.origin}: ${why}`, -32000, undefined, 'unreachable');
}

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
    if (isRequest(message)) waiting.add(JSON.stringify(message.id));
    const controller = new AbortController();
    this.controllers.add(controller);
    let res: HttpResponse;
    try {
      res = await this.opts.http(this.opts.url, {
        method: 'POST',
        headers: this.headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }),
        body: JSON.stringify(message),
        signal: controller.signal,
      });
    } catch (err) {
      this.controllers.delete(controller);
      throw unreachable(this.opts.url, err);
    }
    const hadSession = this.sessionId !== undefined;
    const sid = res.header('mcp-session-id');
    if (sid) this.sessionId = sid;
    if (res.status === 202 || res.status === 204) {
      this.controllers.delete(controller);
      res.discard();
      if ('method' in message && message.method === 'notifications/initialized') this.openGetStream();
      return;
    }
    if (res.status < 200 || res.status > 299) {
      this.controllers.delete(controller);
      const text = await res.text().catch(() => '');
      throw httpError(res.status, text, hadSession);
    }
    const type = res.header('content-type') ?? '';
    if (type.includes('text/event-stream')) {
      // The answer comes as events; send() returns once the stream is open, as the SDK's does.
      void this.consumeStream(res, waiting, controller);
      return;
    }
    try {
      const text = await res.text();
      if (text.trim() !== '') {
        const value = JSON.parse(text) as unknown;
        if (Array.isArray(value)) for (const item of value) this.deliver(item, waiting);
        else this.deliver(value, waiting, text);
      }
    } catch (err) {
      this.controllers.delete(controller);
      if (waiting.size === 0) return;
      throw new UpstreamError(`the gate sent an answer that is not JSON (${(err as Error).message})`, -32000, undefined, 'http', res.status);
    }
    this.controllers.delete(controller);
    this.failUnanswered(waiting, 'the gate answered without a response to the request');
  }

  private deliver(value: unknown, waiting: Set<string>, text?: string): void {
    const c = classify(value);
    if (!c.ok) {
      this.opts.onDebug?.('dropped an invalid message from the gate', { error: c.error.error.message });
      return;
    }
    if (text !== undefined) rememberText(c.message, text);
    if (isResponse(c.message) && c.message.id !== undefined) waiting.delete(JSON.stringify(c.message.id));
    this.onmessage?.(c.message);
  }

  private failUnanswered(waiting: Set<string>, why: string): void {
    for (const id of waiting) this.onrequestfailed?.(JSON.parse(id) as JsonRpcId, new UpstreamError(why, -32000, undefined, 'interrupted'));
    waiting.clear();
  }

  private async consumeStream(res: HttpResponse, waiting: Set<string>, controller: AbortController): Promise<void> {
    let broke = false;
    try {
      await readSse(res.chunks(), (e) => {
        if (e.event !== undefined && e.event !== 'message') return;
        if (e.data.trim() === '') return; // priming events carry only an id
        try {
          const value = JSON.parse(e.data) as unknown;
          if (Array.isArray(value)) for (const item of value) this.deliver(item, waiting);
          else this.deliver(value, waiting, e.data);
        } catch (err) {
          this.opts.onDebug?.('dropped an event that is not JSON', { error: (err as Error).message });
        }
      });
    } catch {
      broke = true;
    } finally {
      this.controllers.delete(controller);
    }
    if (waiting.size > 0) this.failUnanswered(waiting, this.closed ? 'the bridge is shutting down' : broke ? 'the connection to the gate broke before it answered' : 'the gate ended the response stream before answering');
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
          const text = await res.text().catch(() => '');
          const err = httpError(res.status, text, true);
          if (err.kind === 'session-lost') {
            this.onsessionlost?.(err);
            break;
          }
          this.opts.onDebug?.('the GET stream was refused', { status: res.status });
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
