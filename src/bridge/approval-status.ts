// One read of `GET C/mcp-gate/status/{id}` (gate-protocol.md, "Approvals") with the bridge's own
// credential, sorted into what the wait loop needs to know: an answer, "no such approval / no
// such endpoint" (404), an answer the bridge cannot use, or no answer at all (keep trying).
import { isJsonType, mediaType } from './gate-answers.ts';
import type { HttpClient } from './http-client.ts';
import { readStatusAnswer, type StatusAnswer } from './approval-results.ts';
import { parseRetryAfter } from './approval-schedule.ts';

export type StatusPoll =
  | { kind: 'answer'; answer: StatusAnswer; retryAfterMs: number | null }
  /** HTTP 404: a gate without the endpoint, or one that does not know this approval. */
  | { kind: 'not-found' }
  /** An answer that is not a status (a redirect, a refusal, a web page, other JSON). */
  | { kind: 'unusable'; message: string; retryAfterMs: number | null }
  /** No answer (connection refused or broken, timeout, 5xx, 429): the gate may come back. */
  | { kind: 'unreachable'; message: string; retryAfterMs: number | null };

export interface StatusReader {
  (approvalRequestId: string, timeoutMs: number, signal: AbortSignal): Promise<StatusPoll>;
}

export function createStatusReader(opts: { cloudBase: string; http: HttpClient; headers: () => Promise<Record<string, string>>; now?: () => number }): StatusReader {
  const now = opts.now ?? Date.now;
  return async (id, timeoutMs, outer) => {
    const url = new URL(`${opts.cloudBase}/mcp-gate/status/${encodeURIComponent(id)}`);
    const signal = AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]);
    let res;
    try {
      res = await opts.http(url, { method: 'GET', headers: { ...(await opts.headers()), accept: 'application/json' }, signal });
    } catch (err) {
      if (outer.aborted) throw outer.reason;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const message = signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (err as Error).message);
      return { kind: 'unreachable', message, retryAfterMs: null };
    }
    const retryAfterMs = parseRetryAfter(res.header('retry-after'), now());
    if (res.status === 404) {
      res.discard();
      return { kind: 'not-found' };
    }
    if (res.status === 429 || res.status >= 500) {
      res.discard();
      return { kind: 'unreachable', message: `HTTP ${res.status}`, retryAfterMs };
    }
    if (res.status !== 200) {
      res.discard();
      return { kind: 'unusable', message: `HTTP ${res.status}`, retryAfterMs };
    }
    if (!isJsonType(res.header('content-type'))) {
      res.discard();
      return { kind: 'unusable', message: `${mediaType(res.header('content-type'))}, not a status answer`, retryAfterMs };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (outer.aborted) throw outer.reason;
      return { kind: 'unreachable', message: `the answer broke off (${(err as Error).message})`, retryAfterMs };
    }
    let answer: StatusAnswer | null = null;
    try {
      answer = readStatusAnswer(JSON.parse(text));
    } catch {
      // not JSON: below
    }
    return answer ? { kind: 'answer', answer, retryAfterMs } : { kind: 'unusable', message: 'JSON that is not a status answer', retryAfterMs };
  };
}
