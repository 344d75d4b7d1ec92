// The session, as a relay interceptor. `initialize` opens the gate session with the client's own
// request (so the upstream sees the client's capabilities). When no gate can be had (no
// credential, unreachable, refused), the bridge still answers: it initializes the client itself,
// lists one tool, `sentrail_status`, that says what is wrong and what to run, fails every other
// call closed, and keeps trying; once the gate is there it tells the client to list tools again.
import { ErrorCode, errorResponse, resultResponse, type JsonRpcNotification, type JsonRpcRequest } from '../relay/jsonrpc.ts';
import { UpstreamError, type Interceptor } from '../relay/relay.ts';
import { unavailableResult } from './decision-results.ts';
import type { GateConnection } from './gate-connection.ts';
import { failureText } from './policy-interceptor.ts';

export const STATUS_TOOL = 'sentrail_status';

/**
 * How long the client's initialize may wait for the gate before the bridge answers it itself.
 * Clients give a server a few seconds to start (and show nothing meanwhile); a gate slower than
 * this is reached by the retries instead, which then announce the real tools.
 */
export const FIRST_ANSWER_MS = 2500;

export interface SessionState {
  mode: 'starting' | 'connected' | 'unavailable';
  reason: string;
  hint: string;
  clientName: string | null;
}

export interface SessionInterceptorOptions {
  gate: GateConnection | null;
  /** Why there is no gate at all (no or bad --gate), when `gate` is null. */
  noGateReason?: string;
  gateLabel: string;
  version: string;
  log: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void; debug(m: string, f?: Record<string, unknown>): void };
  /** Sends a notification to the client (tools/list_changed when the gate comes back). */
  notifyClient: (n: JsonRpcNotification) => void;
  /** Applied to every text the bridge composes for the client (the reason may quote the gate). */
  redact: (text: string) => string;
  /** How often to try the gate again while unavailable. */
  retryMs?: { first: number; max: number };
  /** How long the client's initialize waits for the gate (FIRST_ANSWER_MS). */
  firstAnswerMs?: number;
}

/** What to tell the user about a gate that could not be had, by what went wrong. */
function hintFor(err: UpstreamError): string {
  switch (err.kind) {
    case 'unauthorized':
    case 'login-needed':
      return 'Run `sentrail login` (or set SENTRAIL_API_KEY in the MCP server\'s env block).';
    case 'unreachable':
    case 'auth-unavailable':
      return 'Check the gate URL and your network; the bridge keeps retrying.';
    case 'timeout':
      return 'The gate took the connection but did not answer: check its status (and the gate URL); the bridge keeps retrying.';
    case 'interrupted':
      return 'The gate broke off its answer: check its status; the bridge keeps retrying.';
    case 'http':
      return 'Check the gate URL in .mcp.json (`--gate`): it must be the MCP URL your Sentrail admin gave you. The bridge keeps retrying.';
    default:
      return '';
  }
}

export function createSessionInterceptor(opts: SessionInterceptorOptions): { interceptor: Interceptor; state: SessionState; stop(): void } {
  const state: SessionState = { mode: 'starting', reason: '', hint: '', clientName: null };
  let retryTimer: NodeJS.Timeout | null = null;
  let retryDelay = opts.retryMs?.first ?? 2000;
  let stopped = false;
  /**
   * The client's initialize until its outcome is in `state`: what the client pipelines behind it
   * waits for this, not for the gate connection, which settles a moment before `state` is set.
   */
  let initializing: Promise<void> | null = null;
  let initialized: (() => void) | null = null;

  const unavailable = (rawReason: string, hint: string) => {
    const reason = opts.redact(rawReason);
    const changed = state.mode !== 'unavailable' || state.reason !== reason;
    state.mode = 'unavailable';
    state.reason = reason;
    state.hint = hint;
    if (changed) opts.log.warn(`not connected to the gate: ${reason}`, { hint });
    scheduleRetry();
  };

  const scheduleRetry = () => {
    if (stopped || !opts.gate || retryTimer) return;
    retryTimer = setTimeout(async () => {
      retryTimer = null;
      if (state.mode !== 'unavailable' || !opts.gate) return;
      try {
        await opts.gate.reconnect();
        // onsessionrestored (below) switches the mode and notifies the client
      } catch (err) {
        if (stopped) return; // the bridge is closing: that is why it failed
        describe(toUpstreamError(err));
        retryDelay = Math.min(retryDelay * 2, opts.retryMs?.max ?? 30_000);
        scheduleRetry();
      }
    }, retryDelay);
    retryTimer.unref();
  };

  const describe = (err: UpstreamError) => {
    // failureText speaks of a tool call; what failed here is the session: said so for the kinds
    // whose tool-call wording would mislead (a call that "reached the gate" and "may have run").
    const sessionWords = ['timeout', 'interrupted', 'http', 'session-lost', 'closed'].includes(err.kind);
    const reason = sessionWords ? `the gate ${opts.gateLabel} did not open a session: ${err.message}.` : failureText(err, opts.gateLabel).text.replace(/^Sentrail: /, '');
    unavailable(reason, hintFor(err));
  };

  if (opts.gate) {
    opts.gate.onsessionrestored = () => {
      const wasUnavailable = state.mode === 'unavailable';
      state.mode = 'connected';
      state.reason = '';
      retryDelay = opts.retryMs?.first ?? 2000;
      opts.log.info('connected to the gate');
      opts.notifyClient({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      if (wasUnavailable) opts.log.debug('told the client to list tools again');
    };
  }

  const localInitialize = (req: JsonRpcRequest) => {
    const params = (req.params ?? {}) as { protocolVersion?: unknown };
    return resultResponse(req.id, {
      protocolVersion: typeof params.protocolVersion === 'string' ? params.protocolVersion : '2025-06-18',
      capabilities: { tools: { listChanged: true } },
      serverInfo: { name: 'sentrail-bridge', version: opts.version },
      instructions: `Sentrail is not connected to the gate yet: ${state.reason} Call the ${STATUS_TOOL} tool for details.`,
    });
  };

  const statusText = () =>
    [
      `Sentrail bridge ${opts.version}: not connected to the gate ${opts.gateLabel}.`,
      `Why: ${state.reason}`,
      state.hint ? `What to do: ${state.hint}` : '',
      'Until then every tool call fails closed: nothing is sent anywhere. The bridge keeps retrying and will announce the real tools as soon as the gate answers.',
    ]
      .filter(Boolean)
      .join('\n');

  const initialize = async (req: JsonRpcRequest) => {
    const info = (req.params as { clientInfo?: { name?: unknown } } | undefined)?.clientInfo;
    if (typeof info?.name === 'string') state.clientName = info.name;
    if (!opts.gate) {
      unavailable(opts.noGateReason ?? 'no gate is configured.', 'Add `--gate <URL>` to the bridge\'s arguments in .mcp.json (the URL your Sentrail admin gave you).');
      return localInitialize(req);
    }
    try {
      const res = await opts.gate.initialize(req, opts.firstAnswerMs ?? FIRST_ANSWER_MS);
      state.mode = 'connected';
      return res;
    } catch (err) {
      describe(toUpstreamError(err));
      return localInitialize(req);
    }
  };

  const interceptor: Interceptor = {
    arrived(message) {
      if ('method' in message && message.method === 'initialize' && 'id' in message) {
        opts.gate?.expectInitialize();
        initializing ??= new Promise<void>((resolve) => (initialized = resolve));
      }
    },
    async request(req) {
      if (req.method === 'initialize') {
        try {
          return await initialize(req);
        } finally {
          const release = initialized;
          initializing = null;
          initialized = null;
          release?.();
        }
      }
      // Pipelined behind initialize: wait to know whether there is a gate session.
      if (state.mode === 'starting' && initializing) await initializing;
      if (state.mode !== 'unavailable') return undefined;
      switch (req.method) {
        case 'ping':
          return resultResponse(req.id, {});
        case 'tools/list':
          return resultResponse(req.id, {
            tools: [
              {
                name: STATUS_TOOL,
                description: `Sentrail is not connected to your gate: ${state.reason} ${state.hint} Call this tool to see the current status.`.trim(),
                inputSchema: { type: 'object', properties: {} },
              },
            ],
          });
        case 'tools/call': {
          const name = (req.params as { name?: unknown } | undefined)?.name;
          if (name === STATUS_TOOL) return resultResponse(req.id, { content: [{ type: 'text', text: statusText() }] });
          return unavailableResult(req.id, `Sentrail: the call was not made: ${state.reason} ${state.hint}`.trim(), 'gate_unavailable');
        }
        default:
          return errorResponse(req.id, ErrorCode.MethodNotFound, `sentrail bridge is not connected to the gate (${state.reason}); ${req.method} is not available until it is`);
      }
    },
    notification(n) {
      if (n.method === 'notifications/initialized') opts.gate?.markClientInitialized();
      // Nothing reaches a gate we are not connected to.
      return state.mode === 'unavailable';
    },
  };
  return {
    interceptor,
    state,
    stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
    },
  };
}

/** Anything thrown on the way (a bug, a store error) is still a reason the user can read. */
function toUpstreamError(err: unknown): UpstreamError {
  return err instanceof UpstreamError ? err : new UpstreamError((err as Error)?.message ?? String(err), -32000, undefined, 'http');
}
