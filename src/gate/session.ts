// One default-mode client session: the client's transport and its own upstream (a child process, or
// an upstream HTTP session), joined by the relay core with the gate's interceptors (tools/list
// cache, policy). Whichever end goes first ends the session: the client's DELETE or disconnect
// stops the upstream; the upstream's exit fails what was in flight and closes the client side
// (its next request gets 404, and a client such as the bridge starts a new session).
import { ErrorCode } from '../relay/jsonrpc.ts';
import { Relay, UpstreamError, type RelayLogger } from '../relay/relay.ts';
import type { ApprovalStore } from './approvals.ts';
import { GateClientTransport, type SdkServerTransport } from './client-transport.ts';
import { createPolicyInterceptor } from './policy-interceptor.ts';
import type { PolicySource } from './policy-source.ts';
import { RequestContexts } from './request-context.ts';
import { createToolsListCache } from './tools-list-cache.ts';
import { GateUpstream, type UpstreamSpec } from './upstream.ts';

export interface GateLogger extends RelayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What every session needs from the gate. */
export interface SessionDeps {
  upstream: UpstreamSpec;
  childEnv: Record<string, string>;
  policy: PolicySource;
  approvals: ApprovalStore;
  statusUrl: (approvalRequestId: string) => string;
  log: GateLogger;
  toolsListTtlMs?: number;
}

export class RelaySession {
  /** Called once when the session is over, whichever end closed it. */
  onended?: () => void;
  lastActivity = Date.now();
  private ending: Promise<void> | null = null;

  private constructor(
    readonly label: string,
    private readonly client: GateClientTransport,
    readonly upstream: GateUpstream,
    private readonly relay: Relay,
    private readonly log: GateLogger,
  ) {
    upstream.onclose = () => {
      if (this.ending) return;
      log.warn(`${label}: the upstream MCP server went away; ending the session`);
      // Let the failure answers just queued reach the client before its streams close.
      setImmediate(() => void this.end());
    };
    client.onclose = () => void this.end();
  }

  /**
   * Starts the upstream, then the client side (legacy SSE announces its endpoint on start, so the
   * upstream must be ready first). Throws UpstreamError (kind `no-upstream`) when the upstream
   * cannot be started; nothing is left running then.
   */
  static async open(label: string, inner: SdkServerTransport, deps: SessionDeps, standaloneStreamOpen: () => boolean): Promise<RelaySession> {
    const contexts = new RequestContexts();
    const client = new GateClientTransport(inner, { contexts, standaloneStreamOpen, log: deps.log });
    const upstream = new GateUpstream(deps.upstream, { log: deps.log, env: deps.childEnv });
    const toolsList = createToolsListCache({ ttlMs: deps.toolsListTtlMs });
    upstream.tap((m) => {
      if ('method' in m && m.method === 'notifications/tools/list_changed') toolsList.invalidate();
    });
    const policy = createPolicyInterceptor({ policy: deps.policy, approvals: deps.approvals, contexts, statusUrl: deps.statusUrl, log: deps.log });
    const relay = new Relay({ client, upstream, interceptors: [toolsList, policy], log: deps.log });
    try {
      await upstream.start();
    } catch (err) {
      await upstream.kill().catch(() => undefined);
      throw err;
    }
    const session = new RelaySession(label, client, upstream, relay, deps.log);
    await client.start();
    deps.log.info(`${label}: opened${upstream.pid ? ` (upstream pid ${upstream.pid})` : ''}`);
    return session;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /** Ends the session: politely by default, at once (`force`) when the gate shuts down. */
  async end(opts: { force?: boolean } = {}): Promise<void> {
    // A forced end also cuts short a polite one already under way (a child slow to exit on EOF).
    const killing = opts.force ? this.upstream.kill() : undefined;
    // Started on a later tick: closing the client calls back into end(), which must find this set.
    this.ending ??= Promise.resolve().then(() => this.teardown(killing));
    await Promise.allSettled([this.ending, killing]);
  }

  private async teardown(killing: Promise<void> | undefined): Promise<void> {
    this.relay.failAll(new UpstreamError('The session ended before the upstream answered', ErrorCode.ConnectionClosed, undefined, 'closed'));
    await Promise.allSettled([this.client.close(), killing ?? this.upstream.close()]);
    this.log.info(`${this.label}: closed`);
    this.onended?.();
  }
}
