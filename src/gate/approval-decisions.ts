// A reviewer's decision and what follows it: the store's atomic pending → approved|denied move,
// then, for an approval, the replay: the stored call's hash and the kill switch are checked
// (gate-protocol.md, "Approvals"), the call is sent to the upstream once, and its outcome stored
// (executed with the result, failed with why). Only the caller whose decision won the store's
// transition replays, so any number of deciders and pollers make one replay.
import { isFailure, type JsonRpcResponse } from '../relay/jsonrpc.ts';
import { callUnchanged, type ApprovalError, type ApprovalOutcome, type ApprovalRecord, type ApprovalStore } from './approvals.ts';
import type { PolicySource } from './policy-source.ts';
import { ReplayInterruptedError, ReplayTimeoutError } from './replay-upstream.ts';

/** A replay with no answer for this long fails (`replay_timeout`) and is cancelled on the upstream. */
export const REPLAY_TIMEOUT_MS = 5 * 60 * 1000;

export interface Replayer {
  call(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JsonRpcResponse>;
}

export interface ApprovalDecisionsDeps {
  store: ApprovalStore;
  policy: PolicySource;
  replayer: Replayer;
  log: { info(m: string): void; warn(m: string): void };
  replayTimeoutMs?: number;
}

export interface ApprovalDecisions {
  /** Records the decision (throws ApprovalStateError when refused) and, for an approval, starts the replay. */
  decide(id: string, decision: 'approved' | 'denied', by: string, reason?: string): Promise<ApprovalRecord>;
  /** Resolves when every replay started so far has stored its outcome (shutdown, tests). */
  settled(): Promise<void>;
}

const failed = (reason: ApprovalError['reason'], message: string, extra: Partial<ApprovalError> = {}): ApprovalOutcome => ({ error: { reason, message, ...extra } });

export function createApprovalDecisions(deps: ApprovalDecisionsDeps): ApprovalDecisions {
  const running = new Set<Promise<void>>();
  const timeout = deps.replayTimeoutMs ?? REPLAY_TIMEOUT_MS;

  async function outcomeOf(record: ApprovalRecord): Promise<ApprovalOutcome> {
    if (!callUnchanged(record)) return failed('action_hash_mismatch', 'The stored call no longer matches what was deferred (its SHA-256 changed); it was not run');
    // The emergency brake wins over a reviewer: with the global switch on, or MCP paused, nothing is
    // replayed (stricter than a live decision, where a low-risk call passes the global switch).
    const { killSwitch } = await deps.policy.current();
    if (killSwitch.global || killSwitch.toolsPaused.includes('mcp')) {
      return failed('kill_switch_active', `The kill switch is on (${killSwitch.global ? 'global' : 'mcp paused'}); the approved call was not run`);
    }
    try {
      const response = await deps.replayer.call(record.method, record.params, timeout);
      if (isFailure(response)) return failed('upstream_error', `The upstream answered the replayed call with an error: ${response.error.message}`, { code: response.error.code, ...(response.error.data !== undefined ? { data: response.error.data } : {}) });
      return { result: response.result };
    } catch (err) {
      if (err instanceof ReplayTimeoutError) return failed('replay_timeout', err.message);
      if (err instanceof ReplayInterruptedError) return failed('replay_interrupted', err.message);
      return failed('upstream_unavailable', (err as Error).message);
    }
  }

  async function replay(record: ApprovalRecord): Promise<void> {
    const outcome = await outcomeOf(record);
    const stored = await deps.store.recordOutcome(record.id, outcome);
    const name = String(record.params.name);
    if (stored.status === 'executed') deps.log.info(`approval ${record.id}: ${name} replayed, executed`);
    else deps.log.warn(`approval ${record.id}: ${name} failed (${stored.error?.reason}): ${stored.error?.message}`);
  }

  return {
    async decide(id, decision, by, reason) {
      const record = await deps.store.decide(id, decision, by, reason);
      deps.log.info(`approval ${id}: ${decision} by ${by}`);
      if (record.status === 'approved') {
        const run = replay(record)
          .catch((err: Error) => deps.log.warn(`approval ${id}: could not store the replay's outcome: ${err.message}`))
          .finally(() => running.delete(run));
        running.add(run);
      }
      return record;
    },
    async settled() {
      await Promise.allSettled([...running]);
    },
  };
}
