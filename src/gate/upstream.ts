// The gate's upstream end: an MCP server started as a child process (`--upstream`, newline-framed
// stdio) or reached over Streamable HTTP (`--upstream-url`), behind the relay's UpstreamTransport.
// The SDK's client transports do the I/O; this adapter adds what a raw relay needs around them:
//  - the negotiated protocol version, set on the HTTP transport when the initialize result passes
//    (the SDK's Client would do it; a relay must: research notes §2);
//  - a failed answer for every request still in flight when the upstream goes away (child exit,
//    stream ended, session lost), so no client request waits forever;
//  - errors that say what happened, as UpstreamError with a kind;
//  - taps: observers of upstream messages (the tools/list cache listens for list_changed).
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport as SdkTransport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ErrorCode, idKey, isFailure, isRequest, isResponse, type JsonRpcId, type JsonRpcMessage } from '../relay/jsonrpc.ts';
import { UpstreamError, type UpstreamTransport } from '../relay/relay.ts';
import { watchResponseStreams } from './response-stream-watch.ts';

export type UpstreamSpec =
  | { kind: 'command'; argv: string[]; /** As given, for messages. */ display: string }
  | { kind: 'url'; url: URL; display: string };

export interface UpstreamOptions {
  log: { info(m: string): void; warn(m: string): void; debug(m: string, f?: Record<string, unknown>): void };
  /** The child's environment (the gate's own secrets removed). */
  env?: Record<string, string>;
}

/** How long a closed SSE response stream may still deliver its last event before its requests fail. */
const STREAM_END_GRACE_MS = 50;
/** `kill()`: SIGTERM, then SIGKILL after this long. */
const KILL_GRACE_MS = 1000;
/** How long the DELETE ending an upstream HTTP session may take. */
const TERMINATE_TIMEOUT_MS = 500;

type State = 'new' | 'open' | 'closed';

export class GateUpstream implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;

  private readonly inner: SdkTransport & { setProtocolVersion?(v: string): void };
  private readonly inFlight = new Map<string, JsonRpcId>();
  private readonly initializeIds = new Set<string>();
  private readonly taps: ((m: JsonRpcMessage) => void)[] = [];
  private state: State = 'new';
  private failure: UpstreamError | null = null;
  /** onclose was reported (once, whatever closed it). */
  private over = false;
  private childPid: number | null = null;

  constructor(
    readonly spec: UpstreamSpec,
    private readonly opts: UpstreamOptions,
  ) {
    if (spec.kind === 'command') {
      this.inner = new StdioClientTransport({ command: spec.argv[0]!, args: spec.argv.slice(1), env: opts.env ?? {}, stderr: 'pipe' });
    } else {
      this.inner = new StreamableHTTPClientTransport(spec.url, {
        fetch: watchResponseStreams((ids) => setTimeout(() => this.failStillWaiting(ids), STREAM_END_GRACE_MS)),
        // No resumption: a dropped upstream stream fails the requests it carried (above) rather
        // than leaving them to a reconnect that may never come.
        reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 },
      });
    }
    this.inner.onmessage = (m) => this.receive(m as JsonRpcMessage);
    this.inner.onerror = (err) => {
      this.opts.log.debug(`upstream: ${err.message}`);
      this.onerror?.(err);
    };
    this.inner.onclose = () => this.ended(new UpstreamError('The upstream MCP server exited before answering', ErrorCode.ConnectionClosed, undefined, 'closed'));
  }

  /** The child's process id (command upstreams) while it runs. Kept here: the SDK forgets it once close() starts. */
  get pid(): number | null {
    return this.over ? null : this.childPid;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  tap(listener: (m: JsonRpcMessage) => void): void {
    this.taps.push(listener);
  }

  async start(): Promise<void> {
    if (this.inner instanceof StdioClientTransport) this.forwardStderr(this.inner);
    try {
      await this.inner.start();
    } catch (err) {
      this.failure = new UpstreamError(`The upstream MCP server could not be started: ${(err as Error).message}`, ErrorCode.ConnectionClosed, undefined, 'no-upstream');
      this.state = 'closed';
      throw this.failure;
    }
    if (this.inner instanceof StdioClientTransport) this.childPid = this.inner.pid;
    if (this.state === 'new') this.state = 'open';
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.state !== 'open') {
      throw this.failure ?? new UpstreamError('The upstream MCP server is not connected', ErrorCode.ConnectionClosed, undefined, 'closed');
    }
    const key = isRequest(message) ? idKey(message.id) : undefined;
    if (key !== undefined && isRequest(message)) {
      this.inFlight.set(key, message.id);
      if (message.method === 'initialize') this.initializeIds.add(key);
    }
    try {
      await this.inner.send(message as never);
    } catch (err) {
      if (key !== undefined) {
        this.inFlight.delete(key);
        this.initializeIds.delete(key);
      }
      throw this.explain(err);
    }
  }

  /** Politely: HTTP ends its upstream session (DELETE); a child gets stdin EOF, then signals (the SDK's sequence). */
  async close(): Promise<void> {
    if (this.inner instanceof StreamableHTTPClientTransport && this.inner.sessionId && this.state === 'open') {
      const ending = this.inner.terminateSession().catch((err: Error) => this.opts.log.debug(`upstream: could not end the upstream session: ${err.message}`));
      // An unresponsive upstream must not hold the gate's session (or its shutdown) open.
      await Promise.race([ending, new Promise((resolve) => setTimeout(resolve, TERMINATE_TIMEOUT_MS).unref())]);
    }
    await this.inner.close();
  }

  /** Now (gate shutdown): a child gets SIGTERM, then SIGKILL if it lingers; HTTP gets its short-lived DELETE. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === null) return this.spec.kind === 'url' ? this.close() : undefined;
    signal(pid, 'SIGTERM');
    const killer = setTimeout(() => signal(pid, 'SIGKILL'), KILL_GRACE_MS);
    killer.unref();
    await this.inner.close();
    clearTimeout(killer);
  }

  private receive(message: JsonRpcMessage): void {
    if (isResponse(message) && message.id !== undefined) {
      const key = idKey(message.id);
      this.inFlight.delete(key);
      if (this.initializeIds.delete(key) && !isFailure(message)) {
        const version = message.result.protocolVersion;
        if (typeof version === 'string') this.inner.setProtocolVersion?.(version);
      }
    }
    for (const tap of this.taps) tap(message);
    this.onmessage?.(message);
  }

  private failStillWaiting(ids: JsonRpcId[]): void {
    for (const id of ids) {
      if (!this.inFlight.delete(idKey(id))) continue;
      this.onrequestfailed?.(id, new UpstreamError('The upstream MCP server ended its response stream before answering', ErrorCode.ConnectionClosed, undefined, 'closed'));
    }
  }

  private ended(error: UpstreamError): void {
    if (this.over) return;
    this.over = true;
    this.state = 'closed';
    this.failure ??= new UpstreamError('The upstream MCP server is gone', ErrorCode.ConnectionClosed, undefined, 'closed');
    const waiting = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const id of waiting) this.onrequestfailed?.(id, error);
    this.onclose?.();
  }

  private explain(err: unknown): UpstreamError {
    if (err instanceof UpstreamError) return err;
    const e = err as Error & { cause?: { code?: string } };
    if (err instanceof StreamableHTTPError) {
      const lost = err.code === 404 || (err.code === 400 && /session/i.test(err.message));
      if (lost) {
        // The upstream forgot this session: so is ours (the client re-initializes after its 404).
        queueMicrotask(() => this.ended(new UpstreamError('The upstream MCP server lost the session', ErrorCode.ConnectionClosed, undefined, 'session-lost')));
        return new UpstreamError(`The upstream MCP server lost the session (HTTP ${err.code})`, ErrorCode.ConnectionClosed, undefined, 'session-lost');
      }
      return new UpstreamError(`The upstream MCP server answered ${err.message.replace(/^Streamable HTTP error: /, '')}`, ErrorCode.ConnectionClosed, undefined, 'http');
    }
    if (e?.message === 'fetch failed') {
      return new UpstreamError(`The upstream MCP server at ${this.spec.display} is unreachable (${e.cause?.code ?? 'network error'})`, ErrorCode.ConnectionClosed, undefined, 'unreachable');
    }
    return new UpstreamError(`The upstream MCP server could not be reached: ${e?.message ?? String(err)}`, ErrorCode.ConnectionClosed, undefined, 'unreachable');
  }

  /** The child's stderr, a line at a time, into the gate's log (so each line says where it came from). */
  private forwardStderr(transport: StdioClientTransport): void {
    const stderr = transport.stderr;
    if (!stderr) return;
    createInterface({ input: stderr as Readable, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim()) this.opts.log.info(`upstream[${this.childPid ?? '?'}]: ${line}`);
    });
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** The environment an upstream child inherits: the gate's, without the gate's own credentials. */
export function childEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k === 'SENTRAIL_GATE_API_KEY' || k === 'SENTRAIL_API_KEY' || k === 'SENTRAIL_ADMIN_KEY') continue;
    out[k] = v;
  }
  return out;
}
