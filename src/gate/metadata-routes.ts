// The gate's endpoints beside MCP (gate-protocol.md): the org policy for the bridge's first check,
// and who the presented credential is.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './auth.ts';
import { sendEmpty, sendJson } from './http.ts';
import type { PolicySource } from './policy-source.ts';

export const DEFAULT_POLICY_MAX_AGE_SECONDS = 60;

/** True when If-None-Match names this ETag (or `*`); weak comparison, as RFC 9110 asks for GET. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

export async function servePolicy(req: IncomingMessage, res: ServerResponse, policy: PolicySource, maxAgeSeconds: number): Promise<void> {
  const snapshot = await policy.current();
  const headers = { ETag: snapshot.etag, 'Cache-Control': `max-age=${maxAgeSeconds}` };
  if (etagMatches(req.headers['if-none-match'], snapshot.etag)) return sendEmpty(res, 304, headers);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(snapshot.body), ...headers });
  res.end(snapshot.body);
}

export function serveWhoami(res: ServerResponse, principal: Principal): void {
  sendJson(res, 200, principal);
}
