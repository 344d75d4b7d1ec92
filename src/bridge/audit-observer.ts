// The bridge's audit (docs/bridge.md, "Audit"): one line per tools/call answer the client gets,
// saying what was decided and by whom. It watches at two points: the gate's answer before the
// approval wait (to know a call was held, and by which approval), and the final answer (relay's
// onAnswer). The writer and its crypto load at the first call, not at start-up.
import type { AuditDecision, AuditRecord } from '../audit/record.ts';
import { canonicalJson } from '../relay/call-hash.ts';
import { idKey, type JsonRpcRequest, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import type { Interceptor } from '../relay/relay.ts';

type Meta = { status?: unknown; source?: unknown; policy?: unknown; policyId?: unknown; policyVersion?: unknown; approvalRequestId?: unknown; reason?: unknown };

interface Held {
  approvalId: string | null;
  policy: string | null;
}

/** Answers the bridge gives itself when the call was not made: nothing left the machine, or could not. */
const FAIL_CLOSED = new Set(['gate_unreachable', 'unauthorized', 'login_required', 'auth_server_unreachable', 'no_upstream', 'closed']);

const str = (v: unknown) => (typeof v === 'string' ? v : null);

function sentrailMeta(res: JsonRpcResponse): Meta | null {
  const meta = (res as { result?: { _meta?: { sentrail?: unknown } } }).result?._meta?.sentrail;
  return meta && typeof meta === 'object' ? (meta as Meta) : null;
}

export interface AuditSink {
  append(record: AuditRecord): void;
}

export interface AuditObserverOptions {
  gate: string;
  agent: () => string;
  /** Opens the writer (lazily, once); null when the audit is off. */
  open: () => Promise<{ sink: AuditSink; sha256: (text: string) => string }>;
  warn: (message: string) => void;
  /** A decision the bridge made alone (a local block), once written: for the gate's audit. */
  reportLocal?: (record: AuditRecord) => void;
  now?: () => number;
}

/** What one answer says was decided. */
export function classify(res: JsonRpcResponse, held: Held | undefined): Pick<AuditRecord, 'decision' | 'source' | 'policy' | 'policyId' | 'policyVersion' | 'approvalId' | 'outcome'> {
  const meta = sentrailMeta(res);
  const base = { policy: str(meta?.policy), policyId: str(meta?.policyId), policyVersion: str(meta?.policyVersion), approvalId: str(meta?.approvalRequestId) };
  if (held) {
    const status = str(meta?.status);
    // The replayed result comes back as the tool's own result, with no sentrail meta.
    const outcome = status === null ? ('error' in res ? 'error' : 'executed') : status === 'require_approval' ? 'passed_through' : status;
    return { ...base, decision: 'require_approval', source: 'gate', approvalId: held.approvalId ?? base.approvalId, policy: held.policy ?? base.policy, outcome };
  }
  if ('error' in res) return { ...base, decision: 'error', source: 'gate', outcome: `json-rpc error ${(res as { error: { code?: unknown } }).error.code}` };
  const status = str(meta?.status);
  const source = meta?.source === 'local' ? 'local' : 'gate';
  let decision: AuditDecision = 'allow';
  let outcome: string | null = null;
  if (status === 'blocked') decision = 'block';
  else if (status === 'require_approval') decision = 'require_approval';
  else if (status !== null && FAIL_CLOSED.has(status)) {
    decision = 'fail_closed';
    outcome = status;
  } else if (status !== null) {
    decision = 'error';
    outcome = status;
  }
  return { ...base, decision, source: decision === 'fail_closed' ? 'local' : source, outcome };
}

export function createAuditObserver(opts: AuditObserverOptions): { interceptor: Interceptor; onAnswer(req: JsonRpcRequest, res: JsonRpcResponse): void } {
  const now = opts.now ?? Date.now;
  const started = new Map<string, number>();
  const held = new Map<string, Held>();
  type Writer = { sink: AuditSink; sha256: (text: string) => string };
  let loading: Promise<Writer | null> | null = null;
  let ready: Writer | null = null;
  let off = false;
  // Until the writer has loaded (the first call), lines wait here, in answer order.
  let waiting: ((w: Writer) => AuditRecord)[] = [];

  const emit = (w: Writer, build: (sha256: (text: string) => string) => AuditRecord) => {
    try {
      const record = build(w.sha256);
      w.sink.append(record);
      if (record.source === 'local' && record.decision === 'block') opts.reportLocal?.(record);
    } catch (err) {
      opts.warn(`an audit line could not be written: ${(err as Error).message}`);
    }
  };
  const write = (build: (sha256: (text: string) => string) => AuditRecord) => {
    if (off) return;
    if (ready) return emit(ready, build);
    waiting.push((w) => build(w.sha256));
    loading ??= opts.open().then(
      (w) => {
        ready = w;
        const queued = waiting;
        waiting = [];
        for (const b of queued) emit(w, () => b(w));
        return w;
      },
      (err: Error) => {
        off = true;
        waiting = [];
        opts.warn(`the audit is off: ${err.message}`);
        return null;
      },
    );
  };

  return {
    interceptor: {
      arrived(message) {
        if ('method' in message && message.method === 'tools/call' && 'id' in message && message.id !== undefined) started.set(idKey(message.id), now());
      },
      // Placed before the approval wait: the gate's own answer, held or not.
      response(req, res) {
        if (req.method !== 'tools/call') return res;
        const meta = sentrailMeta(res);
        if (meta?.status === 'require_approval') held.set(idKey(req.id), { approvalId: str(meta.approvalRequestId), policy: str(meta.policy) });
        return res;
      },
    },
    onAnswer(req, res) {
      if (req.method !== 'tools/call') return;
      const key = idKey(req.id);
      const t0 = started.get(key) ?? now();
      const heldCall = held.get(key);
      started.delete(key);
      held.delete(key);
      const params = (req.params ?? {}) as { name?: unknown; arguments?: unknown };
      const latencyMs = now() - t0;
      const agent = opts.agent();
      const time = new Date(now()).toISOString();
      write((sha256) => ({
        time,
        gate: opts.gate,
        agent,
        tool: typeof params.name === 'string' ? params.name : '(no name)',
        ...classify(res, heldCall),
        latencyMs,
        argsDigest: sha256(canonicalJson(params.arguments ?? {})),
      }));
    },
  };
}
