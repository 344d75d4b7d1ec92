// `--hosted`: one upstream connection for the whole gate, as the hosted gate keeps one MCP server
// per workspace. The gate itself is the upstream's client here (clients never initialize it: the
// gate answers their initialize), so this end does the handshake, then relays. It connects when
// first needed (and at start, to warm up); when the upstream goes away, what was in flight fails
// and the next request that needs it reconnects, at most once per retry delay.
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, isFailure, isResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import { UpstreamError, type UpstreamTransport } from '../relay/relay.ts';
import { GateUpstream, type UpstreamOptions, type UpstreamSpec } from './upstream.ts';

export interface SharedUpstreamOptions extends UpstreamOptions {
  spec: UpstreamSpec;
  clientInfo: { name: string; version: string };
  /** After a failed connection, requests get 424 at once for this long before another try. */
  retryDelayMs?: number;
  handshakeTimeoutMs?: number;
  now?: () => number;
}

export class SharedUpstream implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  onrequestfailed?: (id: JsonRpcId, error: Error) => void;

  private conn: GateUpstream | null = null;
  private connecting: Promise<GateUpstream> | null = null;
  private lastFailure: { at: number; error: UpstreamError } | null = null;
  private readonly taps: ((m: JsonRpcMessage) => void)[] = [];
  private handshakes = 0;
  private readonly now: () => number;

  constructor(private readonly opts: SharedUpstreamOptions) {
    this.now = opts.now ?? Date.now;
  }

  get connected(): boolean {
    return this.conn?.isOpen ?? false;
  }

  tap(listener: (m: JsonRpcMessage) => void): void {
    this.taps.push(listener);
  }

  /** Nothing to do: the connection is made on demand (see warmUp). */
  async start(): Promise<void> {}

  /** Connects now; resolves to the reason when that fails (requests then get 424 until it works). */
  async warmUp(): Promise<UpstreamError | null> {
    try {
      await this.connection();
      return null;
    } catch (err) {
      return err as UpstreamError;
    }
  }

  async send(message: JsonRpcMessage): Promise<void> {
    const conn = await this.connection();
    await conn.send(message);
  }

  async close(): Promise<void> {
    await this.conn?.close();
  }

  async kill(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    await this.conn?.kill();
  }

  private connection(): Promise<GateUpstream> {
    if (this.conn?.isOpen) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    const retryDelay = this.opts.retryDelayMs ?? 5000;
    if (this.lastFailure && this.now() - this.lastFailure.at < retryDelay) return Promise.reject(this.lastFailure.error);
    this.connecting = this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<GateUpstream> {
    const conn = new GateUpstream(this.opts.spec, this.opts);
    const initializeId = `sentrail-gate-initialize-${++this.handshakes}`;
    let settle!: (outcome: JsonRpcResponse | Error) => void;
    const answered = new Promise<JsonRpcResponse>((resolve, reject) => {
      settle = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
    });
    answered.catch(() => undefined); // settled late (the upstream died after the handshake): nobody waits

    conn.onmessage = (m) => {
      if (isResponse(m) && m.id === initializeId) return settle(m);
      for (const tap of this.taps) tap(m);
      this.onmessage?.(m);
    };
    conn.onrequestfailed = (id, err) => (id === initializeId ? settle(err) : this.onrequestfailed?.(id, err));
    conn.onclose = () => {
      settle(new Error('it exited during initialize'));
      if (this.conn !== conn) return;
      this.conn = null;
      this.opts.log.warn('the upstream MCP server went away; the next request that needs it reconnects');
    };

    try {
      await conn.start();
      await conn.send({
        jsonrpc: '2.0',
        id: initializeId,
        method: 'initialize',
        params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: this.opts.clientInfo },
      });
      const timeout = this.opts.handshakeTimeoutMs ?? 10_000;
      const timer = setTimeout(() => settle(new Error(`no answer to initialize within ${timeout} ms`)), timeout);
      const res = await answered.finally(() => clearTimeout(timer));
      if (isFailure(res)) throw new Error(`initialize failed: ${res.error.message}`);
      await conn.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.conn = conn;
      this.lastFailure = null;
      const info = res.result.serverInfo as { name?: string; version?: string } | undefined;
      this.opts.log.info(`upstream connected: ${info?.name ?? 'an MCP server'} ${info?.version ?? ''}`.trimEnd());
      return conn;
    } catch (err) {
      const error =
        err instanceof UpstreamError && err.kind === 'no-upstream'
          ? err
          : new UpstreamError(`No MCP server connected: the upstream (${this.opts.spec.display}) failed: ${(err as Error).message}`, ErrorCode.ConnectionClosed, undefined, 'no-upstream');
      this.lastFailure = { at: this.now(), error };
      await conn.kill().catch(() => undefined);
      throw error;
    }
  }
}
