// The local gate, composed: policy source, approval store and decisions (with the gate's own
// upstream connection for replays), API and admin keys, the MCP endpoint of the chosen mode, the
// HTTP server. startGate listens and resolves once ready; close() ends every session
// and child process.
import type { AddressInfo } from 'node:net';
import { createAdminAuth } from './admin-auth.ts';
import { createApprovalDecisions } from './approval-decisions.ts';
import { openFileApprovalStore } from './approval-file-store.ts';
import { APPROVAL_TTL_MS } from './approvals.ts';
import { createApiKeyVerifier } from './auth.ts';
import { createOAuthTokenVerifier } from './oauth-verifier.ts';
import { createProtectedResource } from './protected-resource.ts';
import { HostedEndpoint } from './hosted-handler.ts';
import { LegacySseSessions } from './legacy-sse.ts';
import { PolicySource } from './policy-source.ts';
import { ReplayUpstream } from './replay-upstream.ts';
import { createGateServer } from './server.ts';
import type { GateLogger, SessionDeps } from './session.ts';
import { StreamableSessions } from './session-manager.ts';
import { SharedUpstream } from './shared-upstream.ts';
import { childEnvironment, type UpstreamSpec } from './upstream.ts';

export interface GateConfig {
  policyPath: string;
  upstream: UpstreamSpec;
  host: string;
  port: number;
  apiKey: string;
  /** The reviewer's key: decides approvals (never the agent's API key). */
  adminKey: string;
  /** How long an approval request stays pending (default 24 h). */
  approvalTtlMs?: number;
  /** The gate's state folder: its approvals live in `approvals/` there. */
  stateDir: string;
  hosted: boolean;
  /** --issuer: OAuth access tokens from this authorization server are accepted too. */
  issuer?: string;
  policyMaxAgeSeconds: number;
  log: GateLogger;
  /** The gate's version, sent as clientInfo when it initializes a shared upstream itself. */
  version: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunningGate {
  /** The MCP endpoint: http://HOST:PORT/mcp-gate/sse */
  url: string;
  /** `C`, the base the other endpoints hang off. */
  base: string;
  policy: { version: string | null; policyCount: number };
  /** Hosted mode: why the upstream is not connected yet, if it is not. */
  upstreamProblem: string | null;
  close(): Promise<void>;
}

/** Throws PolicyLoadError for an invalid policy, ApprovalStoreError for an unusable state folder, and the listen error (EADDRINUSE…) as is. */
export async function startGate(config: GateConfig): Promise<RunningGate> {
  const { log } = config;
  const policy = await PolicySource.open(config.policyPath, { log });
  const approvals = await openFileApprovalStore({ stateDir: config.stateDir, ttlMs: config.approvalTtlMs ?? APPROVAL_TTL_MS, log });
  const pending = (await approvals.list()).filter((r) => r.status === 'pending').length;
  if (pending > 0) log.info(`${pending} approval request${pending === 1 ? '' : 's'} pending in ${config.stateDir}`);
  let base = '';
  const statusUrl = (id: string) => `${base}/mcp-gate/status/${encodeURIComponent(id)}`;
  const childEnv = childEnvironment(config.env ?? process.env);

  let hosted: HostedEndpoint | undefined;
  let shared: SharedUpstream | undefined;
  let streamable: StreamableSessions | undefined;
  let legacy: LegacySseSessions | undefined;
  if (config.hosted) {
    shared = new SharedUpstream({ spec: config.upstream, env: childEnv, log, clientInfo: { name: 'sentrail-gate', version: config.version } });
    hosted = new HostedEndpoint({ upstream: shared, policy, approvals, statusUrl, log });
  } else {
    const deps: SessionDeps = { upstream: config.upstream, childEnv, policy, approvals, statusUrl, log };
    streamable = new StreamableSessions(deps);
    legacy = new LegacySseSessions(deps);
  }

  // Replays use a connection of their own, made at the first approval (see replay-upstream.ts).
  const replayer = new ReplayUpstream({ spec: config.upstream, env: childEnv, log, clientInfo: { name: 'sentrail-gate-replay', version: config.version } });
  const decisions = createApprovalDecisions({ store: approvals, policy, replayer, log });

  const oauth = config.issuer ? createOAuthTokenVerifier({ issuer: config.issuer, audience: () => `${base}/mcp-gate`, log }) : undefined;
  const protectedResource = config.issuer ? createProtectedResource({ issuer: config.issuer, base: () => base }) : undefined;
  const verify = createApiKeyVerifier(config.apiKey, oauth);
  const server = createGateServer({
    verify,
    admin: createAdminAuth(config.adminKey, verify),
    decisions,
    ...(protectedResource ? { protectedResource } : {}),
    policy,
    approvals,
    policyMaxAgeSeconds: config.policyMaxAgeSeconds,
    log,
    ...(hosted ? { hosted } : {}),
    ...(streamable ? { streamable } : {}),
    ...(legacy ? { legacy } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Bound to every interface: name loopback in the URLs the gate hands out (status links, the ready line).
  const shown = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const host = shown.includes(':') ? `[${shown}]` : shown;
  base = `http://${host}:${address.port}`;

  // Hosted mode keeps one upstream: start it now, so the first request does not wait for it.
  const problem = shared ? await shared.warmUp() : null;
  if (problem) log.warn(`${problem.message}; requests that need the upstream get HTTP 424 until it connects`);

  const snapshot = await policy.current();
  return {
    url: `${base}/mcp-gate/sse`,
    base,
    policy: { version: snapshot.version, policyCount: snapshot.policyCount },
    upstreamProblem: problem?.message ?? null,
    async close() {
      // Stop taking requests, end every session (children killed), then drop open connections.
      server.close();
      await Promise.allSettled([streamable?.closeAll(), legacy?.closeAll(), hosted?.close(), replayer.close()]);
      // A replay cut short stores its failure before the store closes.
      await decisions.settled();
      await approvals.close();
      server.closeAllConnections();
    },
  };
}
