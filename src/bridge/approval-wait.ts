// Waiting for one approval: poll the gate's status (approval-schedule.ts) until it settles, the
// bound runs out, or the wait is aborted (the client cancelled, the bridge is closing), telling
// the client how it goes meanwhile. Never throws, never outlives its bound by more than one poll,
// and leaves no timer behind.
import { isSettled, type HeldCall, type StatusAnswer } from './approval-results.ts';
import { nextPollDelay } from './approval-schedule.ts';
import type { StatusReader } from './approval-status.ts';

export type WaitEnd =
  | { kind: 'settled'; answer: StatusAnswer; polls: number }
  /** The bound ran out with the approval still open (or the gate silent): `lastProblem` says why, if the gate was. */
  | { kind: 'still-pending'; waitedMs: number; lastProblem: string | null }
  /** The first read found no status to follow (404, or not a status answer): the gate's result stands. */
  | { kind: 'no-status'; why: string }
  /** The gate answered about it before and now says 404. */
  | { kind: 'lost' }
  | { kind: 'aborted' };

export interface WaitOptions {
  held: HeldCall;
  boundMs: number;
  read: StatusReader;
  signal: AbortSignal;
  /** Called at once and every `progressEveryMs` while waiting. */
  progress?: (waitedMs: number) => void;
  progressEveryMs?: number;
  /** The pause before the next poll (default: approval-schedule.ts). */
  delay?: (waitedMs: number, retryAfterMs: number | null, remainingMs: number) => number;
  log?: { debug(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void };
  now?: () => number;
}

/** A poll that hangs is cut off after this (or what is left of the bound, if more than 1 s). */
const POLL_TIMEOUT_MS = 5000;
export const PROGRESS_EVERY_MS = 5000;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref(); // a wait never keeps the process alive: stdin's end must end the bridge
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function waitForApproval(opts: WaitOptions): Promise<WaitEnd> {
  const now = opts.now ?? Date.now;
  const started = now();
  const deadline = started + opts.boundMs;
  const delay = opts.delay ?? nextPollDelay;
  let ticker: NodeJS.Timeout | undefined;
  if (opts.progress) {
    const tell = () => opts.progress!(now() - started);
    tell();
    ticker = setInterval(tell, opts.progressEveryMs ?? PROGRESS_EVERY_MS);
    ticker.unref();
  }
  let seen = false;
  let lastProblem: string | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      if (opts.signal.aborted) return { kind: 'aborted' };
      const left = deadline - now();
      let poll;
      try {
        poll = await opts.read(opts.held.approvalRequestId, Math.max(1000, Math.min(POLL_TIMEOUT_MS, left)), opts.signal);
      } catch {
        return { kind: 'aborted' }; // the reader throws only when aborted
      }
      if (opts.signal.aborted) return { kind: 'aborted' };
      let retryAfterMs: number | null = null;
      if (poll.kind === 'answer') {
        seen = true;
        lastProblem = null;
        if (isSettled(poll.answer.status)) return { kind: 'settled', answer: poll.answer, polls: attempt + 1 };
        retryAfterMs = poll.retryAfterMs;
      } else if (poll.kind === 'not-found') {
        if (!seen) return { kind: 'no-status', why: 'the gate answered 404' };
        return { kind: 'lost' };
      } else {
        if (!seen && poll.kind === 'unusable') return { kind: 'no-status', why: poll.message };
        // The gate is down or confused: keep asking within the bound; the request is not lost.
        if (lastProblem !== poll.message) opts.log?.warn('could not read the approval status; still waiting', { approvalRequestId: opts.held.approvalRequestId, problem: poll.message });
        lastProblem = poll.message;
        retryAfterMs = poll.retryAfterMs;
      }
      const remaining = deadline - now();
      if (remaining <= 0) return { kind: 'still-pending', waitedMs: now() - started, lastProblem };
      await pause(delay(now() - started, retryAfterMs, remaining), opts.signal);
    }
  } finally {
    clearInterval(ticker);
  }
}
