// The gate's own connection to the upstream, for replaying approved calls. The client session that
// asked for the call may be long gone when a reviewer approves it (and in default mode each session
// had its own upstream), so replays go through a connection of the gate's: connected on the first
// replay, the gate itself as the MCP client (SharedUpstream does the handshake), kept for the next.
// Server→client requests get the answers a client without capabilities gives.
import { ErrorCode, errorResponse, idKey, isRequest, isResponse, resultResponse, type JsonRpcId, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import { SharedUpstream, type SharedUpstreamOptions } from './shared-upstream.ts';

export class ReplayTimeoutError extends Error {
  constructor(ms: number) {
    super(`the upstream did not answer the replayed call within ${Math.round(ms / 1000)} s`);
    this.name = 'ReplayTimeoutError';
  }
}

/** The gate stopped while the upstream had the call: it may or may not have run. */
export class ReplayInterruptedError extends Error {
  constructor() {
    super('The gate stopped while the upstream was running the approved call; it may or may not have run, so it is not run again');
    this.name = 'ReplayInterruptedError';
  }
}

interface Waiting {
  resolve: (r: JsonRpcResponse) => void;
  reject: (e: Error) => void;
}

export class ReplayUpstream {
  private readonly upstream: SharedUpstream;
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;

  constructor(opts: SharedUpstreamOptions) {
    this.upstream = new SharedUpstream(opts);
    this.upstream.onmessage = (m) => {
      if (isResponse(m) && m.id !== undefined) {
        const w = this.waiting.get(idKey(m.id));
        if (w) {
          this.waiting.delete(idKey(m.id));
          w.resolve(m);
        }
        return;
      }
      if (isRequest(m)) {
        const answer = m.method === 'ping' ? resultResponse(m.id, {}) : errorResponse(m.id, ErrorCode.MethodNotFound, `Method not found: the gate replays approved calls without a client to ask (${m.method})`);
        void this.upstream.send(answer).catch(() => undefined);
      }
    };
    this.upstream.onrequestfailed = (id: JsonRpcId, err: Error) => {
      const w = this.waiting.get(idKey(id));
      if (!w) return;
      this.waiting.delete(idKey(id));
      w.reject(err);
    };
  }

  /** Sends one request and resolves to its response; rejects when the upstream fails or after `timeoutMs` (then cancels it there). */
  async call(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JsonRpcResponse> {
    const id = `sentrail-replay-${++this.next}`;
    const answered = new Promise<JsonRpcResponse>((resolve, reject) => this.waiting.set(idKey(id), { resolve, reject }));
    answered.catch(() => undefined); // observed by the race below; this only keeps an early failure from counting as unhandled
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.waiting.delete(idKey(id));
        void this.upstream.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'replay timed out' } }).catch(() => undefined);
        reject(new ReplayTimeoutError(timeoutMs));
      }, timeoutMs);
      timer.unref();
    });
    try {
      await this.upstream.send({ jsonrpc: '2.0', id, method, params });
      return await Promise.race([answered, timedOut]);
    } catch (err) {
      this.waiting.delete(idKey(id));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    for (const w of this.waiting.values()) w.reject(new ReplayInterruptedError());
    this.waiting.clear();
    await this.upstream.kill();
  }
}
