// The evaluate-action body both ways, and what counts as the gate disagreeing (pure parts of
// `policy test --remote` and the local gate's endpoint).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { differencesFrom, evaluateActionBodyFor, parseEvaluateActionBody, parseGateDecision } from '../../src/policy/evaluate-action.ts';
import type { Decision } from '../../src/policy/types.ts';

const decision = (over: Partial<Decision> = {}): Decision => ({
  mode: 'block', policy: 'No deletes', policyId: 'p-1', priority: 1, reason: 'Policy "No deletes" matched', policyVersion: '1', riskLevel: 'high', source: 'policy', ...over,
} as Decision);

describe('evaluate-action bodies', () => {
  it('a body becomes a request; each bad field is named; unknown fields are listed', () => {
    const ok = parseEvaluateActionBody({ tool: 'github', action: 'repos.delete', riskLevel: 'high', agentId: 'a', resourceType: 'repo', payload: { x: 1 }, other: true });
    assert.deepEqual(ok, { request: { tool: 'github', action: 'repos.delete', riskLevel: 'high', agent: 'a', resourceType: 'repo', arguments: { x: 1 } }, ignored: ['other'] });
    const errors = [
      [[], 'the body must be a JSON object'],
      [{ action: 'x', riskLevel: 'low' }, 'tool is required'],
      [{ tool: 'mcp', action: 'x' }, 'riskLevel is required'],
      [{ tool: 'mcp', action: 'x', riskLevel: 'severe' }, 'riskLevel must be one of low, medium, high, critical, got "severe"'],
      [{ tool: 'mcp', action: '', riskLevel: 'low' }, 'action is required'],
      [{ tool: 'mcp', action: 'x', riskLevel: 'low', agentId: 3 }, 'agentId must be a string'],
      [{ tool: 'mcp', action: 'x', riskLevel: 'low', payload: [1] }, 'payload must be a JSON object'],
    ] as const;
    for (const [body, message] of errors) {
      const r = parseEvaluateActionBody(body);
      assert.ok('error' in r && r.error.startsWith(message), `${JSON.stringify(body)} → ${JSON.stringify(r)}`);
    }
  });
  it('a case is sent with the risk it was decided with; a non-MCP case without one is not sendable', () => {
    assert.deepEqual(evaluateActionBodyFor({ action: 'delete_repo', agent: 'claude-code', arguments: { repo: 'a' } }, decision()), {
      body: { tool: 'mcp', action: 'delete_repo', riskLevel: 'high', agentId: 'claude-code', payload: { repo: 'a' }, requestedBy: 'sentrail policy test --remote' },
    });
    const given = evaluateActionBodyFor({ action: 'x', riskLevel: 'low' }, decision({ riskLevel: 'high' }));
    assert.equal('body' in given ? given.body.riskLevel : null, 'low');
    assert.ok('unsendable' in evaluateActionBodyFor({ tool: 'github', action: 'repos.get' }, decision({ riskLevel: null })));
  });
  it('disagreement: the decision always; the policy by name where the gate names it, else by id where both have one', () => {
    const gate = (over: object) => parseGateDecision({ ok: true, decision: 'block', reason: '', matchedPolicyId: 'p-1', ...over });
    const g = (over: object) => { const d = gate(over); assert.ok(!('error' in d)); return d; };
    assert.deepEqual(differencesFrom(decision(), g({})), []);
    assert.deepEqual(differencesFrom(decision(), g({ decision: 'allow' })), ['decision: local block, gate allow']);
    assert.deepEqual(differencesFrom(decision(), g({ policy: 'Other' })), ['policy: local "No deletes", gate "Other"']);
    assert.deepEqual(differencesFrom(decision(), g({ matchedPolicyId: 'p-2' })), ['policy id: local p-1, gate p-2']);
    assert.deepEqual(differencesFrom(decision({ policyId: null }), g({ matchedPolicyId: 'uuid' })), [], 'a policy without id is compared by decision alone');
    assert.ok('error' in parseGateDecision({ ok: true, decision: 'maybe' }));
  });
});
