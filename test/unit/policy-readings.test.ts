// policy.md, "Readings where Sentrail's pages disagree": every field a Sentrail page names loads;
// `test`/`explain` decide by the contract and say what the gate decides; the bridge's first check
// blocks locally only when every reading blocks.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { decide, decideLocally, explain, isHiddenFromListing } from '../../src/policy/decide.ts';
import { findTies, findUnreachable } from '../../src/policy/lint.ts';
import { loadPolicyPath } from '../../src/policy/load.ts';
import { inferMcpRisk, inferMcpRiskByDocs } from '../../src/policy/risk.ts';
import { runCase } from '../../src/policy/test-runner.ts';
import type { PolicyRequest } from '../../src/policy/types.ts';
import { check, codes, compilePolicies, p } from '../helpers/policy.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/policy/sentrail-docs-examples.yaml');

type Set = ReturnType<typeof compilePolicies>;
const certain = (set: Set, request: PolicyRequest) => decideLocally(set, request).certainBlock;
const doc = (policyLines: string) => `version: "1"\npolicies:\n  - name: a\n    tool: mcp\n    actionPattern: "*"\n    mode: allow\n    priority: 1\n${policyLines}`;

describe('loading: every field a Sentrail page names', () => {
  it('the Policy engine page\'s row, every optional field null, loads without a finding', () => {
    const d = check('policies:\n  - { id: null, workspaceId: null, name: a, tool: mcp, actionType: null, actionPattern: "*", resourceType: null, riskLevel: null, mode: allow, conditions: null, priority: 1, enabled: true, toolName: null, toolNamePattern: null }\n');
    assert.deepEqual(codes(d), []);
  });
  it('enabled is not optional on the Policy engine page: null stays an error', () => {
    assert.deepEqual(codes(check(doc('    enabled: null\n'))), ['wrong-type@8']);
  });
  it('PolicyConditions: each key loads; null means absent', () => {
    const d = check(doc('    conditions: { minRiskLevel: null, maxRiskLevel: null, allowedAgents: null, blockedAgents: null, allowedResourceTypes: null, blockedResourceTypes: null, customRules: null }\n'));
    assert.deepEqual(codes(d), []);
  });
  it('tool "*" loads, with toolName and toolNamePattern too (it covers MCP)', () => {
    const d = check('policies:\n  - { name: a, tool: "*", actionPattern: "*", toolName: x, mode: block, priority: 1 }\n');
    assert.deepEqual(codes(d), []);
  });
  it('unknown keys stay errors with file:line (typos must not pass)', () => {
    assert.deepEqual(codes(check(doc('    workspaceID: w\n'))), ['unknown-key@8']);
    assert.deepEqual(codes(check(doc('    conditions:\n      blockedResourceType: [repo]\n'))), ['unknown-key@9']);
  });
  it('the new fields are type-checked, naming file, line and field', () => {
    const d = check(doc('    workspaceId: 7\n    actionType: [x]\n    conditions:\n      allowedResourceTypes: repo\n      blockedResourceTypes: [1]\n      customRules: yes\n'));
    assert.deepEqual(codes(d), ['wrong-type@8', 'wrong-type@9', 'wrong-type@11', 'wrong-type@12', 'wrong-type@13']);
    assert.match(d[0]!.message, /^policies\[0\]\.workspaceId must be a string/);
    assert.match(d[4]!.message, /^policies\[0\]\.conditions\.customRules must be a mapping or a list/);
    assert.ok(d.every((x) => x.file === 'policy.yaml' && x.field?.startsWith('policies[0].')));
  });
  it('a tool other than the six and "*" is still an error', () => {
    assert.deepEqual(codes(check('policies:\n  - { name: a, tool: "**", actionPattern: "*", mode: block, priority: 1 }\n')), ['invalid-value@2']);
  });
  it('the fixture built from the docs pages\' examples loads with no error', async () => {
    const { diagnostics, document } = await loadPolicyPath(FIXTURE);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    assert.equal(document.policies.length, 11);
    const lint = [...findUnreachable(document), ...findTies(document)];
    assert.deepEqual(lint.filter((d) => d.severity === 'error'), []);
  });
});

describe('policy check: ambiguous-field, once per document and point, never an error', () => {
  it('names each disputed point at its first use, once', () => {
    const d = check(
      'policies:\n' +
        '  - { name: a, tool: mcp, actionPattern: "*", mode: block, priority: 1, conditions: { blockedAgents: [x] } }\n' +
        '  - { name: b, tool: mcp, actionPattern: "*", mode: block, priority: 2, conditions: { blockedAgents: [y] }, riskLevel: high }\n' +
        '  - { name: c, tool: mcp, actionPattern: "*", mode: allow, priority: 3, toolName: x, toolNamePattern: "x*", actionType: write, conditions: { customRules: { a: 1 }, allowedResourceTypes: [r], blockedResourceTypes: [s] } }\n',
    );
    const amb = d.filter((x) => x.code === 'ambiguous-field');
    assert.ok(amb.every((x) => x.severity === 'warning'));
    assert.deepEqual(amb.map((x) => `${x.field}@${x.line}`), [
      'policies[0].conditions.blockedAgents@2',
      'policies[1].riskLevel@3',
      'policies[2].toolNamePattern@4',
      'policies[2].conditions.allowedResourceTypes@4',
      'policies[2].conditions.blockedResourceTypes@4',
      'policies[2].conditions.customRules@4',
      'policies[2].actionType@4',
    ]);
    assert.match(amb[1]!.message, /exact level, "Policy engine" as a minimum/);
  });
  it('empty customRules, null fields and a lone toolName or toolNamePattern are no ambiguity', () => {
    const d = check('policies:\n  - { name: a, tool: mcp, actionPattern: "*", toolName: x, actionType: null, mode: block, priority: 1, conditions: { customRules: {} } }\n  - { name: b, tool: mcp, actionPattern: "*", toolNamePattern: "y*", mode: block, priority: 2, conditions: { customRules: [] } }\n');
    assert.deepEqual(codes(d), []);
  });
  it('a folder is one document: a point used in two files is named once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-readings-'));
    await writeFile(path.join(dir, 'a.yaml'), 'policies:\n  - { name: a, tool: mcp, actionPattern: "*", riskLevel: low, mode: allow, priority: 1 }\n');
    await writeFile(path.join(dir, 'b.yaml'), 'policies:\n  - { name: b, tool: mcp, actionPattern: "*", riskLevel: high, mode: block, priority: 2 }\n');
    const { diagnostics } = await loadPolicyPath(dir);
    assert.deepEqual(diagnostics.map((x) => `${x.code}@${path.basename(x.file)}:${x.line}`), ['ambiguous-field@a.yaml:2']);
  });
  it('an equal-priority tie between a block and another mode that may match is named once', () => {
    const d = check(
      'policies:\n  - { name: a, tool: mcp, actionPattern: "*", mode: allow, priority: 5 }\n  - { name: b, tool: mcp, actionPattern: "delete_*", mode: block, priority: 5 }\n' +
        '  - { name: c, tool: mcp, actionPattern: "x", mode: allow, priority: 6 }\n  - { name: d, tool: mcp, actionPattern: "x", mode: block, priority: 6 }\n',
    );
    const amb = d.filter((x) => x.code === 'ambiguous-field');
    assert.deepEqual(codes(amb), ['warning:ambiguous-field@3']);
    assert.match(amb[0]!.message, /"b" \(block\) and "a" \(allow\) share priority 5/);
  });
  it('no tie warning when the tied policies cannot meet (other tool, disjoint names)', () => {
    const d = check(
      'policies:\n  - { name: a, tool: github, actionPattern: "*", mode: allow, priority: 5 }\n  - { name: b, tool: mcp, actionPattern: "delete_*", mode: block, priority: 5 }\n' +
        '  - { name: c, tool: mcp, actionPattern: "get_*", mode: allow, priority: 5 }\n',
    );
    assert.deepEqual(codes(d), []);
  });
});

describe('policy test / explain: the contract\'s reading', () => {
  it('tool "*" matches every tool', () => {
    const set = compilePolicies([p({ name: 'all', tool: '*', mode: 'block', priority: 1 })]);
    for (const tool of ['mcp', 'github', 'linear', 'slack', 'notion', 'internal_api'] as const) {
      assert.equal(decide(set, { tool, action: 'x', riskLevel: 'low' }).policy, 'all', tool);
    }
  });
  it('a "*" policy keeps its place in the evaluation order among a tool\'s own policies', () => {
    const set = compilePolicies([p({ name: 'mcp allow', priority: 1 }), p({ name: 'all block', tool: '*', mode: 'block', priority: 2 }), p({ name: 'gh allow', tool: 'github', priority: 3 })]);
    assert.equal(decide(set, { action: 'x' }).policy, 'mcp allow');
    assert.equal(decide(set, { tool: 'github', action: 'x', riskLevel: 'low' }).policy, 'all block');
  });
  it('allowedResourceTypes / blockedResourceTypes read like resourceType: the request\'s type in / not in the list', () => {
    const set = compilePolicies([
      p({ name: 'only issues', tool: 'github', mode: 'block', priority: 1, conditions: { allowedResourceTypes: ['issue'] } }),
      p({ name: 'not repos', tool: 'github', mode: 'require_approval', priority: 2, conditions: { blockedResourceTypes: ['repository'] } }),
    ]);
    const gh = (resourceType?: string) => decide(set, { tool: 'github', action: 'x', riskLevel: 'low', ...(resourceType ? { resourceType } : {}) }).policy;
    assert.equal(gh('issue'), 'only issues');
    assert.equal(gh('pull_request'), 'not repos');
    assert.equal(gh('repository'), null);
    assert.equal(gh(), 'not repos');
    const trace = explain(set, { tool: 'github', action: 'x', riskLevel: 'low', resourceType: 'repository' }).trace;
    assert.deepEqual(trace.map((t) => t.detail), ['resource type repository is not in allowedResourceTypes', 'resource type repository is in blockedResourceTypes']);
  });
  it('customRules and actionType have no semantics: they never stop a match in test', () => {
    const set = compilePolicies([p({ name: 'rules', mode: 'block', actionType: 'write', conditions: { customRules: { maxFiles: 3 } } })]);
    assert.equal(decide(set, { action: 'x' }).policy, 'rules');
  });
  it('explain marks a disputed field that decides, and says the gate decides it', () => {
    const set = compilePolicies([
      p({ name: 'low only', riskLevel: 'low', priority: 1 }),
      p({ name: 'untrusted', mode: 'block', priority: 2, conditions: { blockedAgents: ['bot'] } }),
    ]);
    const x = explain(set, { action: 'delete_x', agent: 'bot' });
    assert.equal(x.decision.policy, 'untrusted');
    assert.deepEqual(x.trace.map((t) => t.uncertain), [['riskLevel'], ['blockedAgents']]);
    assert.equal(x.uncertain.length, 2);
    assert.match(x.uncertain[0]!, /^policy "low only": .*riskLevel as an exact level/);
    // riskLevel cannot matter when the request is below it: both readings say no.
    const low = explain(compilePolicies([p({ name: 'high only', riskLevel: 'high' })]), { action: 'get_x' });
    assert.deepEqual(low.uncertain, []);
    assert.equal(low.trace[0]!.uncertain, undefined);
  });
  it('explain names a block that won an equal-priority tie, and a disputed risk inference', () => {
    const set = compilePolicies([p({ name: 'allow', priority: 5 }), p({ name: 'block', mode: 'block', priority: 5, conditions: { minRiskLevel: 'high' } })]);
    const x = explain(set, { action: 'purge_cache' });
    assert.equal(x.decision.policy, 'block');
    assert.ok(x.uncertain.some((u) => /"allow" \(allow\) has the same priority/.test(u)), x.uncertain.join('\n'));
    assert.ok(x.uncertain.some((u) => /risk inferred as high by the CLI's rule, medium by the Architecture page's/.test(u)), x.uncertain.join('\n'));
  });
  it('a test case reports the contract\'s result and lists what the gate decides', () => {
    const set = compilePolicies([p({ name: 'untrusted', mode: 'block', conditions: { blockedAgents: ['bot'] } })]);
    const r = runCase(set, { name: 'bot is blocked', line: 1, request: { action: 'x', agent: 'bot' }, expect: { mode: 'block' } });
    assert.equal(r.status, 'PASS');
    assert.equal(r.uncertain?.length, 1);
    const plain = runCase(compilePolicies([p({ name: 'b', mode: 'block' })]), { name: 'n', line: 1, request: { action: 'x' }, expect: { mode: 'block' } });
    assert.equal(plain.uncertain, undefined);
  });
});

describe('the first check: blocks locally only when every reading blocks', () => {
  it('equal priority: a block tied with a non-block that may match is uncertain', () => {
    const set = compilePolicies([p({ name: 'allow', priority: 5 }), p({ name: 'block', mode: 'block', priority: 5 })]);
    assert.equal(decideLocally(set, { action: 'x' }).decision.policy, 'block');
    assert.equal(certain(set, { action: 'x' }), false);
    assert.equal(isHiddenFromListing(set, 'x', 'a'), false);
  });
  it('a tie with a non-block that cannot match, or of another tool, leaves the block certain', () => {
    const set = compilePolicies([
      p({ name: 'allow gets', toolNamePattern: 'get_*', priority: 5 }),
      p({ name: 'allow gh', tool: 'github', priority: 5 }),
      p({ name: 'block', mode: 'block', priority: 5 }),
    ]);
    assert.equal(certain(set, { action: 'x' }), true);
    assert.equal(certain(set, { action: 'get_x' }), false);
    assert.equal(isHiddenFromListing(set, 'x', 'a'), true);
  });
  it('a tie with a non-block whose match depends on the arguments: listing is uncertain, the call is decided', () => {
    const set = compilePolicies([p({ name: 'allow dev', priority: 5, conditions: { arguments: { '/env': { equals: 'dev' } } } }), p({ name: 'block', mode: 'block', priority: 5 })]);
    assert.equal(certain(set, { action: 'x', arguments: { env: 'prod' } }), true);
    assert.equal(certain(set, { action: 'x', arguments: { env: 'dev' } }), false);
    assert.equal(isHiddenFromListing(set, 'x', 'a'), false);
  });
  it('blockedAgents is uncertain for every agent, listed or not', () => {
    const set = compilePolicies([p({ name: 'untrusted', mode: 'block', conditions: { blockedAgents: ['bot'] } })]);
    assert.equal(certain(set, { action: 'x', agent: 'bot' }), false);
    assert.equal(certain(set, { action: 'x', agent: 'other' }), false);
  });
  it('no policy matches: forward', () => {
    assert.equal(certain(compilePolicies([]), { action: 'delete_repo' }), false);
    assert.equal(certain(compilePolicies([p({ name: 'b', toolName: 'y', mode: 'block' })]), { action: 'x' }), false);
  });
  it('riskLevel exact vs minimum: equal matches, lower does not, higher is uncertain', () => {
    const set = compilePolicies([p({ name: 'medium', riskLevel: 'medium', mode: 'block' })]);
    assert.equal(certain(set, { action: 'x', riskLevel: 'medium' }), true);
    assert.equal(decideLocally(set, { action: 'x', riskLevel: 'low' }).decision.policy, null);
    assert.equal(certain(set, { action: 'x', riskLevel: 'low' }), false);
    assert.equal(decideLocally(set, { action: 'x', riskLevel: 'high' }).decision.policy, null);
    assert.equal(certain(set, { action: 'x', riskLevel: 'high' }), false);
    // an allow read as a minimum may catch a higher request before the block
    const before = compilePolicies([p({ name: 'low allow', riskLevel: 'low', priority: 1 }), p({ name: 'block', mode: 'block', priority: 2 })]);
    assert.equal(certain(before, { action: 'x', riskLevel: 'high' }), false);
    assert.equal(certain(compilePolicies([p({ name: 'high allow', riskLevel: 'high', priority: 1 }), p({ name: 'block', mode: 'block', priority: 2 })]), { action: 'x', riskLevel: 'low' }), true);
  });
  it('the minimum reading stays within minRiskLevel / maxRiskLevel', () => {
    const set = compilePolicies([p({ name: 'allow', riskLevel: 'low', priority: 1, conditions: { maxRiskLevel: 'medium' } }), p({ name: 'block', mode: 'block', priority: 2 })]);
    assert.equal(certain(set, { action: 'x', riskLevel: 'medium' }), false);
    assert.equal(certain(set, { action: 'x', riskLevel: 'high' }), true);
  });
  it('tool "*" matches every tool, certainly', () => {
    const set = compilePolicies([p({ name: 'all', tool: '*', mode: 'block' })]);
    assert.equal(certain(set, { action: 'anything' }), true);
    assert.equal(isHiddenFromListing(set, 'anything', 'a'), true);
  });
  it('toolName and toolNamePattern: certain when both or neither hold, else uncertain', () => {
    const set = compilePolicies([p({ name: 'b', toolName: 'delete_repo', toolNamePattern: 'delete_*', mode: 'block' })]);
    assert.equal(certain(set, { action: 'delete_repo' }), true);
    assert.equal(decideLocally(set, { action: 'delete_file' }).decision.policy, null, 'AND: the contract does not match');
    assert.equal(certain(set, { action: 'delete_file' }), false);
    assert.equal(certain(set, { action: 'other' }), false);
    // as an allow before a block: the OR reading may let it match
    const before = compilePolicies([p({ name: 'a', toolName: 'ok', toolNamePattern: 'safe_*', priority: 1 }), p({ name: 'b', mode: 'block', priority: 2 })]);
    assert.equal(certain(before, { action: 'safe_x' }), false);
    assert.equal(certain(before, { action: 'ok' }), false);
    assert.equal(certain(before, { action: 'other' }), true);
  });
  for (const [label, extra] of [
    ['allowedResourceTypes', { conditions: { allowedResourceTypes: ['issue'] } }],
    ['blockedResourceTypes', { conditions: { blockedResourceTypes: ['repo'] } }],
    ['non-empty customRules', { conditions: { customRules: { maxFiles: 1 } } }],
    ['actionType', { actionType: 'write' }],
  ] as const) {
    it(`${label}: uncertain, as a block and as a non-block ahead of one`, () => {
      assert.equal(certain(compilePolicies([p({ name: 'b', mode: 'block', ...extra })]), { action: 'x' }), false);
      const before = compilePolicies([p({ name: 'a', priority: 1, ...extra }), p({ name: 'b', mode: 'block', priority: 2 })]);
      assert.equal(certain(before, { action: 'x' }), false);
      assert.equal(isHiddenFromListing(before, 'x', 'a'), false);
      assert.equal(certain(compilePolicies([p({ name: 'a', priority: 1, ...extra }), p({ name: 'b', mode: 'block', priority: 2 })]), { action: 'x' }), false);
    });
  }
  it('empty customRules are ignored', () => {
    assert.equal(certain(compilePolicies([p({ name: 'b', mode: 'block', conditions: { customRules: {} } })]), { action: 'x' }), true);
  });
  it('risk inference: both rules are computed; a block needs every candidate risk to block', () => {
    assert.equal(inferMcpRisk('purge_cache'), 'high');
    assert.equal(inferMcpRiskByDocs('purge_cache'), 'medium');
    assert.equal(inferMcpRisk('get_and_delete'), 'high');
    assert.equal(inferMcpRiskByDocs('get_and_delete'), 'low');
    assert.equal(inferMcpRiskByDocs('search_x'), 'medium');
    const set = compilePolicies([p({ name: 'high+', mode: 'block', conditions: { minRiskLevel: 'high' } })]);
    assert.equal(certain(set, { action: 'delete_repo' }), true);
    assert.equal(decide(set, { action: 'purge_cache' }).policy, 'high+');
    assert.equal(certain(set, { action: 'purge_cache' }), false);
    // a stated risk leaves nothing to infer
    assert.equal(certain(set, { action: 'purge_cache', riskLevel: 'high' }), true);
  });
  it('kill switch: a paused tool is certain; the global switch only when no candidate risk is low', () => {
    const global = compilePolicies([], { killSwitch: { global: true, toolsPaused: [] } });
    assert.equal(certain(global, { action: 'delete_repo' }), true);
    assert.equal(certain(global, { action: 'purge_cache' }), true);
    assert.equal(decideLocally(global, { action: 'get_and_delete' }).decision.source, 'kill_switch');
    assert.equal(certain(global, { action: 'get_and_delete' }), false);
    assert.equal(certain(global, { action: 'search_x' }), false);
    assert.equal(isHiddenFromListing(global, 'get_and_delete', 'a'), false);
    assert.equal(isHiddenFromListing(global, 'delete_repo', 'a'), true);
    const paused = compilePolicies([], { killSwitch: { global: false, toolsPaused: ['mcp'] } });
    assert.equal(certain(paused, { action: 'get_x' }), true);
  });
  it('an uncertain non-block ordered before a block makes that block uncertain; after it, it does not matter', () => {
    const before = compilePolicies([p({ name: 'a', priority: 1, conditions: { blockedAgents: ['bot'] } }), p({ name: 'b', mode: 'block', priority: 2 })]);
    assert.equal(certain(before, { action: 'x', agent: 'z' }), false);
    const after = compilePolicies([p({ name: 'b', mode: 'block', priority: 1 }), p({ name: 'a', priority: 2, conditions: { blockedAgents: ['bot'] } })]);
    assert.equal(certain(after, { action: 'x', agent: 'z' }), true);
  });
});
