// The gate's HTTP routing: gate-protocol.md's paths from the root, each behind the API key.
//   /mcp-gate/sse            MCP: hosted handler (--hosted), else Streamable HTTP sessions, or
//                            legacy HTTP+SSE (a GET asking for an event stream without a session;
//                            POSTs carrying ?sessionId=)
//   /mcp-gate/policy         GET: the org policy document (ETag, Cache-Control, 304)
//   /mcp-gate/status/{id}    GET: an approval request's status (the API key, or the admin key)
//   /approval-decision       POST, admin key only: a reviewer's decision (approval-routes.ts)
//   /approvals[/{id}]        GET, admin key only: the approval requests, for reviewers
//   /mcp-gate/whoami         GET: the credential's subject and scopes
//   /evaluate-action         POST: one decision with the org policy (Sentrail's API reference)
//   /mcp-gate/audit          POST: decisions a bridge made on its own (local blocks), for the gate's audit
//   /.well-known/oauth-protected-resource[/mcp-gate]   GET, no auth: RFC 9728 metadata (--issuer only)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AdminAuth } from './admin-auth.ts';
import type { ApprovalDecisions } from './approval-decisions.ts';
import { serveApprovalDecision, serveApprovalList, serveApprovalRecord, serveApprovalStatus } from './approval-routes.ts';
import type { ApprovalStore } from './approvals.ts';
import { UNAUTHORIZED_BODY, type Verifier } from './auth.ts';
import { PROTECTED_RESOURCE_PATH, PROTECTED_RESOURCE_ROOT_PATH, REQUIRED_SCOPE, type ProtectedResource } from './protected-resource.ts';
import type { HostedEndpoint } from './hosted-handler.ts';
import { sendJson } from './http.ts';
import { AUDIT_PATH, serveAuditReport } from './audit-route.ts';
import { EVALUATE_ACTION_PATH, serveEvaluateAction } from './evaluate-action-route.ts';
import { GATE_MCP_PATH, wantsLegacyStream, type LegacySseSessions } from './legacy-sse.ts';
import { servePolicy, serveWhoami } from './metadata-routes.ts';
import type { PolicySource } from './policy-source.ts';
import type { GateLogger } from './session.ts';
import type { StreamableSessions } from './session-manager.ts';

export interface GateRoutes {
  verify: Verifier;
  policy: PolicySource;
  approvals: ApprovalStore;
  decisions: ApprovalDecisions;
  /** The reviewer's credential (the admin key); the agent's gets 403 from it. */
  admin: AdminAuth;
  policyMaxAgeSeconds: number;
  log: GateLogger;
  /** --issuer: the gate as an OAuth protected resource (its metadata, its challenges). */
  protectedResource?: ProtectedResource;
  /** --hosted */
  hosted?: HostedEndpoint;
  /** default mode */
  streamable?: StreamableSessions;
  legacy?: LegacySseSessions;
}

const STATUS_PATH = /^\/mcp-gate\/status\/([^/]+)$/;
const APPROVAL_PATH = /^\/approvals\/([^/]+)$/;
const isAdminPath = (path: string) => path === '/approval-decision' || path === '/approvals' || APPROVAL_PATH.test(path);

export function createGateServer(routes: GateRoutes): Server {
  const server = createServer((req, res) => {
    route(req, res, routes).catch((err: Error) => {
      routes.log.error(`internal error on ${req.method} ${pathOf(req)}: ${err.message}`);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'Internal error in the Sentrail gate' });
      else res.end();
    });
  });
  return server;
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://gate.invalid').pathname;
}

async function route(req: IncomingMessage, res: ServerResponse, r: GateRoutes): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gate.invalid');
  const path = url.pathname;
  if (r.protectedResource && (path === PROTECTED_RESOURCE_PATH || path === PROTECTED_RESOURCE_ROOT_PATH)) {
    if (req.method !== 'GET') return sendJson(res, 405, { ok: false, error: 'Method not allowed' }, { Allow: 'GET' });
    return sendJson(res, 200, r.protectedResource.metadata(), { 'Cache-Control': 'max-age=3600' });
  }
  if (isAdminPath(path)) return routeAdmin(req, res, url, r);
  if (!path.startsWith('/mcp-gate/') && path !== EVALUATE_ACTION_PATH) return sendJson(res, 404, { ok: false, error: 'Not found' });

  // The status read is the agent's, and the reviewer's too (sentrail approvals status).
  const status = req.method === 'GET' ? STATUS_PATH.exec(path) : null;
  if (status && r.admin.isAdmin(req.headers.authorization)) return serveApprovalStatus(res, safeDecode(status[1]!), r.approvals, r.policy);

  const verdict = await r.verify(req.headers.authorization);
  if (!verdict.ok) {
    // Never the header itself: it may hold someone's real key, sent to the wrong gate.
    r.log.info(`refused ${req.method} ${path}: ${verdict.reason}`);
    // A token the gate could not check is not a bad token: 503, so clients retry rather than log in again.
    if (verdict.unavailable) return sendJson(res, 503, { ok: false, error: `Cannot check the access token now: ${verdict.reason}` }, { 'Retry-After': '5' });
    const challenge = r.protectedResource?.challenge(verdict.tokenPresented ? { error: 'invalid_token', description: verdict.reason } : undefined);
    return sendJson(res, 401, UNAUTHORIZED_BODY, challenge ? { 'WWW-Authenticate': challenge } : {});
  }
  const principal = verdict.principal;
  if (!principal.scopes.includes(REQUIRED_SCOPE)) {
    r.log.info(`refused ${req.method} ${path}: the token lacks the ${REQUIRED_SCOPE} scope`);
    const challenge = r.protectedResource?.challenge({ error: 'insufficient_scope', description: `the token lacks the ${REQUIRED_SCOPE} scope` });
    return sendJson(res, 403, { ok: false, error: `Insufficient scope: ${REQUIRED_SCOPE} is required` }, challenge ? { 'WWW-Authenticate': challenge } : {});
  }
  r.log.debug(`${req.method} ${path}`);

  if (path === GATE_MCP_PATH) {
    if (r.hosted) return r.hosted.handle(req, res);
    const legacySession = url.searchParams.get('sessionId');
    if (legacySession !== null && req.method === 'POST') return r.legacy!.post(req, res, legacySession);
    if (wantsLegacyStream(req)) return r.legacy!.openStream(req, res);
    return r.streamable!.handle(req, res);
  }
  if (path === EVALUATE_ACTION_PATH) return serveEvaluateAction(req, res, r.policy, r.log);
  if (path === AUDIT_PATH) return serveAuditReport(req, res, principal, r.log);
  if (req.method !== 'GET') return sendJson(res, 405, { ok: false, error: 'Method not allowed' }, { Allow: 'GET' });
  if (path === '/mcp-gate/policy') return servePolicy(req, res, r.policy, r.policyMaxAgeSeconds);
  if (path === '/mcp-gate/whoami') return serveWhoami(res, principal);
  if (status) return serveApprovalStatus(res, safeDecode(status[1]!), r.approvals, r.policy);
  return sendJson(res, 404, { ok: false, error: 'Not found' });
}

async function routeAdmin(req: IncomingMessage, res: ServerResponse, url: URL, r: GateRoutes): Promise<void> {
  const path = url.pathname;
  const verdict = await r.admin.verify(req.headers.authorization);
  if (!verdict.ok) {
    r.log.info(`refused ${req.method} ${path}: ${verdict.reason}`);
    const error = verdict.status === 403 ? "Forbidden: deciding and reviewing approvals needs the gate's admin key, not the agent's credential" : 'Invalid or missing admin key';
    return sendJson(res, verdict.status, { ok: false, error });
  }
  if (path === '/approval-decision') {
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'Method not allowed' }, { Allow: 'POST' });
    return serveApprovalDecision(req, res, verdict.reviewer, r.decisions, r.policy);
  }
  if (req.method !== 'GET') return sendJson(res, 405, { ok: false, error: 'Method not allowed' }, { Allow: 'GET' });
  if (path === '/approvals') return serveApprovalList(res, url, r.approvals);
  return serveApprovalRecord(res, safeDecode(APPROVAL_PATH.exec(path)![1]!), r.approvals);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not a valid id either way: the lookup answers 404
  }
}
