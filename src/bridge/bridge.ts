// `sentrail bridge`: the stdio MCP server Claude Code launches. stdin/stdout carry JSON-RPC and
// nothing else; the relay core joins them to the gate, with the session and the policy first
// check as interceptors. The process ends within 2 s of stdin's end, a signal, or its parent's death.
import os from 'node:os';
import path from 'node:path';
import { dirs, gateKey } from '../config/paths.ts';
import { createLogger, type LogLevel, type Logger } from '../log/logger.ts';
import { Relay, UpstreamError } from '../relay/relay.ts';
import type { JsonRpcId } from '../relay/jsonrpc.ts';
import { StdioTransport } from '../relay/stdio-transport.ts';
import { bridgeCredentials, type Credential, type CredentialSource } from './credentials.ts';
import { isLoopback, resolveGateAddress, type GateAddress } from './gate-address.ts';
import { GateConnection, type TransportChoice } from './gate-connection.ts';
import { createApprovalInterceptor } from './approval-interceptor.ts';
import { createAuditObserver } from './audit-observer.ts';
import { createAuditUploader } from './audit-upload.ts';
import { createStatusReader } from './approval-status.ts';
import { createHttpClient } from './http-client.ts';
import { createPolicyInterceptor } from './policy-interceptor.ts';
import { PolicySync } from './policy-sync.ts';
import { createSessionInterceptor } from './session-interceptor.ts';

export interface BridgeOptions {
  gate?: string;
  cloudUrl?: string;
  agent?: string;
  policy?: string;
  transport?: TransportChoice;
  allowHttp?: boolean;
  logFile?: string;
  logLevel?: LogLevel;
  apiKey?: string;
  /** Seconds a forwarded request may go without a word from the gate (0: no bound); REQUEST_TIMEOUT_S. */
  requestTimeout?: number;
  /** Seconds a call held for approval may wait for the reviewer (0: do not wait); APPROVAL_WAIT_S. */
  approvalWait?: number;
  /** false (--no-audit, SENTRAIL_AUDIT=off): no local audit lines. */
  audit?: boolean;
  version: string;
  /** The token store of `sentrail login` (next issue) plugs in here. */
  store?: CredentialSource;
}

const EXIT_DEADLINE_MS = 1800;

/**
 * The default bound on a forwarded request (docs/bridge.md, "Bounds"). Long enough for real tool
 * calls (a hosted gate, an edge function, cannot hold a request much longer anyway), short enough
 * that a client without a timeout of its own (Claude Code's is about a day) is not left waiting.
 */
export const REQUEST_TIMEOUT_S = 300;

/**
 * The default bound on waiting for a reviewer (docs/bridge.md, "Held for approval"). Claude Code
 * keeps no timer of its own on a stdio server's request and restarts its remote idle watchdog
 * (300 s) on progress, but its UI is reported to give up on calls that block for 10–15 minutes:
 * the bridge answers first, and the approval stays open for a later identical call.
 */
export const APPROVAL_WAIT_S = 600;

export function defaultLogFile(gate: string | undefined): string {
  return path.join(dirs.state(), `bridge-${gate ? gateKey(gate) : 'no-gate'}.log`);
}

/** In a stdio server, stdout is the protocol: anything a library prints goes to the log instead. */
function guardStdout(log: Logger): void {
  const toLog = (level: 'info' | 'warn' | 'debug') => (...args: unknown[]) => log[level](args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  console.log = toLog('info');
  console.info = toLog('info');
  console.debug = toLog('debug');
  console.warn = toLog('warn');
  console.error = toLog('warn');
}

/** Registers every credential the bridge handles with the log's redactor before it can be printed. */
function redacting(source: CredentialSource, log: Logger): CredentialSource {
  const seen = (c: Credential | null) => {
    if (c) log.redactor.add(c.token);
    return c;
  };
  return { get: async () => seen(await source.get()), refresh: async (r) => seen(await source.refresh(r)) };
}

export async function runBridgeProcess(opts: BridgeOptions): Promise<number> {
  const log = createLogger({ level: opts.logLevel ?? 'info', file: opts.logFile ?? defaultLogFile(opts.gate), name: 'sentrail bridge' });
  log.redactor.add(opts.apiKey);
  log.redactor.add(process.env.SENTRAIL_API_KEY);
  guardStdout(log);
  // Last resort only: every known failure is handled where it happens. Should one slip through,
  // the bridge logs it (stderr and the log, never stdout) and stays up for its client, instead of
  // Node's default of printing a stack and exiting 1.
  process.on('unhandledRejection', (reason) => {
    log.error(`internal error (a bug in sentrail; the bridge carries on): ${(reason as Error)?.message ?? String(reason)}`);
  });
  if (opts.apiKey) log.warn('--api-key puts the key in the command line, where other processes on this machine can read it; prefer SENTRAIL_API_KEY in the .mcp.json env block');

  let address: GateAddress | null = null;
  let noGateReason: string | undefined;
  if (!opts.gate) noGateReason = 'no gate URL was given (--gate).';
  else {
    try {
      address = resolveGateAddress(opts.gate, { cloudUrl: opts.cloudUrl, allowHttp: opts.allowHttp });
    } catch (err) {
      noGateReason = `${(err as Error).message}.`;
    }
  }
  const gateLabel = address ? address.mcpUrl.origin + address.mcpUrl.pathname : '(none)';
  const httpClient = await createHttpClient();
  const credentials = redacting(bridgeCredentials({ apiKey: opts.apiKey, store: opts.store }), log);

  let clientName: string | null = null;
  const agent = () => opts.agent || process.env.SENTRAIL_AGENT_ID || clientName || 'unknown';

  const gate = address
    ? new GateConnection({ url: address.mcpUrl, http: httpClient, credentials, agent, transport: opts.transport ?? 'auto', log, stillWanted: (id: JsonRpcId): boolean => relay.isPending(id) })
    : null;
  const credential = await gate?.prepare();
  const policy = new PolicySync({
    gate: opts.gate ?? '',
    cloudBase: address?.cloudBase ?? null,
    policyFile: opts.policy,
    http: httpClient,
    headers: async () => (await gate?.freshAuthHeaders()) ?? {},
    log,
    onChange: () => void stdio.send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }),
  });
  // The first pull goes out now, in parallel with the client's initialize; without a credential
  // there is nothing to pull with yet (a local --policy file still loads).
  if (credential || opts.policy) policy.start();

  const stdio = new StdioTransport();
  const session = createSessionInterceptor({
    gate,
    noGateReason,
    gateLabel,
    version: opts.version,
    log,
    notifyClient: (n) => void stdio.send(n),
    redact: (text) => log.redactor.redact(text),
  });
  const approvals = createApprovalInterceptor({
    // No cloud base (a URL without /mcp-gate and no --cloud-url): no status endpoint to ask.
    read: address?.cloudBase ? createStatusReader({ cloudBase: address.cloudBase, http: httpClient, headers: async () => (await gate?.freshAuthHeaders()) ?? {} }) : null,
    boundMs: (opts.approvalWait ?? APPROVAL_WAIT_S) * 1000,
    gate: { loopback: address ? isLoopback(address.mcpUrl) : true, label: gateLabel },
    notifyClient: (n) => void stdio.send(n),
    log,
  });
  const firstCheck = createPolicyInterceptor({ policy, agent, log, gateLabel, redact: (text) => log.redactor.redact(text) });
  const auditOn = opts.audit !== false && process.env.SENTRAIL_AUDIT !== 'off';
  const cloudBase = address?.cloudBase ?? null;
  const uploader = auditOn && cloudBase ? createAuditUploader({ cloudBase, http: httpClient, headers: async () => (await gate?.freshAuthHeaders()) ?? {}, log }) : null;
  const audit = auditOn
    ? createAuditObserver({
        gate: gateLabel,
        agent,
        open: async () => {
          const { openAuditLog, sha256 } = await import('../audit/audit-log.ts');
          return { sink: openAuditLog(), sha256 };
        },
        warn: (message) => log.warn(message),
        ...(uploader ? { reportLocal: (record) => uploader.report(record) } : {}),
      })
    : null;
  const relay = new Relay({
    client: stdio,
    upstream: gate ?? { start: async () => {}, send: async () => { throw new UpstreamError('no gate is configured', -32000, undefined, 'unreachable'); }, close: async () => {} },
    requestTimeoutMs: () => (opts.requestTimeout ?? REQUEST_TIMEOUT_S) * 1000 || null,
    forgetCancelled: true,
    interceptors: [
      {
        // Learn the client's name (the default agent id) before anything else looks at it.
        request(req) {
          if (req.method === 'initialize') {
            const name = (req.params as { clientInfo?: { name?: unknown } } | undefined)?.clientInfo?.name;
            if (typeof name === 'string') clientName = name;
          }
          return undefined;
        },
      },
      session.interceptor,
      firstCheck,
      // Between the two: it sees the gate's own answer, before the wait replaces a held one.
      ...(audit ? [audit.interceptor] : []),
      // After the first check, whose response hook turns the gate's blocks into results.
      approvals.interceptor,
    ],
    ...(audit ? { onAnswer: audit.onAnswer } : {}),
    log,
  });
  if (gate) {
    gate.ondisconnect = (err) => {
      // What was forwarded reached the gate: it may have run. Say so rather than "not sent".
      const n = relay.failForwarded(new UpstreamError(`the connection to the gate broke before it answered (${err.message})`, -32000, undefined, 'interrupted'));
      if (n > 0) log.warn('answered the requests in flight: the gate went away', { requests: n });
    };
    gate.onsessionlost = (err) => {
      // Not the requests being sent again on the new session (gate-connection.ts): they did not run.
      relay.failForwarded(new UpstreamError(`the gate lost the session (${err.message}); retry the request`, -32000, undefined, 'session-lost'), (req) => gate.isResending(req.id));
    };
  }

  log.info(`started`, { version: opts.version, gate: gateLabel, pid: process.pid, logFile: log.file, credential: credential?.origin ?? 'none', node: process.version, platform: `${os.platform()}-${os.arch()}` });

  return new Promise<number>((resolve) => {
    let ending = false;
    const end = (why: string) => {
      if (ending) return;
      ending = true;
      log.info('shutting down', { why });
      // Whatever happens below, the process is gone within the deadline.
      setTimeout(() => resolve(0), EXIT_DEADLINE_MS).unref();
      session.stop();
      policy.stop();
      // Before failAll: a call waiting for approval is told its approval stays open, not "not made".
      for (const res of approvals.stop()) if (res.id !== undefined) relay.answer(res.id, res);
      relay.failAll(new UpstreamError('the bridge is shutting down', -32000, undefined, 'closed'));
      void (gate?.close(1000) ?? Promise.resolve()).finally(() => resolve(0));
    };
    stdio.onclose = () => end('stdin closed');
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => end(signal));
    // A parent that dies without closing our stdin (SIGKILL) reparents us: notice and leave.
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid !== parent) end('parent process ended');
    }, 500);
    watch.unref();
    void stdio.start();
  });
}
