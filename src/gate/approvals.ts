// Deferred calls awaiting a human (gate-protocol.md, "Approvals"). A `require_approval` decision
// stores the call here; a reviewer decides it (`POST /approval-decision`); an approved call is
// replayed once (approval-decisions.ts) and its outcome stored; the agent polls
// `GET /mcp-gate/status/{id}`.
//
// The store is a small interface shaped for a database: every transition is one atomic
// read-check-write of one record (a PostgreSQL store would make each one transaction:
// `UPDATE … WHERE id = $1 AND status = 'pending' AND expires_at > now() RETURNING *`). Two
// implementations: in memory (unit tests) and files under the gate's state folder
// (approval-file-store.ts, what the gate uses).
import { randomUUID } from 'node:crypto';
import { hashCall } from '../relay/call-hash.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'failed';
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'executed', 'failed'];

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

/**
 * Why an approved call did not run, or what its replay got back:
 * - `action_hash_mismatch`: the stored call no longer hashes to what was deferred (not replayed);
 * - `kill_switch_active`: the kill switch was on when it was approved (not replayed);
 * - `upstream_error`: the upstream answered the replay with a JSON-RPC error (`code`, `data`);
 * - `upstream_unavailable`: the upstream could not be reached, or went away before answering;
 * - `replay_timeout`: no answer within the replay's time limit (cancelled on the upstream);
 * - `replay_interrupted`: the gate that was replaying it stopped before the outcome was stored.
 */
export type ApprovalFailureReason = 'action_hash_mismatch' | 'kill_switch_active' | 'upstream_error' | 'upstream_unavailable' | 'replay_timeout' | 'replay_interrupted';

export interface ApprovalError {
  reason: ApprovalFailureReason;
  message: string;
  /** upstream_error: the JSON-RPC error's code and data. */
  code?: number;
  data?: unknown;
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
  /** `approved`: which gate process is replaying it (a record left `approved` by a dead one is failed on read). */
  replayingPid?: number;
  /** …and which run of it (pids are reused: a container's gate is always pid 1). */
  replayingNonce?: string;
  completedAt?: string;
  /** `executed`: the tool call's result. */
  result?: unknown;
  /** `failed`: why. */
  error?: ApprovalError;
}

export type ApprovalOutcome = { result: unknown } | { error: ApprovalError };

export interface ApprovalStore {
  create(call: DeferredCall, why: DeferralReason): Promise<ApprovalRecord>;
  /** The record as of now (a pending record past its expiry reads `expired`), or undefined. */
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Every record, newest first. */
  list(): Promise<ApprovalRecord[]>;
  /**
   * A reviewer's decision, atomically: only a pending, unexpired request can be decided, so of any
   * number of concurrent decisions exactly one succeeds (and only its caller replays the call).
   * Throws ApprovalStateError (`not-found`, `not-pending` with the current status).
   */
  decide(id: string, decision: 'approved' | 'denied', by: string, reason?: string): Promise<ApprovalRecord>;
  /** The outcome of replaying an approved call: approved → executed | failed. */
  recordOutcome(id: string, outcome: ApprovalOutcome): Promise<ApprovalRecord>;
  close(): Promise<void>;
}

export class ApprovalStateError extends Error {
  constructor(
    readonly code: 'not-found' | 'not-pending' | 'not-approved',
    message: string,
    /** The record's status when the transition was refused. */
    readonly status?: ApprovalStatus,
  ) {
    super(message);
    this.name = 'ApprovalStateError';
  }
}

// The call's text and fingerprint live on the shared floor (the bridge uses them too).
export { canonicalJson, hashCall } from '../relay/call-hash.ts';

/** True when the stored call still hashes to what was deferred. */
export function callUnchanged(record: ApprovalRecord): boolean {
  return hashCall(record) === record.callHash;
}

/** The params worth keeping for a replay: everything but `_meta` (progress tokens belong to the original request). */
export function replayableParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const { _meta: _dropped, ...rest } = params ?? {};
  return rest;
}

/** A new pending record (shared by the stores). */
export function newRecord(call: DeferredCall, why: DeferralReason, created: number, ttlMs: number): ApprovalRecord {
  return {
    id: randomUUID(),
    method: call.method,
    params: structuredClone(call.params),
    agent: call.agent,
    callHash: hashCall(call),
    status: 'pending',
    createdAt: new Date(created).toISOString(),
    expiresAt: new Date(created + ttlMs).toISOString(),
    ...why,
  };
}

/** The record as it reads at `now`: pending past its expiry is expired. Does not change `r`. */
export function asOf(r: ApprovalRecord, now: number): ApprovalRecord {
  return r.status === 'pending' && now >= Date.parse(r.expiresAt) ? { ...r, status: 'expired' } : r;
}

/** The decide transition on one record (the stores wrap it in their atomicity). */
export function applyDecision(r: ApprovalRecord | undefined, id: string, now: number, decision: 'approved' | 'denied', by: string, reason?: string): ApprovalRecord {
  if (!r) throw new ApprovalStateError('not-found', `no approval request ${id}`);
  const current = asOf(r, now);
  if (current.status !== 'pending') throw new ApprovalStateError('not-pending', `approval request ${id} is ${current.status}, not pending`, current.status);
  return {
    ...current,
    status: decision,
    decidedAt: new Date(now).toISOString(),
    decidedBy: by,
    ...(reason !== undefined ? { decisionReason: reason } : {}),
    ...(decision === 'approved' ? { replayingPid: process.pid } : {}),
  };
}

/** The outcome transition on one record. */
export function applyOutcome(r: ApprovalRecord | undefined, id: string, now: number, outcome: ApprovalOutcome): ApprovalRecord {
  if (!r) throw new ApprovalStateError('not-found', `no approval request ${id}`);
  if (r.status !== 'approved') throw new ApprovalStateError('not-approved', `approval request ${id} is ${r.status}, not approved`, r.status);
  const { replayingPid: _pid, replayingNonce: _nonce, ...rest } = r;
  const completedAt = new Date(now).toISOString();
  return 'result' in outcome ? { ...rest, status: 'executed', completedAt, result: outcome.result } : { ...rest, status: 'failed', completedAt, error: outcome.error };
}

const newestFirst = (a: ApprovalRecord, b: ApprovalRecord) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);
export const sortNewestFirst = (records: ApprovalRecord[]) => records.sort(newestFirst);

export function createMemoryApprovalStore(opts: { now?: () => number; ttlMs?: number } = {}): ApprovalStore {
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? APPROVAL_TTL_MS;
  const records = new Map<string, ApprovalRecord>();
  const copy = (r: ApprovalRecord): ApprovalRecord => structuredClone(r);

  // Each transition runs without an await between its read and its write: atomic in one process.
  return {
    async create(call, why) {
      const record = newRecord(call, why, now(), ttl);
      records.set(record.id, record);
      return copy(record);
    },
    async get(id) {
      const r = records.get(id);
      return r && copy(asOf(r, now()));
    },
    async list() {
      const t = now();
      return sortNewestFirst([...records.values()].map((r) => copy(asOf(r, t))));
    },
    async decide(id, decision, by, reason) {
      const next = applyDecision(records.get(id), id, now(), decision, by, reason);
      records.set(id, next);
      return copy(next);
    },
    async recordOutcome(id, outcome) {
      const next = applyOutcome(records.get(id), id, now(), outcome);
      records.set(id, next);
      return copy(next);
    },
    async close() {},
  };
}
