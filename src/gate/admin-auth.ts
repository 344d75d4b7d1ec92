// The reviewer's credential of the local gate: its admin key (`sentrail gate --admin-key`). The
// hosted gate takes a reviewer's Supabase session for the same endpoints; locally one key stands
// for the reviewer, and it is never the agent's: an agent holding the API key can ask for an
// approval but never grant it (gate-protocol.md, "Approvals"). Keys are `sak_` + 40 characters, a
// shape the log's redactor masks wherever it appears.
import { timingSafeEqual } from 'node:crypto';
import { bearerToken, digest, generateKey, type Verifier } from './auth.ts';

export const ADMIN_KEY_PATTERN = /^sak_[A-Za-z0-9]{40}$/;

export function generateAdminKey(): string {
  return generateKey('sak_');
}

export type AdminVerdict =
  | { ok: true; reviewer: string }
  /** 401: no credential, or one the gate does not know; 403: the agent's own credential. */
  | { ok: false; status: 401 | 403; reason: string };

export interface AdminAuth {
  /** True when the header carries the admin key (no other check made). */
  isAdmin(authorization: string | undefined): boolean;
  verify(authorization: string | undefined): Promise<AdminVerdict>;
}

/** The reviewer's name in records and logs: a fingerprint of the key, never the key. */
export function reviewerOf(adminKey: string): string {
  return `admin-key:${digest(adminKey).toString('hex').slice(0, 12)}`;
}

export function createAdminAuth(adminKey: string, agent: Verifier): AdminAuth {
  const expected = digest(adminKey);
  const reviewer = reviewerOf(adminKey);
  const isAdmin = (authorization: string | undefined) => {
    const token = bearerToken(authorization);
    // Comparing digests keeps the comparison constant-time whatever the presented length.
    return token !== null && timingSafeEqual(digest(token), expected);
  };
  return {
    isAdmin,
    async verify(authorization) {
      if (isAdmin(authorization)) return { ok: true, reviewer };
      if (!bearerToken(authorization)) return { ok: false, status: 401, reason: 'no bearer token' };
      // Told apart so the agent learns why: its credential is valid, just not for this.
      const asAgent = await agent(authorization);
      if (asAgent.ok) return { ok: false, status: 403, reason: "the agent's credential cannot decide or review approvals" };
      return { ok: false, status: 401, reason: 'not the admin key' };
    },
  };
}
