// src/policy/diff.ts: policies added / removed / changed field by field, generated requests for
// what the documents name, and the decisions that change, with disputed points marked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSide, diffDecisions, diffDocuments, foldChanges, generateRequests, MAX_GENERATED_REQUESTS } from '../../src/policy/diff.ts';
import { compilePolicies, p } from '../helpers/policy.ts';

const A = [
  p({ name: 'Allow creating issues', toolName: 'create_issue', conditions: { allowedAgents: ['claude-code'] }, priority: 10 }),
  p({ name: 'No deleting', toolNamePattern: 'delete_*', mode: 'block', priority: 100 }),
  p({ name: 'Old rule', tool: 'github', actionPattern: 'pull_request.*', mode: 'require_approval', priority: 50 }),
];
const B = [
  p({ name: 'Allow creating issues', toolName: 'create_issue', conditions: { allowedAgents: ['claude-code', 'cursor'] }, priority: 10 }),
  p({ name: 'No deleting', toolNamePattern: 'delete_*', mode: 'require_approval', priority: 100, id: 'pol-7' }),
  p({ name: 'Untrusted bots', mode: 'block', conditions: { blockedAgents: ['bot'] }, priority: 1 }),
];

describe('policy diff: documents', () => {
  it('added, removed, and changed field by field (conditions key by key), matched by name', () => {
    const d = diffDocuments(docOf(A, 'v1'), docOf(B, 'v2'));
    assert.deepEqual(d.added.map((x) => x.name), ['Untrusted bots']);
    assert.deepEqual(d.removed.map((x) => x.name), ['Old rule']);
    assert.deepEqual(d.changed, [
      { name: 'Allow creating issues', fields: [{ field: 'conditions.allowedAgents', before: ['claude-code'], after: ['claude-code', 'cursor'] }] },
      { name: 'No deleting', fields: [{ field: 'mode', before: 'block', after: 'require_approval' }, { field: 'id', before: undefined, after: 'pol-7' }] },
    ]);
    assert.deepEqual(d.document, [{ field: 'version', before: 'v1', after: 'v2' }]);
  });

  it('the same policies in another order or file are no change; a kill switch change is named', () => {
    const d = diffDocuments(docOf(A, 'v'), docOf([...A].reverse(), 'v', { killSwitch: { global: true, toolsPaused: [] } }));
    assert.deepEqual([d.added, d.removed, d.changed], [[], [], []]);
    assert.deepEqual(d.document, [{ field: 'killSwitch.global', before: false, after: true }]);
  });
});

describe('policy diff: generated requests', () => {
  it('every tool name, pattern and agent the documents name, deduplicated', () => {
    const requests = generateRequests([docOf(A, 'v'), docOf(B, 'v')]);
    const has = (tool: string, action: string, agent: string) => requests.some((r) => r.tool === tool && r.action === action && r.agent === agent && !r.riskLevel);
    assert.ok(has('mcp', 'create_issue', 'cursor'));
    assert.ok(has('mcp', 'delete_example', 'unknown'), 'a prefix pattern gets an action it matches');
    assert.ok(has('github', 'pull_request.example', 'bot'));
    assert.equal(new Set(requests.map((r) => JSON.stringify(r))).size, requests.length);
  });
});

describe('policy diff: the bound on generated requests', () => {
  it('cuts the cross product, never a policy: a change in the last of 400 policies (160,000 combinations) is found', () => {
    const many = (lastMode: string) => Array.from({ length: 400 }, (_, i) => p({ name: `p${i}`, toolName: `t${i}`, conditions: { allowedAgents: [`a${i}`] }, mode: i === 399 ? lastMode : 'allow', priority: i + 1 }));
    const a = docOf(many('allow'), 'v');
    const b = docOf(many('block'), 'v');
    const requests = generateRequests([a, b]);
    assert.equal(requests.length, MAX_GENERATED_REQUESTS);
    const { changes } = diffDecisions(compilePolicies(many('allow')), compilePolicies(many('block')), requests.map((request) => ({ request, origin: 'generated' as const })));
    assert.deepEqual(changes.map((c) => [c.request.action, c.request.agent, c.after.mode]), [['t399', 'a399', 'block']]);
  });
});

describe('policy diff: decisions', () => {
  it('each changed decision, with the deciding policy on each side; unchanged ones are left out', () => {
    const a = compilePolicies(A);
    const b = compilePolicies(B);
    const { decided, changes } = diffDecisions(a, b, [
      { request: { action: 'create_issue', agent: 'cursor' }, origin: 'test', from: 't.test.yaml: cursor' },
      { request: { action: 'create_issue', agent: 'claude-code' }, origin: 'test', from: 't.test.yaml: claude' },
      { request: { action: 'create_issue', agent: 'cursor' }, origin: 'generated' },
    ]);
    assert.equal(decided, 2, 'a request asked twice is decided once');
    assert.equal(changes.length, 1);
    const c = changes[0]!;
    assert.equal(c.from, 't.test.yaml: cursor');
    assert.deepEqual([c.before.mode, c.before.policy, c.after.mode, c.after.policy], ['allow', null, 'allow', 'Allow creating issues']);
    assert.equal(describeSide(c.before), 'allow (no policy)');
  });

  it('a decision resting on a disputed reading is marked (the gate decides), not passed off as certain', () => {
    const requests = generateRequests([docOf(A, 'v'), docOf(B, 'v')]).map((request) => ({ request, origin: 'generated' as const }));
    const { changes } = diffDecisions(compilePolicies(A), compilePolicies(B), requests);
    const bot = changes.find((c) => c.request.agent === 'bot' && c.request.action === 'create_issue' && !c.request.riskLevel)!;
    assert.ok(bot, 'the blockedAgents policy changes what bot gets');
    assert.equal(bot.after.mode, 'block');
    assert.ok(bot.after.uncertain.some((u) => /blockedAgents/.test(u)), JSON.stringify(bot.after.uncertain));
    assert.equal(describeSide(bot.after), 'block "Untrusted bots" ?');
    const deletes = changes.find((c) => c.request.action === 'delete_example' && c.request.agent === 'unknown' && !c.request.riskLevel)!;
    assert.deepEqual([deletes.before.mode, deletes.after.mode, deletes.before.uncertain], ['block', 'require_approval', []]);
    // B's blockedAgents policy comes first and reads two ways for every agent: B's side is uncertain too
    assert.ok(deletes.after.uncertain.some((u) => /Untrusted bots.*blockedAgents/.test(u)));
    // folded: generated variants of one request that change the same way are one row
    const variant = { ...deletes, request: { ...deletes.request, riskLevel: 'high' as const } };
    const given = { ...deletes, origin: 'test' as const };
    const rows = foldChanges([deletes, variant, given, bot]);
    assert.deepEqual(rows.map((r) => [r.change, r.alike]), [[deletes, 1], [given, 0], [bot, 0]]);
  });
});

function docOf(policies: object[], version: string, extra: object = {}) {
  const set = compilePolicies(policies, { version, ...extra });
  // compilePolicies keeps enabled policies only in `ordered`; these are all enabled.
  return { version: set.version, policies: set.ordered.map((c) => c.policy).sort((x, y) => x.index - y.index), killSwitch: set.killSwitch, files: ['policy.json'] };
}
