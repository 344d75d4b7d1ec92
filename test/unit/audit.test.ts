// The audit's pure parts: what an answer says was decided, and the hash chain's verdicts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { classify } from '../../src/bridge/audit-observer.ts';
import { auditLine, GENESIS, verifyChain, type AuditRecord } from '../../src/audit/record.ts';

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const result = (sentrail?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0' as const, id: 1, result: { content: [], ...extra, ...(sentrail ? { _meta: { sentrail } } : {}) } });

describe('audit: what an answer says', () => {
  it('allow, local and gate blocks, fail-closed, errors', () => {
    assert.equal(classify(result(), undefined).decision, 'allow');
    assert.deepEqual(classify(result({ status: 'blocked', source: 'local', policy: 'P', policyVersion: 'v' }), undefined), { decision: 'block', source: 'local', policy: 'P', policyId: null, policyVersion: 'v', approvalId: null, outcome: null });
    assert.equal(classify(result({ status: 'blocked', source: 'gate' }), undefined).source, 'gate');
    assert.deepEqual(classify(result({ status: 'gate_unreachable' }), undefined).decision, 'fail_closed');
    assert.equal(classify(result({ status: 'gate_unreachable' }), undefined).source, 'local', 'nothing left the machine');
    assert.deepEqual({ ...classify(result({ status: 'timeout' }), undefined) }.outcome, 'timeout');
    assert.equal(classify({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'x' } }, undefined).decision, 'error');
  });
  it('a held call: its outcome from the final answer (the replayed result carries no sentrail meta)', () => {
    const held = { approvalId: 'ap-1', policy: 'Needs review' };
    assert.deepEqual(classify(result(undefined, { content: [{ type: 'text', text: 'done' }] }), held), { decision: 'require_approval', source: 'gate', policy: 'Needs review', policyId: null, policyVersion: null, approvalId: 'ap-1', outcome: 'executed' });
    for (const status of ['denied', 'expired', 'failed', 'approval_pending']) assert.equal(classify(result({ status }), held).outcome, status);
    assert.equal(classify(result({ status: 'require_approval', approvalRequestId: 'ap-1' }), held).outcome, 'passed_through');
  });
});

describe('audit: the chain', () => {
  const record = (i: number): AuditRecord => ({ time: new Date(0).toISOString(), gate: 'g', agent: 'a', tool: `t${i}`, decision: 'allow', source: 'gate', policy: null, policyId: null, policyVersion: null, approvalId: null, outcome: null, latencyMs: i, argsDigest: 'd' });
  const chain = (n: number, start = GENESIS) => {
    const lines: string[] = [];
    let prev = start;
    for (let i = 0; i < n; i++) {
      const line = auditLine(record(i), prev);
      lines.push(line);
      prev = sha256(line);
    }
    return lines;
  };
  it('intact across files; anchored when the first kept line follows a rotated one', () => {
    const lines = chain(6);
    assert.deepEqual(verifyChain([{ file: 'a', lines: lines.slice(0, 3) }, { file: 'b', lines: lines.slice(3) }], sha256), { ok: true, lines: 6, files: 2, anchoredAfterRotation: false, problems: [] });
    assert.equal(verifyChain([{ file: 'b', lines: lines.slice(3) }], sha256).anchoredAfterRotation, true);
  });
  it('an edit, a removal, a line that is not JSON: each named at the line that no longer follows', () => {
    const lines = chain(5);
    const edited = [...lines];
    edited[1] = edited[1]!.replace('"t1"', '"tX"');
    assert.deepEqual(verifyChain([{ file: 'f', lines: edited }], sha256).problems.map((p) => p.line), [3]);
    assert.deepEqual(verifyChain([{ file: 'f', lines: [lines[0]!, lines[2]!, lines[3]!, lines[4]!] }], sha256).problems.map((p) => p.line), [2]);
    const garbled = [...lines];
    garbled[2] = '{"cut';
    assert.deepEqual(verifyChain([{ file: 'f', lines: garbled }], sha256).problems.map((p) => [p.line, p.message.slice(0, 10)]), [[3, 'not a JSON'], [4, 'its prev h']]);
  });
});
