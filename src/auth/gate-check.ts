// Asking the gate about a credential with plain HTTP requests, no MCP SDK (gate-protocol.md, "Auth"):
// a `tools/list` through `C/mcp-gate/sse` after `initialize` (401: the gate refuses it), and
// `GET C/mcp-gate/whoami` (who the credential is; 404 on gates without it). Uses the bridge's HTTP
// client (proxy variables honoured); credentials go to the gate's origin only: no redirect is followed.
import type { HttpClient, HttpResponse } from '../bridge/http-client.ts';
import { readSse } from '../bridge/sse-reader.ts';

export const CHECK_TIMEOUT_MS = 10_000;
const PROTOCOL_VERSION = '2025-06-18';
const AGENT_ID = 'sentrail-cli';

export type CheckOutcome =
  /** `protocolVersion` and `sessions` (an Mcp-Session-Id was given) when the gate answered initialize. */
  | { kind: 'accepted'; tools: number | null; note?: string; protocolVersion?: string; sessions?: boolean }
  /** 401: the credential is refused; 403: it lacks a scope (`wwwAuthenticate` says which, RFC 6750 §3.1). */
  | { kind: 'refused'; status: number; wwwAuthenticate?: string | null }
  | { kind: 'failed'; message: string };

interface Exchange {
  status: number;
  wwwAuthenticate: string | null;
  sessionId: string | null;
  message: Record<string, unknown> | null;
}

function baseHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'x-agent-id': AGENT_ID };
}

async function post(http: HttpClient, url: URL, token: string, body: Record<string, unknown>, extra: Record<string, string>, signal: AbortSignal): Promise<Exchange> {
  const res = await http(url, {
    method: 'POST',
    signal,
    headers: { ...baseHeaders(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra },
    body: JSON.stringify(body),
  });
  const sessionId = res.header('mcp-session-id');
  const wwwAuthenticate = res.header('www-authenticate');
  if (res.status < 200 || res.status >= 300 || !('id' in body)) {
    res.discard();
    return { status: res.status, wwwAuthenticate, sessionId, message: null };
  }
  const type = res.header('content-type') ?? '';
  let found: Record<string, unknown> | null = null;
  if (type.includes('text/event-stream')) {
    // The answer is the event carrying our id; stop reading there (the stream may stay open).
    found = await findInEventStream(res, body.id);
  } else {
    try {
      const parsed: unknown = JSON.parse(await res.text());
      const list = Array.isArray(parsed) ? parsed : [parsed];
      found = (list.find((m) => m && typeof m === 'object' && (m as { id?: unknown }).id === body.id) as Record<string, unknown> | undefined) ?? null;
    } catch {
      found = null;
    }
  }
  return { status: res.status, wwwAuthenticate, sessionId, message: found };
}

/** The JSON-RPC message with `id` in a text/event-stream body (the bridge's SSE reader). */
async function findInEventStream(res: HttpResponse, id: unknown): Promise<Record<string, unknown> | null> {
  let found: Record<string, unknown> | null = null;
  try {
    await readSse(res.chunks(), (e) => {
      if (found) return;
      try {
        const m = JSON.parse(e.data) as Record<string, unknown>;
        if (m && m.id === id) {
          found = m;
          res.discard(); // the rest of the stream is not ours
        }
      } catch {
        // not JSON (a comment, a priming event): not ours
      }
    });
  } catch {
    // the stream broke (or was dropped once our answer came)
  }
  return found;
}

function describeError(err: unknown, url: URL, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string; name?: string } };
  const aborted = (x: { name?: string; code?: string } | undefined) => x?.name === 'AbortError' || x?.name === 'TimeoutError' || x?.code === 'ABORT_ERR';
  if (aborted(e as never) || aborted(e.cause)) return `the gate at ${url.origin} did not answer within ${timeoutMs / 1000} s`;
  const code = e.cause?.code ?? e.cause?.message ?? e.message;
  return `cannot reach the gate at ${url.origin} (${code})`;
}

/**
 * Checks a credential against the gate: `initialize`, `notifications/initialized`, `tools/list`.
 * Accepted when the gate lets it through (a 424, no MCP server connected yet, counts: the key
 * passed the gate's check); refused on 401; failed on anything that tells nothing about the key.
 */
export async function checkCredential(http: HttpClient, mcpUrl: URL, token: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  let sessionId: string | null = null;
  let protocol = PROTOCOL_VERSION;
  const session = (): Record<string, string> => (sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': protocol } : { 'mcp-protocol-version': protocol });
  try {
    const init = await post(
      http,
      mcpUrl,
      token,
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'sentrail-login', version: '1' } } },
      {},
      signal,
    );
    const refused = (x: Exchange): CheckOutcome | null => (x.status === 401 || x.status === 403 ? { kind: 'refused', status: x.status, wwwAuthenticate: x.wwwAuthenticate } : null);
    const initRefused = refused(init);
    if (initRefused) return initRefused;
    if (init.status === 424) return { kind: 'accepted', tools: null, note: 'the gate has no MCP server connected to this workspace yet (HTTP 424)' };
    if (init.status >= 300 && init.status < 400) return { kind: 'failed', message: `the gate answered initialize with a redirect (HTTP ${init.status}); credentials are never sent across redirects: use the final URL as --gate` };
    if (init.status < 200 || init.status >= 300) return { kind: 'failed', message: `the gate answered initialize with HTTP ${init.status}` };
    const result = init.message?.result as { protocolVersion?: unknown } | undefined;
    if (!result) return { kind: 'failed', message: 'the gate did not answer initialize with a result' };
    if (typeof result.protocolVersion === 'string') protocol = result.protocolVersion;
    sessionId = init.sessionId;

    const initialized = await post(http, mcpUrl, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session(), signal);
    const initializedRefused = refused(initialized);
    if (initializedRefused) return initializedRefused;

    const list = await post(http, mcpUrl, token, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, session(), signal);
    const listRefused = refused(list);
    if (listRefused) return listRefused;
    if (list.status === 424) return { kind: 'accepted', tools: null, note: 'the gate has no MCP server connected to this workspace yet (HTTP 424)' };
    if (list.status < 200 || list.status >= 300) return { kind: 'failed', message: `the gate answered tools/list with HTTP ${list.status}` };
    const tools = (list.message?.result as { tools?: unknown } | undefined)?.tools;
    if (Array.isArray(tools)) return { kind: 'accepted', tools: tools.length, protocolVersion: protocol, sessions: sessionId !== null };
    const error = list.message?.error as { message?: unknown } | undefined;
    if (error) return { kind: 'accepted', tools: null, note: `the gate let the key through, but tools/list failed: ${String(error.message ?? 'an error')}` };
    return { kind: 'failed', message: 'the gate did not answer tools/list' };
  } catch (err) {
    return { kind: 'failed', message: describeError(err, mcpUrl, timeoutMs) };
  } finally {
    if (sessionId) {
      // End the session we opened (best effort, quickly).
      await http(mcpUrl, { method: 'DELETE', signal: AbortSignal.timeout(1000), headers: { ...baseHeaders(token), ...session() } })
        .then((r) => r.discard())
        .catch(() => {});
    }
  }
}

export interface WhoAmI {
  subject: string;
  tokenType: string | null;
  scopes: string[];
  expiresAt: string | null;
}

export type WhoAmIOutcome =
  | { kind: 'ok'; whoami: WhoAmI }
  | { kind: 'refused'; status: number }
  | { kind: 'unsupported'; status: number }
  | { kind: 'failed'; message: string };

/** `GET C/mcp-gate/whoami`: who the gate takes the credential for. */
export async function whoAmI(http: HttpClient, cloudBase: string, token: string, timeoutMs = 5000): Promise<WhoAmIOutcome> {
  const url = new URL(`${cloudBase}/mcp-gate/whoami`);
  try {
    const res = await http(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), headers: { ...baseHeaders(token), accept: 'application/json' } });
    if (res.status === 401 || res.status === 403) {
      res.discard();
      return { kind: 'refused', status: res.status };
    }
    if (res.status < 200 || res.status >= 300) {
      res.discard();
      return { kind: 'unsupported', status: res.status };
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await res.text()) as Record<string, unknown>;
    } catch {
      return { kind: 'unsupported', status: res.status };
    }
    if (!body || typeof body.subject !== 'string') return { kind: 'unsupported', status: res.status };
    return {
      kind: 'ok',
      whoami: {
        subject: body.subject,
        tokenType: typeof body.tokenType === 'string' ? body.tokenType : null,
        scopes: Array.isArray(body.scopes) ? body.scopes.filter((s): s is string => typeof s === 'string') : [],
        expiresAt: typeof body.expiresAt === 'string' ? body.expiresAt : null,
      },
    };
  } catch (err) {
    return { kind: 'failed', message: describeError(err, url, timeoutMs) };
  }
}
