// When the bridge asks the gate about an approval again: backoff from 1 s up to 5 s, by the time
// waited (1 s at first, 5 s from one minute on), and never sooner than the gate's Retry-After. By
// time, not by attempt: a reviewer who answers within the first seconds (the one watching the
// agent) sees the result arrive about a second later; a call that waits for minutes costs the
// gate one request every 5 s (a hundred waiting calls: 20 a second). Pure: the wait loop
// (approval-wait.ts) supplies the clock.

export const FIRST_POLL_MS = 1000;
export const MAX_POLL_MS = 5000;

/** How long the backoff grows to its longest pause. */
export const BACKOFF_RAMP_MS = 60_000;

/** The pause after a poll made `waitedMs` into the wait: 1 s at first, growing evenly to 5 s at one minute. */
export function backoffMs(waitedMs: number): number {
  const share = Math.min(1, Math.max(0, waitedMs) / BACKOFF_RAMP_MS);
  return Math.round(FIRST_POLL_MS + (MAX_POLL_MS - FIRST_POLL_MS) * share);
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
export function nextPollDelay(waitedMs: number, retryAfterMs: number | null, remainingMs: number): number {
  return Math.max(0, Math.min(Math.max(backoffMs(waitedMs), retryAfterMs ?? 0), remainingMs));
}
