// Legacy MCP HTTP+SSE (protocol 2024-11-05), client side: GET opens the stream, whose `endpoint`
// event names where to POST; every answer comes back on the stream. When the stream ends, nothing
// sent is answered any more: the composition fails what is in flight. A second `endpoint` event
// means the server started a new (uninitialized) session: reported as a lost session.
import { classify, type JsonRpcId, type JsonRpcMessage } from '../relay/jsonrpc.ts';
import { UpstreamError, type UpstreamTransport } from '../relay/relay.ts';
import type { HttpClient, HttpResponse } from './http-client.ts';
import { readSse } from './sse-reader.ts';
import { failedAnswer, isEventStream, unreachable, wrongMediaType } from './gate-answers.ts';

export interface LegacySseOptions {
  url: URL;
  http: HttpClient;
  headers: () => Record<string, string>;
  /** How long to wait for the `endpoint` event. */
  startTimeoutMs?: number;
  onDebug?: (message: string, fields?: Record<string, unknown>) => void;
}

export class LegacySseClient implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;
  /** The stream ended or broke: nothing in flight will be answered. */
  onunreachable?: (error: UpstreamError) => void;
  onsessionlost?: (error: UpstreamError) => void;

  private endpoint: URL | undefined;
  private closed = false;
  private readonly controller = new AbortController();
  protocolVersion: string | undefined;

  constructor(private readonly opts: LegacySseOptions) {}

  /** Opens the stream and resolves once the server has named its POST endpoint. */
  async start(): Promise<void> {
    let res: HttpResponse;
    try {
      res = await this.opts.http(this.opts.url, { method: 'GET', headers: { ...this.opts.headers(), accept: 'text/event-stream' }, signal: this.controller.signal });
    } catch (err) {
      throw unreachable(this.opts.url, err);
    }
    if (res.status < 200 || res.status > 299) throw await failedAnswer(res, this.opts.url, false);
    if (!isEventStream(res.header('content-type'))) {
      res.discard();
      throw wrongMediaType(res.header('content-type'), res.status, 'text/event-stream');
    }
    const body = res.chunks();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UpstreamError('the gate opened an SSE stream but named no endpoint', -32000, undefined, 'http')), this.opts.startTimeoutMs ?? 10_000);
      timer.unref();
      const onEvent = (e: { event: string | undefined; data: string }) => {
        if (e.event === 'endpoint') {
          let next: URL;
          try {
            next = new URL(e.data.trim(), this.opts.url);
          } catch {
            return;
          }
          if (next.origin !== this.opts.url.origin) {
            // Credentials are never sent to another origin (gate-protocol.md).
            reject(new UpstreamError(`the gate named an endpoint on another origin (${next.origin}); refusing to send credentials there`, -32000, undefined, 'http'));
            return;
          }
          if (this.endpoint) {
            this.onsessionlost?.(new UpstreamError('the gate started a new SSE session', -32000, undefined, 'session-lost'));
            return;
          }
          this.endpoint = next;
          clearTimeout(timer);
          resolve();
          return;
        }
        if (e.event !== undefined && e.event !== 'message') return;
        try {
          const c = classify(JSON.parse(e.data));
          if (c.ok) this.onmessage?.(c.message);
        } catch (err) {
          this.opts.onDebug?.('dropped an event that is not JSON', { error: (err as Error).message });
        }
      };
      readSse(body, onEvent)
        .then(
          () => this.ended(new UpstreamError('the gate closed the SSE stream', -32000, undefined, 'unreachable')),
          (err) => this.ended(unreachable(this.opts.url, err)),
        )
        .finally(() => {
          clearTimeout(timer);
          reject(new UpstreamError('the gate closed the SSE stream before naming an endpoint', -32000, undefined, 'unreachable'));
        })
        .catch((err) => this.opts.onDebug?.('the SSE stream ended badly', { error: (err as Error).message }));
    });
  }

  private ended(error: UpstreamError): void {
    if (this.closed) return;
    this.onunreachable?.(error);
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.closed || !this.endpoint) throw new UpstreamError('the SSE session with the gate is not open', -32000, undefined, 'closed');
    let res: HttpResponse;
    try {
      res = await this.opts.http(this.endpoint, {
        method: 'POST',
        headers: { ...this.opts.headers(), 'content-type': 'application/json', ...(this.protocolVersion ? { 'mcp-protocol-version': this.protocolVersion } : {}) },
        body: JSON.stringify(message),
        signal: this.controller.signal,
      });
    } catch (err) {
      throw unreachable(this.opts.url, err);
    }
    if (res.status < 200 || res.status > 299) throw await failedAnswer(res, this.endpoint, true);
    await res.text().catch(() => ''); // drained, so the connection can be reused
  }

  /** Answers come on the one stream: there is no exchange of its own to abort. */
  abandon(): void {}

  async terminate(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    this.onclose?.();
  }
}
