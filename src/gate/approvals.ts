// Deferred calls awaiting a human (gate-protocol.md, "Approvals"). A `require_approval` decision
// stores the call here and the agent polls `GET /mcp-gate/status/{id}`. Deciding (`POST
// /approval-decision`) and replaying come with a later issue; the store already has the
// transitions they need, so they plug in without changing this interface. In memory: a restart of
// the local gate forgets every request, as a dev gate may.
import { createHash, randomUUID } from 'node:crypto';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'failed';

export const APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;

/** The call as it will be replayed: method and params (transport details such as _meta dropped). */
export interface DeferredCall {
  method: 'tools/call';
  params: Record<string, unknown>;
  agent: string;
}

/** Why the call was deferred: the deciding policy, as the decision named it. */
export interface DeferralReason {
  policy: string | null;
  policyId: string | null;
  policyVersion: string | null;
  reason: string;
}

export interface ApprovalRecord extends DeferredCall, DeferralReason {
  id: string;
  /** SHA-256 (hex) of the canonical JSON of {method, params}: checked before a replay. */
  callHash: string;
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
  decidedBy?: string;
  decisionReason?: string;
  /** `executed`: the tool call's result; `failed`: the error the replay got. */
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface ApprovalStore {
  create(call: DeferredCall, why: DeferralReason): ApprovalRecord;
  /** The record as of now (a pending record past its expiry reads `expired`), or undefined. */
  get(id: string): ApprovalRecord | undefined;
  /** A reviewer's decision; only a pending, unexpired request can be decided. */
  decide(id: string, decision: 'approved' | 'denied', by: string, reason?: string): ApprovalRecord;
  /** The outcome of replaying an approved call. */
  recordOutcome(id: string, outcome: { result: unknown } | { error: { code: number; message: string; data?: unknown } }): ApprovalRecord;
  /** True when the stored call still hashes to what was approved. */
  isUnchanged(record: ApprovalRecord): boolean;
}

export class ApprovalStateError extends Error {
  constructor(
    readonly code: 'not-found' | 'not-pending' | 'not-approved',
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalStateError';
  }
}

/** JSON with object keys sorted at every level: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashCall(call: Pick<DeferredCall, 'method' | 'params'>): string {
  return createHash('sha256').update(canonicalJson({ method: call.method, params: call.params })).digest('hex');
}

/** The params worth keeping for a replay: everything but `_meta` (progress tokens belong to the original request). */
export function replayableParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const { _meta: _dropped, ...rest } = params ?? {};
  return rest;
}

export function createMemoryApprovalStore(opts: { now?: () => number; ttlMs?: number } = {}): ApprovalStore {
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? APPROVAL_TTL_MS;
  const records = new Map<string, ApprovalRecord>();

  const current = (id: string): ApprovalRecord | undefined => {
    const r = records.get(id);
    if (r && r.status === 'pending' && now() >= Date.parse(r.expiresAt)) r.status = 'expired';
    return r;
  };
  const copy = (r: ApprovalRecord): ApprovalRecord => structuredClone(r);

  return {
    create(call, why) {
      const created = now();
      const record: ApprovalRecord = {
        id: randomUUID(),
        method: call.method,
        params: structuredClone(call.params),
        agent: call.agent,
        callHash: hashCall(call),
        status: 'pending',
        createdAt: new Date(created).toISOString(),
        expiresAt: new Date(created + ttl).toISOString(),
        ...why,
      };
      records.set(record.id, record);
      return copy(record);
    },
    get(id) {
      const r = current(id);
      return r && copy(r);
    },
    decide(id, decision, by, reason) {
      const r = current(id);
      if (!r) throw new ApprovalStateError('not-found', `no approval request ${id}`);
      if (r.status !== 'pending') throw new ApprovalStateError('not-pending', `approval request ${id} is ${r.status}, not pending`);
      r.status = decision;
      r.decidedAt = new Date(now()).toISOString();
      r.decidedBy = by;
      if (reason !== undefined) r.decisionReason = reason;
      return copy(r);
    },
    recordOutcome(id, outcome) {
      const r = records.get(id);
      if (!r) throw new ApprovalStateError('not-found', `no approval request ${id}`);
      if (r.status !== 'approved') throw new ApprovalStateError('not-approved', `approval request ${id} is ${r.status}, not approved`);
      if ('result' in outcome) {
        r.status = 'executed';
        r.result = outcome.result;
      } else {
        r.status = 'failed';
        r.error = outcome.error;
      }
      return copy(r);
    },
    isUnchanged(record) {
      return hashCall(record) === record.callHash;
    },
  };
}
