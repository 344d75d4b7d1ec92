// Default mode's MCP Streamable HTTP on /mcp-gate/sse: an initialize POST without a session opens
// a session (its own upstream); requests carrying Mcp-Session-Id go to theirs; the SDK's server
// transport does the protocol (SSE responses, the GET stream, DELETE, 404 for a session it does
// not know, which the bridge reads as "session lost").
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, type JsonRpcId } from '../relay/jsonrpc.ts';
import { UpstreamError } from '../relay/relay.ts';
import { BodyTooLargeError, readBody, sendJson, sendJsonRpcError } from './http.ts';
import { RelaySession, type SessionDeps } from './session.ts';

/** A session nobody has used for this long, with no GET stream open, is ended (its child stopped). */
export const SESSION_IDLE_MS = 30 * 60 * 1000;

interface Entry {
  transport: StreamableHTTPServerTransport;
  session: RelaySession | null;
  /** GET streams currently open: while one is, server messages go there and the client is alive. */
  openStreams: number;
}

function isInitializeRequest(body: unknown): body is { id: JsonRpcId; method: 'initialize' } {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize' && 'id' in body;
}

export class StreamableSessions {
  private readonly sessions = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private opened = 0;

  constructor(
    private readonly deps: SessionDeps,
    private readonly idleMs = SESSION_IDLE_MS,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, idleMs)).unref();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && sessionId !== '') {
      const entry = this.sessions.get(sessionId);
      // The SDK transport's own answer for a session it does not know: the client re-initializes.
      if (!entry?.session) return sendJsonRpcError(res, 404, -32001, 'Session not found');
      entry.session.touch();
      if (req.method === 'GET') {
        entry.openStreams++;
        res.once('close', () => entry.openStreams--);
      }
      await entry.transport.handleRequest(req, res);
      return;
    }
    if (req.method === 'GET' || req.method === 'DELETE') return sendJsonRpcError(res, 400, ErrorCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required');
    if (req.method !== 'POST') return sendJsonRpcError(res, 405, ErrorCode.ConnectionClosed, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });

    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendJsonRpcError(res, 413, ErrorCode.ConnectionClosed, err.message);
      return sendJsonRpcError(res, 400, ErrorCode.ParseError, 'Parse error: Invalid JSON');
    }
    if (!isInitializeRequest(body)) return sendJsonRpcError(res, 400, ErrorCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required');
    await this.open(req, res, body);
  }

  private async open(req: IncomingMessage, res: ServerResponse, initialize: { id: JsonRpcId }): Promise<void> {
    const entry: Entry = { transport: undefined as never, session: null, openStreams: 0 };
    entry.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void this.sessions.set(id, entry),
    });
    const label = `session ${++this.opened}`;
    try {
      entry.session = await RelaySession.open(label, entry.transport, this.deps, () => entry.openStreams > 0);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.deps.log.warn(`${label}: ${err.message}`);
      // 424, as the hosted gate answers when no MCP server is connected; the body names the cause.
      return sendJson(res, 424, { jsonrpc: '2.0', id: initialize.id, error: { code: err.code, message: err.message } });
    }
    entry.session.onended = () => {
      const id = entry.transport.sessionId;
      if (id && this.sessions.get(id) === entry) this.sessions.delete(id);
    };
    await entry.transport.handleRequest(req, res, initialize);
    // The SDK refused the initialize (a bad Accept header, say): no session, so no upstream either.
    if (!entry.transport.sessionId) await entry.session.end();
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.sessions.values()) {
      if (entry.session && entry.openStreams === 0 && now - entry.session.lastActivity > this.idleMs) {
        this.deps.log.info('ending a session idle for too long');
        void entry.session.end();
      }
    }
  }

  /** Gate shutdown: every session ends now, children killed. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.values()].map((e) => e.session?.end({ force: true })));
  }
}
