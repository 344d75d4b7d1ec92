// Approvals, as a relay interceptor: a tools/call the gate holds for a human (`require_approval`)
// stays open here. The bridge polls the gate's status endpoint, tells the client how long it has
// waited (notifications/progress, when the client gave a progressToken: Claude Code restarts its
// idle timer on progress), and answers with the replayed result once a reviewer approves, or with
// what happened instead. A wait the client stops (cancel) or that outruns --approval-wait leaves
// the approval open on the gate; an identical call later reuses it rather than asking twice.
import { idKey, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import type { Interceptor } from '../relay/relay.ts';
import { ApprovalMemory, reuseKey } from './approval-memory.ts';
import { closingResult, lostResult, settledResult, stillPendingResult, waitingMessage, type HeldCall } from './approval-results.ts';
import type { StatusReader } from './approval-status.ts';
import { waitForApproval, type WaitEnd, type WaitOptions } from './approval-wait.ts';

export interface ApprovalInterceptorOptions {
  /** Reads the status endpoint; null when the gate has no cloud base (no status endpoint to ask). */
  read: StatusReader | null;
  /** --approval-wait in ms; 0: do not wait (the gate's result passes through). */
  boundMs: number;
  /** The gate, as the progress text names where to approve (approveHint). */
  gate?: { loopback: boolean; label: string };
  notifyClient: (n: JsonRpcNotification) => void;
  log: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void; debug(m: string, f?: Record<string, unknown>): void };
  /** For tests: the poll schedule and progress period. */
  delay?: WaitOptions['delay'];
  progressEveryMs?: number;
}

interface SentrailMeta {
  status?: unknown;
  approvalRequestId?: unknown;
  policy?: unknown;
}

/** The approval a gate's answer asks for, or null when it is not a require_approval result. */
export function heldCallOf(req: JsonRpcRequest, res: JsonRpcResponse): HeldCall | null {
  if (req.method !== 'tools/call' || !('result' in res)) return null;
  const meta = (res.result._meta as { sentrail?: SentrailMeta } | undefined)?.sentrail;
  if (meta?.status !== 'require_approval' || typeof meta.approvalRequestId !== 'string' || meta.approvalRequestId === '') return null;
  return { approvalRequestId: meta.approvalRequestId, tool: toolName(req), policy: typeof meta.policy === 'string' ? meta.policy : null };
}

const toolName = (req: JsonRpcRequest) => (typeof req.params?.name === 'string' ? req.params.name : '(unnamed tool)');

function progressTokenOf(req: JsonRpcRequest): string | number | undefined {
  const token = (req.params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

export function createApprovalInterceptor(opts: ApprovalInterceptorOptions): { interceptor: Interceptor; stop(): JsonRpcResponse[]; readonly waiting: number } {
  const memory = new ApprovalMemory();
  /** Calls waiting now, by request id: what a cancel or the shutdown stops. */
  const waits = new Map<string, { abort: AbortController; req: JsonRpcRequest; held: HeldCall }>();
  const enabled = opts.read !== null && opts.boundMs > 0;

  const wait = async (req: JsonRpcRequest, held: HeldCall): Promise<WaitEnd> => {
    const key = idKey(req.id);
    const abort = new AbortController();
    waits.set(key, { abort, req, held });
    const token = progressTokenOf(req);
    opts.log.info('holding a tool call for approval', { tool: held.tool, approvalRequestId: held.approvalRequestId, waitUpTo: `${opts.boundMs / 1000} s` });
    try {
      return await waitForApproval({
        held,
        boundMs: opts.boundMs,
        read: opts.read!,
        signal: abort.signal,
        log: opts.log,
        delay: opts.delay,
        progressEveryMs: opts.progressEveryMs,
        progress:
          token === undefined
            ? undefined
            : (waitedMs) =>
                opts.notifyClient({
                  jsonrpc: '2.0',
                  method: 'notifications/progress',
                  // progress must grow with each notification: seconds waited, to the tenth
                  params: { progressToken: token, progress: Math.round(waitedMs / 100) / 10, total: opts.boundMs / 1000, message: waitingMessage(held, waitedMs, opts.boundMs, opts.gate) },
                }),
      });
    } finally {
      waits.delete(key);
    }
  };

  /** The answer for a wait's end; undefined: let the gate's own answer (or the gate) have it. */
  const answerFor = (req: JsonRpcRequest, held: HeldCall, end: WaitEnd, reuseOf: string): JsonRpcResponse | undefined => {
    switch (end.kind) {
      case 'settled':
        memory.forget(reuseOf, held.approvalRequestId);
        opts.log.info(`the approval ended: ${end.answer.status}`, { tool: held.tool, approvalRequestId: held.approvalRequestId });
        return settledResult(req.id, held, end.answer);
      case 'still-pending':
        opts.log.info('stopped waiting for the approval (--approval-wait); it stays pending on the gate, and an identical call reuses it', { approvalRequestId: held.approvalRequestId, lastProblem: end.lastProblem });
        return stillPendingResult(req.id, held, end.waitedMs, end.lastProblem);
      case 'lost':
        memory.forget(reuseOf, held.approvalRequestId);
        opts.log.warn('the gate no longer knows the approval', { approvalRequestId: held.approvalRequestId });
        return lostResult(req.id, held);
      case 'no-status':
        memory.forget(reuseOf, held.approvalRequestId);
        opts.log.info('the gate has no approval status to follow; passing its answer through', { approvalRequestId: held.approvalRequestId, why: end.why });
        return undefined;
      case 'aborted':
        return undefined; // cancelled or closing: nobody reads an answer
    }
  };

  const interceptor: Interceptor = {
    arrived(message) {
      // Synchronously, before the relay forgets the request: a cancel must reach its wait.
      if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message) return;
      const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof id !== 'string' && typeof id !== 'number') return;
      const waiting = waits.get(idKey(id));
      if (!waiting) return;
      // The relay drops the cancel itself: the gate answered this request already, nothing is in flight there.
      waiting.abort.abort();
      opts.log.info('the client cancelled a call waiting for approval; the approval stays pending on the gate, and an identical call reuses it', { id });
    },

    async request(req) {
      if (!enabled || req.method !== 'tools/call') return undefined;
      const key = reuseKey(req.params);
      const held = memory.get(key);
      if (!held) return undefined;
      // The same call as one whose approval is still open: wait on it again, not on a second one.
      opts.log.info('an identical call is waiting for approval already; reusing it', { tool: held.tool, approvalRequestId: held.approvalRequestId });
      const end = await wait(req, held);
      if (end.kind === 'no-status' || end.kind === 'lost') {
        memory.forget(key, held.approvalRequestId);
        return undefined; // the gate forgot it: this call goes to the gate afresh
      }
      if (end.kind === 'settled' && end.answer.status === 'expired' && end.polls === 1) {
        memory.forget(key, held.approvalRequestId);
        return undefined; // expired while nobody waited: a new call asks for a new approval
      }
      // Aborted: the relay has forgotten the request (cancelled) or answered it (closing), and drops this.
      return answerFor(req, held, end, key) ?? stillPendingResult(req.id, held, 0, null);
    },

    async response(req, res) {
      if (!enabled) return res;
      const held = heldCallOf(req, res);
      if (!held) return res;
      const key = reuseKey(req.params);
      memory.remember(key, held);
      const end = await wait(req, held);
      return answerFor(req, held, end, key) ?? res;
    },
  };

  return {
    interceptor,
    get waiting() {
      return waits.size;
    },
    /** Ends every wait (the bridge is closing); returns the answers for them, which say the approvals stay open. */
    stop() {
      const answers = [...waits.values()].map(({ req, held }) => closingResult(req.id, held));
      for (const { abort } of waits.values()) abort.abort();
      return answers;
    },
  };
}
