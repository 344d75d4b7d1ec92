// The approvals this bridge asked for and did not deliver (its wait ran out, or the client
// cancelled): an identical call later reuses the approval instead of asking for a second one, and
// once the call has run it gets the stored result, once. In memory: a new bridge process asks the
// gate afresh (docs/bridge.md, "Held for approval").
import { hashCall } from '../relay/call-hash.ts';
import type { HeldCall } from './approval-results.ts';

/** At most this many remembered approvals; the oldest goes first (an agent does not keep thousands open). */
export const MAX_REMEMBERED = 500;

/**
 * Identical means: the same tool with the same canonical arguments (and any other params but
 * `_meta`, which carries per-request things such as progress tokens), as the gate hashes the call.
 */
export function reuseKey(params: Record<string, unknown> | undefined): string {
  const { _meta: _dropped, ...call } = params ?? {};
  return hashCall({ method: 'tools/call', params: call });
}

export class ApprovalMemory {
  private readonly held = new Map<string, HeldCall>();

  constructor(private readonly max = MAX_REMEMBERED) {}

  remember(key: string, call: HeldCall): void {
    this.held.delete(key);
    this.held.set(key, call);
    while (this.held.size > this.max) this.held.delete(this.held.keys().next().value!);
  }

  get(key: string): HeldCall | undefined {
    return this.held.get(key);
  }

  /** Forgets `key` if it still names this approval (a newer one for the same call stays). */
  forget(key: string, approvalRequestId: string): void {
    if (this.held.get(key)?.approvalRequestId === approvalRequestId) this.held.delete(key);
  }

  get size(): number {
    return this.held.size;
  }
}
