// When an access token is renewed ahead of its expiry: once less than min(60 s, a tenth of its
// lifetime) remains. A tenth keeps short-lived tokens (a few minutes, or seconds in tests) from
// being renewed on nearly every request; 60 s covers the time a request takes to reach the gate.
// Pure, and tiny: the bridge's start-up path imports it.

export const REFRESH_MARGIN_CAP_MS = 60_000;

export interface TokenTimes {
  /** Absolute expiry, ms since the epoch; null or absent: does not expire (or unknown). */
  expiresAt?: number | null;
  /** When the token was obtained (the entry's updatedAt), ms since the epoch. */
  issuedAt?: number | null;
}

export function refreshMarginMs(t: TokenTimes): number {
  if (t.expiresAt == null) return 0;
  const lifetime = t.issuedAt != null ? t.expiresAt - t.issuedAt : Infinity;
  return Math.max(0, Math.min(REFRESH_MARGIN_CAP_MS, lifetime / 10));
}

/** True when the token should be renewed before it is used at `now`. */
export function refreshDue(t: TokenTimes, now: number = Date.now()): boolean {
  if (t.expiresAt == null) return false;
  return t.expiresAt - now < refreshMarginMs(t);
}

/** True when the token is past its expiry: it is no use sending it at all. */
export function expired(t: TokenTimes, now: number = Date.now()): boolean {
  return t.expiresAt != null && t.expiresAt <= now;
}

/** The times of a stored entry (ISO strings) as TokenTimes. */
export function entryTimes(entry: { expiresAt: string | null; updatedAt: string }): TokenTimes {
  const issued = Date.parse(entry.updatedAt);
  return { expiresAt: entry.expiresAt ? Date.parse(entry.expiresAt) : null, issuedAt: Number.isNaN(issued) ? null : issued };
}
