// When the bridge asks the gate about an approval again: backoff from 1 s up to 5 s (a human takes
// seconds to minutes; 5 s keeps the result at most a few seconds behind the decision while a
// hundred waiting calls cost the gate 20 requests a second at worst), and never sooner than the
// gate's Retry-After. Pure: the wait loop (approval-wait.ts) supplies the clock.

export const FIRST_POLL_MS = 1000;
export const MAX_POLL_MS = 5000;

/** The pause after the `attempt`-th poll (0-based): 1 s, 2 s, 4 s, then 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(FIRST_POLL_MS * 2 ** Math.max(0, attempt), MAX_POLL_MS);
}

/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds from `now`: delay-seconds or an HTTP-date; a
 * date in the past is 0; anything else (absent, garbage) is null.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (!/[a-z]/i.test(text) || Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** The next pause: the backoff, or Retry-After when that is longer, and never past what is left of the bound. */
export function nextPollDelay(attempt: number, retryAfterMs: number | null, remainingMs: number): number {
  return Math.max(0, Math.min(Math.max(backoffMs(attempt), retryAfterMs ?? 0), remainingMs));
}
