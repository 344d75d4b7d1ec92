// The bridge's approval wait, its pure parts: the poll schedule, the answer for each ending, the
// reuse key, and the wait loop / interceptor against a scripted status reader (no process, no
// socket; the real thing is test/e2e/approvals-bridge.test.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createApprovalInterceptor, heldCallOf } from '../../src/bridge/approval-interceptor.ts';
import { ApprovalMemory, reuseKey } from '../../src/bridge/approval-memory.ts';
import { formatWait, readStatusAnswer, settledResult, stillPendingResult, waitingMessage, type HeldCall, type StatusAnswer } from '../../src/bridge/approval-results.ts';
import { backoffMs, nextPollDelay, parseRetryAfter } from '../../src/bridge/approval-schedule.ts';
import type { StatusPoll, StatusReader } from '../../src/bridge/approval-status.ts';
import { waitForApproval } from '../../src/bridge/approval-wait.ts';
import { parseBridgeArgs } from '../../src/cli/bridge-args.ts';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../../src/relay/jsonrpc.ts';

// The wait's timers are unref'd (a wait must never keep the bridge alive): this keeps the test's loop up.
const keepAlive = setInterval(() => {}, 1000);
after(() => clearInterval(keepAlive));

const held: HeldCall = { approvalRequestId: 'apr-1', tool: 'echo', policy: 'Echo needs approval' };
const answer = (over: Partial<StatusAnswer>): StatusAnswer => ({ status: 'pending', result: null, decisionReason: null, expiresAt: null, error: null, ...over });
const text = (r: JsonRpcResponse) => ((r as unknown as { result: { content: { text: string }[] } }).result.content[0]!.text);
const meta = (r: JsonRpcResponse) => (r as unknown as { result: { _meta: { sentrail: Record<string, unknown> } } }).result._meta.sentrail;
const silent = { info() {}, warn() {}, debug() {} };

/** A status reader that answers from a script, one poll per entry (the last one repeats). */
function scripted(polls: StatusPoll[]): StatusReader & { calls: number } {
  const reader = (async () => polls[Math.min(reader.calls++, polls.length - 1)]!) as unknown as StatusReader & { calls: number };
  reader.calls = 0;
  return reader;
}
const pending: StatusPoll = { kind: 'answer', answer: answer({}), retryAfterMs: null };

describe('--approval-wait', () => {
  it('takes seconds, like --request-timeout; anything else goes to commander, which explains it', () => {
    assert.equal(parseBridgeArgs(['--approval-wait', '2'])?.approvalWait, 2);
    assert.equal(parseBridgeArgs(['--approval-wait', '0'])?.approvalWait, 0);
    assert.equal(parseBridgeArgs([])?.approvalWait, undefined, 'absent: the bridge applies its default (600 s)');
    assert.equal(parseBridgeArgs(['--approval-wait', '10m']), null);
    assert.equal(parseBridgeArgs(['--approval-wait', '-1']), null);
  });
});

describe('the poll schedule', () => {
  it('backs off by the time waited: 1 s at first, 2 s at 15 s, 5 s from one minute on', () => {
    assert.deepEqual([0, 3000, 15_000, 30_000, 60_000, 600_000, -5].map(backoffMs), [1000, 1200, 2000, 3000, 5000, 5000, 1000]);
  });
  it('reads Retry-After as seconds or an HTTP-date; garbage and absence are null', () => {
    const now = Date.parse('2026-12-07T20:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('Mon, 07 Dec 2026 20:00:12 GMT', now), 12_000);
    assert.equal(parseRetryAfter('Mon, 07 Dec 2026 19:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter('-3', now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });
  it('waits the longer of the backoff and Retry-After, never past the bound', () => {
    assert.equal(nextPollDelay(0, null, 60_000), 1000);
    assert.equal(nextPollDelay(0, 9000, 60_000), 9000);
    assert.equal(nextPollDelay(120_000, 1000, 60_000), 5000);
    assert.equal(nextPollDelay(120_000, 30_000, 2500), 2500);
    assert.equal(nextPollDelay(0, null, -10), 0);
  });
});

describe('what a settled approval answers', () => {
  it('executed: the replayed result, unchanged', () => {
    const result = { content: [{ type: 'text', text: 'Echo: hi' }], structuredContent: { a: 1 } };
    assert.deepEqual(settledResult(3, held, answer({ status: 'executed', result })), { jsonrpc: '2.0', id: 3, result });
  });
  it('executed without a result: isError, says to check the effect', () => {
    const r = settledResult(3, held, answer({ status: 'executed', result: null }));
    assert.match(text(r), /approved and run \(approval apr-1\), but the gate returned no result/);
  });
  it("denied: names the reviewer's reason and says not to retry", () => {
    const r = settledResult(3, held, answer({ status: 'denied', decisionReason: 'not on a Friday' }));
    assert.equal((r as unknown as { result: { isError: boolean } }).result.isError, true);
    assert.equal(text(r), 'Sentrail: a reviewer denied this call to echo (approval apr-1): not on a Friday. The call was not made. Do not retry this call.');
    assert.deepEqual(meta(r), { status: 'denied', approvalRequestId: 'apr-1', policy: 'Echo needs approval', reason: 'not on a Friday' });
    assert.match(text(settledResult(3, held, answer({ status: 'denied' }))), /\(no reason given\)\. .*Do not retry/);
  });
  it('expired and failed: isError with the reason', () => {
    assert.match(text(settledResult(3, held, answer({ status: 'expired', expiresAt: '2026-12-08T20:00:00.000Z' }))), /apr-1 for echo expired at 2026-12-08T20:00:00.000Z before a reviewer decided/);
    const failed = settledResult(3, held, answer({ status: 'failed', error: { reason: 'kill_switch_active', message: 'the kill switch is on' } }));
    assert.match(text(failed), /did not complete \(kill_switch_active\): the kill switch is on\./);
    assert.equal(meta(failed).reason, 'kill_switch_active');
  });
  it('still pending at the bound: the id and the command to check it later', () => {
    const r = stillPendingResult(3, held, 600_000, null);
    assert.match(text(r), /after 10 min\. .*apr-1 stays open on the gate\. Check it with `sentrail approvals status apr-1`/);
    assert.equal(meta(r).status, 'approval_pending');
    assert.match(text(stillPendingResult(3, held, 5000, 'ECONNREFUSED')), /could not be asked at the end: ECONNREFUSED/);
  });
  it('progress text: who, the id, how long, the local command', () => {
    assert.equal(
      waitingMessage(held, 65_000, 600_000),
      'Waiting for a Sentrail reviewer to approve echo (policy "Echo needs approval"): approval apr-1, waited 1 min 5 s of 10 min. To approve it on this machine: sentrail approvals approve apr-1',
    );
    assert.match(
      waitingMessage(held, 5000, 600_000, { loopback: false, label: 'https://ref.supabase.co/functions/v1/mcp-gate/sse' }),
      /waited 5 s of 10 min\. A reviewer approves it in the Sentrail dashboard, or with the gate's admin key: sentrail approvals approve apr-1 --gate https:\/\/ref\.supabase\.co\/functions\/v1\/mcp-gate\/sse$/,
    );
    assert.deepEqual([0, 999, 59_600, 120_000].map(formatWait), ['0 s', '1 s', '1 min', '2 min']);
  });
  it('reads status bodies, and nothing else as one', () => {
    assert.equal(readStatusAnswer({ ok: true, status: 'pending', result: null })?.status, 'pending');
    assert.equal(readStatusAnswer({ ok: true, status: 'thinking' }), null);
    assert.equal(readStatusAnswer([]), null);
    assert.equal(readStatusAnswer('pending'), null);
  });
});

describe('the reuse key', () => {
  it('is the same for the same tool and arguments in any key order, whatever the _meta', () => {
    const a = reuseKey({ name: 'echo', arguments: { b: 1, a: { y: [1, 2], x: null } }, _meta: { progressToken: 1 } });
    const b = reuseKey({ arguments: { a: { x: null, y: [1, 2] }, b: 1 }, name: 'echo', _meta: { progressToken: 'other' } });
    assert.equal(a, b);
    assert.notEqual(a, reuseKey({ name: 'echo', arguments: { b: '1', a: { y: [1, 2], x: null } } }));
    assert.notEqual(a, reuseKey({ name: 'echo2', arguments: { b: 1, a: { y: [1, 2], x: null } } }));
    assert.notEqual(reuseKey({ name: 'n', arguments: { y: [1, 2] } }), reuseKey({ name: 'n', arguments: { y: [2, 1] } }));
  });
  it('memory: forget only drops the approval it names; the oldest goes past the cap', () => {
    const m = new ApprovalMemory(2);
    m.remember('k1', { ...held, approvalRequestId: 'a' });
    m.forget('k1', 'other');
    assert.equal(m.get('k1')?.approvalRequestId, 'a');
    m.remember('k2', held);
    m.remember('k3', held);
    assert.equal(m.get('k1'), undefined);
    assert.equal(m.size, 2);
  });
});

describe('the wait loop', () => {
  const fast = () => 5;
  it('polls until the approval settles, telling progress meanwhile', async () => {
    const executed: StatusPoll = { kind: 'answer', answer: answer({ status: 'executed', result: { content: [] } }), retryAfterMs: null };
    const read = scripted([pending, pending, { kind: 'unreachable', message: 'ECONNREFUSED', retryAfterMs: null }, executed]);
    const told: number[] = [];
    const end = await waitForApproval({ held, boundMs: 10_000, read, signal: new AbortController().signal, delay: fast, progress: (ms) => told.push(ms) });
    assert.equal(end.kind, 'settled');
    assert.equal(read.calls, 4, 'an outage in the middle is waited out');
    assert.ok(told.length >= 1 && told[0]! < 50, 'progress goes out at once');
  });
  it('a 404 (or no status answer) on the first read: no status to follow; after a real answer: lost', async () => {
    assert.deepEqual(await waitForApproval({ held, boundMs: 10_000, read: scripted([{ kind: 'not-found' }]), signal: new AbortController().signal, delay: fast }), { kind: 'no-status', why: 'the gate answered 404' });
    assert.equal((await waitForApproval({ held, boundMs: 10_000, read: scripted([{ kind: 'unusable', message: 'HTTP 403', retryAfterMs: null }]), signal: new AbortController().signal, delay: fast })).kind, 'no-status');
    assert.equal((await waitForApproval({ held, boundMs: 10_000, read: scripted([pending, { kind: 'not-found' }]), signal: new AbortController().signal, delay: fast })).kind, 'lost');
  });
  it('ends at the bound with the approval still pending, and names the last problem', async () => {
    const started = Date.now();
    const end = await waitForApproval({ held, boundMs: 120, read: scripted([pending, { kind: 'unreachable', message: 'ECONNREFUSED', retryAfterMs: null }]), signal: new AbortController().signal, delay: (_a, _r, left) => Math.min(20, left) });
    assert.equal(end.kind, 'still-pending');
    assert.equal((end as { lastProblem: string }).lastProblem, 'ECONNREFUSED');
    assert.ok(Date.now() - started < 1000);
  });
  it('honours Retry-After through the schedule it is given', async () => {
    const seen: (number | null)[] = [];
    const read = scripted([{ kind: 'answer', answer: answer({}), retryAfterMs: 7000 }, { kind: 'answer', answer: answer({ status: 'denied' }), retryAfterMs: null }]);
    await waitForApproval({ held, boundMs: 60_000, read, signal: new AbortController().signal, delay: (_a, r) => (seen.push(r), 1) });
    assert.deepEqual(seen, [7000]);
  });
  it('an abort ends the wait at once and stops the progress timer', async () => {
    const abort = new AbortController();
    let told = 0;
    const waiting = waitForApproval({ held, boundMs: 60_000, read: scripted([pending]), signal: abort.signal, delay: () => 30_000, progress: () => told++, progressEveryMs: 10 });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    const started = Date.now();
    assert.deepEqual(await waiting, { kind: 'aborted' });
    assert.ok(Date.now() - started < 100);
    const after = told;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(told, after, 'no progress after the end');
  });
});

describe('the approval interceptor', () => {
  const call = (id: number, args: Record<string, unknown> = { message: 'hi' }, token?: number): JsonRpcRequest => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: args, ...(token !== undefined ? { _meta: { progressToken: token } } : {}) },
  });
  const held = (id: number, approvalRequestId = 'apr-9'): JsonRpcResponse => ({
    jsonrpc: '2.0',
    id,
    result: { content: [{ type: 'text', text: 'needs approval' }], _meta: { sentrail: { status: 'require_approval', approvalRequestId, reason: 'r', policy: 'P' } } },
  });
  const executedResult = { content: [{ type: 'text', text: 'Echo: hi' }] };

  it('knows a require_approval result, and nothing else, as one', () => {
    assert.deepEqual(heldCallOf(call(1), held(1)), { approvalRequestId: 'apr-9', tool: 'echo', policy: 'P' });
    assert.equal(heldCallOf(call(1), { jsonrpc: '2.0', id: 1, result: { content: [] } }), null);
    assert.equal(heldCallOf({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, held(1)), null);
  });

  it('waits, sends progress with the id, and answers with the replayed result', async () => {
    const notes: JsonRpcNotification[] = [];
    const read = scripted([pending, { kind: 'answer', answer: answer({ status: 'executed', result: executedResult }), retryAfterMs: null }]);
    const a = createApprovalInterceptor({ read, boundMs: 10_000, notifyClient: (n) => notes.push(n), log: silent, delay: () => 5 });
    const res = await a.interceptor.response!(call(1, { message: 'hi' }, 42), held(1));
    assert.deepEqual(res, { jsonrpc: '2.0', id: 1, result: executedResult });
    assert.equal(notes[0]!.method, 'notifications/progress');
    assert.equal(notes[0]!.params!.progressToken, 42);
    assert.match(String(notes[0]!.params!.message), /approval apr-9.*sentrail approvals approve apr-9/);
    assert.equal(a.waiting, 0);
  });

  it('no progressToken: no progress; a 404 on the first read: the gate answer passes through', async () => {
    const notes: JsonRpcNotification[] = [];
    const a = createApprovalInterceptor({ read: scripted([{ kind: 'not-found' }]), boundMs: 10_000, notifyClient: (n) => notes.push(n), log: silent, delay: () => 5 });
    assert.deepEqual(await a.interceptor.response!(call(1), held(1)), held(1));
    assert.equal(notes.length, 0);
  });

  it('--approval-wait 0, or no status endpoint: passes through without a read', async () => {
    const read = scripted([pending]);
    for (const a of [createApprovalInterceptor({ read, boundMs: 0, notifyClient: () => {}, log: silent }), createApprovalInterceptor({ read: null, boundMs: 10_000, notifyClient: () => {}, log: silent })]) {
      assert.deepEqual(await a.interceptor.response!(call(1), held(1)), held(1));
    }
    assert.equal(read.calls, 0);
  });

  it('past the bound, an identical call waits on the same approval (never reaching the gate), and gets the stored result once', async () => {
    let status: StatusPoll = pending;
    const read = (async () => status) as StatusReader;
    const a = createApprovalInterceptor({ read, boundMs: 60, notifyClient: () => {}, log: silent, delay: (_a, _r, left) => Math.min(10, left) });
    const first = await a.interceptor.response!(call(1, { message: 'hi' }), held(1));
    assert.match(text(first), /apr-9 stays open/);
    // Same call (keys in another order, another progress token): answered here, on the same approval.
    const again = await a.interceptor.request!(call(2, { message: 'hi' }, 7));
    assert.ok(again && 'result' in again);
    assert.match(text(again), /apr-9 stays open/);
    // A different call is not held back.
    assert.equal(await a.interceptor.request!(call(3, { message: 'other' })), undefined);
    status = { kind: 'answer', answer: answer({ status: 'executed', result: executedResult }), retryAfterMs: null };
    assert.deepEqual(await a.interceptor.request!(call(4, { message: 'hi' })), { jsonrpc: '2.0', id: 4, result: executedResult });
    // Once delivered, the next identical call goes to the gate (a new approval).
    assert.equal(await a.interceptor.request!(call(5, { message: 'hi' })), undefined);
  });

  it('a cancel from the client stops the wait at once; the approval is remembered', async () => {
    const a = createApprovalInterceptor({ read: scripted([pending]), boundMs: 60_000, notifyClient: () => {}, log: silent, delay: () => 30_000 });
    const waiting = a.interceptor.response!(call(1), held(1));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.waiting, 1);
    a.interceptor.arrived!({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'user' } });
    await waiting;
    assert.equal(a.waiting, 0);
    // the approval stays: an identical call waits on it (and stop() ends that wait, as on shutdown)
    const again = a.interceptor.request!(call(2));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.waiting, 1);
    const closing = a.stop();
    await again;
    assert.equal(a.waiting, 0);
    assert.equal(closing.length, 1);
    assert.equal(closing[0]!.id, 2);
    assert.match(text(closing[0]!), /shutting down while this call to echo waits .*apr-9 stays open on the gate: check it with `sentrail approvals status apr-9`/);
  });
});
