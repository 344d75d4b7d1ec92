// Legacy HTTP+SSE (MCP 2024-11-05) on the same path, for clients that ask for it: a GET without
// Mcp-Session-Id that accepts text/event-stream opens the stream, whose `endpoint` event names
// `POST /mcp-gate/sse?sessionId=…`; those POSTs go to its session. Same relay, same policy.
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../relay/jsonrpc.ts';
import { UpstreamError } from '../relay/relay.ts';
import { sendJson, sendJsonRpcError } from './http.ts';
import { RelaySession, type SessionDeps } from './session.ts';

export const GATE_MCP_PATH = '/mcp-gate/sse';

export function wantsLegacyStream(req: IncomingMessage): boolean {
  return req.method === 'GET' && !req.headers['mcp-session-id'] && (req.headers.accept ?? '').includes('text/event-stream');
}

export class LegacySseSessions {
  private readonly sessions = new Map<string, { transport: SSEServerTransport; session: RelaySession }>();
  private opened = 0;

  constructor(private readonly deps: SessionDeps) {}

  async openStream(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const transport = new SSEServerTransport(GATE_MCP_PATH, res);
    const label = `legacy SSE session ${++this.opened}`;
    let session: RelaySession;
    try {
      session = await RelaySession.open(label, transport, this.deps, () => true);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.deps.log.warn(`${label}: ${err.message}`);
      return sendJson(res, 424, { jsonrpc: '2.0', error: { code: err.code, message: err.message } });
    }
    const id = transport.sessionId;
    this.sessions.set(id, { transport, session });
    session.onended = () => this.sessions.delete(id);
  }

  async post(req: IncomingMessage, res: ServerResponse, sessionId: string): Promise<void> {
    const entry = this.sessions.get(sessionId);
    if (!entry) return sendJsonRpcError(res, 404, -32001, 'Session not found');
    entry.session.touch();
    try {
      await entry.transport.handlePostMessage(req, res);
    } catch (err) {
      // handlePostMessage has answered already (400/500); only a failure before that remains.
      if (!res.headersSent) sendJsonRpcError(res, 500, ErrorCode.InternalError, (err as Error).message);
    }
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((e) => e.session.end({ force: true })));
  }
}
