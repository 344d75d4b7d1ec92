// policy.md, "The request and the decision": every field, condition and ordering rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, explain } from '../../src/policy/decide.ts';
import { MAX_REGEX_INPUT } from '../../src/policy/matchers.ts';
import { compilePolicies, compileYaml, p } from '../helpers/policy.ts';

const mode = (set: ReturnType<typeof compilePolicies>, req: Parameters<typeof decide>[1]) => decide(set, req).mode;
const who = (set: ReturnType<typeof compilePolicies>, req: Parameters<typeof decide>[1]) => decide(set, req).policy;

describe("the seed's rule, verbatim", () => {
  const seed = `{"version": "seed", "policies": [{"name": "Allow Claude Code to create issues", "tool": "mcp", "actionPattern": "*", "toolNamePattern": "create_issue", "conditions": {"allowedAgents": ["claude-code"]}, "mode": "allow", "priority": 10}, {"name": "Everything else needs approval", "tool": "mcp", "actionPattern": "*", "mode": "require_approval", "priority": 999}]}`;
  const set = compileYaml(seed, 'seed.json');
  it('allows claude-code to create issues', () => {
    const d = decide(set, { agent: 'claude-code', action: 'create_issue' });
    assert.equal(d.mode, 'allow');
    assert.equal(d.policy, 'Allow Claude Code to create issues');
    assert.equal(d.priority, 10);
    assert.equal(d.reason, 'Policy "Allow Claude Code to create issues" matched');
    assert.equal(d.policyVersion, 'seed');
  });
  it('does not apply to another agent', () => {
    assert.equal(who(set, { agent: 'cursor', action: 'create_issue' }), 'Everything else needs approval');
  });
  it('does not apply to another tool name (toolNamePattern without * is exact)', () => {
    assert.equal(who(set, { agent: 'claude-code', action: 'create_issue_comment' }), 'Everything else needs approval');
  });
  it('does not apply to a non-MCP request', () => {
    assert.equal(decide(set, { tool: 'github', agent: 'claude-code', action: 'create_issue' }).policy, null);
  });
});

describe('tool', () => {
  const set = compilePolicies([p({ name: 'gh', tool: 'github', mode: 'block' }), p({ name: 'lin', tool: 'linear', mode: 'require_approval' })]);
  it('a request only meets policies of its own tool', () => {
    assert.equal(who(set, { tool: 'github', action: 'x', riskLevel: 'low' }), 'gh');
    assert.equal(who(set, { tool: 'linear', action: 'x', riskLevel: 'low' }), 'lin');
    assert.equal(who(set, { tool: 'slack', action: 'x', riskLevel: 'low' }), null);
  });
  it('defaults to mcp', () => {
    const mcp = compilePolicies([p({ name: 'm', mode: 'block' })]);
    assert.equal(who(mcp, { action: 'x' }), 'm');
  });
});

describe('actionPattern', () => {
  const set = compilePolicies([
    p({ name: 'exact', tool: 'github', actionPattern: 'pull_request.create', priority: 1 }),
    p({ name: 'dot-star', tool: 'github', actionPattern: 'pull_request.*', priority: 2 }),
    p({ name: 'star-suffix', tool: 'github', actionPattern: 'issue*', priority: 3 }),
    p({ name: 'everything', tool: 'github', actionPattern: '*', priority: 4 }),
  ]);
  const r = (action: string) => who(set, { tool: 'github', action, riskLevel: 'low' });
  it('anything without * is exact', () => assert.equal(r('pull_request.create'), 'exact'));
  it('x.* matches actions starting with "x."', () => {
    assert.equal(r('pull_request.merge'), 'dot-star');
    assert.equal(r('pull_request.'), 'dot-star');
    assert.equal(r('pull_requests'), 'everything');
  });
  it('x* matches actions starting with x', () => {
    assert.equal(r('issue'), 'star-suffix');
    assert.equal(r('issues.update'), 'star-suffix');
  });
  it('* matches everything', () => assert.equal(r('ref.delete'), 'everything'));
  it('matching is case-sensitive', () => assert.equal(r('Pull_request.create'), 'everything'));
});

describe('toolName and toolNamePattern (MCP)', () => {
  const set = compilePolicies([
    p({ name: 'by name', toolName: 'get_file', mode: 'block', priority: 1 }),
    p({ name: 'by prefix', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    p({ name: 'both', actionPattern: 'run_*', toolNamePattern: 'run_sql*', mode: 'require_approval', priority: 3 }),
  ]);
  it('toolName is an exact match on the tool name', () => {
    assert.equal(who(set, { action: 'get_file' }), 'by name');
    assert.equal(who(set, { action: 'get_files' }), null);
  });
  it('toolNamePattern is a prefix wildcard', () => {
    assert.equal(who(set, { action: 'delete_repo' }), 'by prefix');
    assert.equal(who(set, { action: 'undelete_repo' }), null);
  });
  it('actionPattern and toolNamePattern must both hold', () => {
    assert.equal(who(set, { action: 'run_sql_query' }), 'both');
    assert.equal(who(set, { action: 'run_tests' }), null);
  });
});

describe('resourceType', () => {
  const set = compilePolicies([p({ name: 'repos only', tool: 'github', resourceType: 'repository', mode: 'block' })]);
  it('matches only that resource type', () => {
    assert.equal(who(set, { tool: 'github', action: 'x', resourceType: 'repository', riskLevel: 'low' }), 'repos only');
    assert.equal(who(set, { tool: 'github', action: 'x', resourceType: 'issue', riskLevel: 'low' }), null);
  });
  it('a request without a resource type does not meet it', () => {
    assert.equal(who(set, { tool: 'github', action: 'x', riskLevel: 'low' }), null);
  });
});

describe('riskLevel (exact) and min/maxRiskLevel (range)', () => {
  const set = compilePolicies([
    p({ name: 'exactly high', tool: 'github', riskLevel: 'high', mode: 'block', priority: 1 }),
    p({ name: 'medium and up', tool: 'github', conditions: { minRiskLevel: 'medium' }, mode: 'require_approval', priority: 2 }),
    p({ name: 'up to low', tool: 'linear', conditions: { maxRiskLevel: 'low' }, priority: 3 }),
    p({ name: 'medium..high', tool: 'slack', conditions: { minRiskLevel: 'medium', maxRiskLevel: 'high' }, mode: 'block', priority: 4 }),
  ]);
  it('riskLevel matches only that exact level', () => {
    assert.equal(who(set, { tool: 'github', action: 'a', riskLevel: 'high' }), 'exactly high');
    assert.equal(who(set, { tool: 'github', action: 'a', riskLevel: 'critical' }), 'medium and up');
  });
  it('minRiskLevel is inclusive, low < medium < high < critical', () => {
    assert.equal(who(set, { tool: 'github', action: 'a', riskLevel: 'medium' }), 'medium and up');
    assert.equal(who(set, { tool: 'github', action: 'a', riskLevel: 'low' }), null);
  });
  it('maxRiskLevel is inclusive', () => {
    assert.equal(who(set, { tool: 'linear', action: 'a', riskLevel: 'low' }), 'up to low');
    assert.equal(who(set, { tool: 'linear', action: 'a', riskLevel: 'medium' }), null);
  });
  it('both bounds hold together', () => {
    assert.deepEqual(
      (['low', 'medium', 'high', 'critical'] as const).map((riskLevel) => who(set, { tool: 'slack', action: 'a', riskLevel })),
      [null, 'medium..high', 'medium..high', null],
    );
  });
  it('a non-MCP request without a riskLevel does not meet policies with risk filters', () => {
    assert.equal(who(set, { tool: 'github', action: 'a' }), null);
    assert.equal(who(set, { tool: 'slack', action: 'a' }), null);
  });
  it('an MCP request without a riskLevel gets the inferred one', () => {
    const mcp = compilePolicies([p({ name: 'high mcp', riskLevel: 'high', mode: 'block' })]);
    assert.equal(who(mcp, { action: 'delete_repo' }), 'high mcp');
    assert.equal(decide(mcp, { action: 'delete_repo' }).riskLevel, 'high');
    assert.equal(who(mcp, { action: 'list_repos' }), null);
  });
  it('a given riskLevel is used as is, even for MCP', () => {
    const mcp = compilePolicies([p({ name: 'high mcp', riskLevel: 'high', mode: 'block' })]);
    assert.equal(who(mcp, { action: 'delete_repo', riskLevel: 'low' }), null);
    assert.equal(who(mcp, { action: 'list_repos', riskLevel: 'high' }), 'high mcp');
  });
});

describe('agents', () => {
  const set = compilePolicies([
    p({ name: 'allowed', conditions: { allowedAgents: ['claude-code', 'cursor'] }, priority: 1, actionPattern: 'a' }),
    p({ name: 'blocked', conditions: { blockedAgents: ['rogue'] }, mode: 'block', priority: 2 }),
    p({ name: 'for unknown', conditions: { allowedAgents: ['unknown'] }, mode: 'require_approval', priority: 3 }),
  ]);
  it('allowedAgents: the policy applies only to these agent ids', () => {
    assert.equal(who(set, { action: 'a', agent: 'cursor' }), 'allowed');
    assert.equal(who(set, { action: 'a', agent: 'windsurf' }), null);
  });
  it('blockedAgents: the policy applies only to these agent ids (block specific agents by id)', () => {
    assert.equal(who(set, { action: 'b', agent: 'rogue' }), 'blocked');
    assert.equal(mode(set, { action: 'b', agent: 'rogue' }), 'block');
    assert.equal(who(set, { action: 'b', agent: 'claude-code' }), null);
  });
  it('agent ids are exact strings: no case folding', () => {
    assert.equal(who(set, { action: 'a', agent: 'Cursor' }), null);
  });
  it('a request without an agent has agent "unknown"', () => {
    assert.equal(who(set, { action: 'b' }), 'for unknown');
  });
  it('both lists present: the agent must be in both', () => {
    const both = compilePolicies([p({ name: 'both', conditions: { allowedAgents: ['a', 'b'], blockedAgents: ['b', 'c'] }, mode: 'block' })]);
    assert.deepEqual(['a', 'b', 'c'].map((agent) => who(both, { action: 'x', agent })), [null, 'both', null]);
  });
});

describe('arguments (extension)', () => {
  const set = compilePolicies([
    p({ name: 'equals', actionPattern: 'eq', conditions: { arguments: { '/n': { equals: 1 } } }, mode: 'block' }),
    p({ name: 'equals object', actionPattern: 'eqo', conditions: { arguments: { '/o': { equals: { a: [1, 'x'], b: null } } } }, mode: 'block' }),
    p({ name: 'oneOf', actionPattern: 'one', conditions: { arguments: { '/env': { oneOf: ['prod', 1] } } }, mode: 'block' }),
    p({ name: 'prefix', actionPattern: 'pre', conditions: { arguments: { '/path': { prefix: '/etc/' } } }, mode: 'block' }),
    p({ name: 'regex', actionPattern: 're', conditions: { arguments: { '/q': { regex: 'DROP .*' } } }, mode: 'block' }),
    p({ name: 'exists', actionPattern: 'ex', conditions: { arguments: { '/force': { exists: true } } }, mode: 'block' }),
    p({ name: 'not exists', actionPattern: 'nex', conditions: { arguments: { '/dryRun': { exists: false } } }, mode: 'block' }),
    p({ name: 'escapes', actionPattern: 'esc', conditions: { arguments: { '/a~1b/c~0d/1': { equals: 'y' } } }, mode: 'block' }),
    p({ name: 'all hold', actionPattern: 'all', conditions: { arguments: { '/a': { equals: 1 }, '/b': { equals: 2 } } }, mode: 'block' }),
    p({ name: 'root', actionPattern: 'root', conditions: { arguments: { '': { equals: {} } } }, mode: 'block' }),
  ]);
  const blocked = (action: string, args: unknown) => mode(set, { action, arguments: args, riskLevel: 'low' }) === 'block';
  it('equals is JSON equality, type included', () => {
    assert.equal(blocked('eq', { n: 1 }), true);
    assert.equal(blocked('eq', { n: '1' }), false);
    assert.equal(blocked('eq', { n: true }), false);
    assert.equal(blocked('eqo', { o: { b: null, a: [1, 'x'] } }), true);
    assert.equal(blocked('eqo', { o: { a: [1, 'x'] } }), false);
    assert.equal(blocked('eqo', { o: { a: ['x', 1], b: null } }), false);
  });
  it('oneOf is JSON equality with any of the values', () => {
    assert.equal(blocked('one', { env: 'prod' }), true);
    assert.equal(blocked('one', { env: 1 }), true);
    assert.equal(blocked('one', { env: '1' }), false);
  });
  it('prefix needs a string', () => {
    assert.equal(blocked('pre', { path: '/etc/passwd' }), true);
    assert.equal(blocked('pre', { path: '/tmp/etc/' }), false);
    assert.equal(blocked('pre', { path: ['/etc/'] }), false);
  });
  it('regex is anchored to the whole string', () => {
    assert.equal(blocked('re', { q: 'DROP TABLE x' }), true);
    assert.equal(blocked('re', { q: 'SELECT 1; DROP TABLE x' }), false);
    assert.equal(blocked('re', { q: 42 }), false);
  });
  it('exists', () => {
    assert.equal(blocked('ex', { force: false }), true);
    assert.equal(blocked('ex', {}), false);
    assert.equal(blocked('nex', {}), true);
    assert.equal(blocked('nex', { dryRun: null }), false);
  });
  it('a pointer that resolves to nothing fails every matcher but {exists: false}', () => {
    for (const action of ['eq', 'one', 'pre', 're', 'ex']) assert.equal(blocked(action, {}), false, action);
    assert.equal(blocked('eq', undefined), false);
    assert.equal(blocked('eq', { n: { deeper: 1 } }), false);
  });
  it('RFC 6901: ~1 is /, ~0 is ~, numeric tokens index arrays', () => {
    assert.equal(blocked('esc', { 'a/b': { 'c~d': ['x', 'y'] } }), true);
    assert.equal(blocked('esc', { 'a/b': { 'c~d': ['x'] } }), false);
    assert.equal(blocked('esc', { 'a/b': { 'c~d': { '1': 'y' } } }), true);
  });
  it('every pointer must hold', () => {
    assert.equal(blocked('all', { a: 1, b: 2 }), true);
    assert.equal(blocked('all', { a: 1, b: 3 }), false);
  });
  it('the empty pointer is the whole arguments object (absent arguments are {})', () => {
    assert.equal(blocked('root', undefined), true);
    assert.equal(blocked('root', { a: 1 }), false);
  });
});

describe('priority order and tie-break', () => {
  it('lower priority numbers are evaluated first, whatever the document order', () => {
    const set = compilePolicies([p({ name: 'late', priority: 50, mode: 'block' }), p({ name: 'early', priority: 5 })]);
    assert.equal(who(set, { action: 'x' }), 'early');
  });
  it('negative priorities come before zero', () => {
    const set = compilePolicies([p({ name: 'zero', priority: 0 }), p({ name: 'neg', priority: -3, mode: 'block' })]);
    assert.equal(who(set, { action: 'x' }), 'neg');
  });
  it('on equal priority: block, then require_approval, then allow', () => {
    const set = compilePolicies([
      p({ name: 'allow', priority: 7 }),
      p({ name: 'approval', priority: 7, mode: 'require_approval' }),
      p({ name: 'block', priority: 7, mode: 'block' }),
    ]);
    assert.equal(who(set, { action: 'x' }), 'block');
    const noBlock = compilePolicies([p({ name: 'allow', priority: 7 }), p({ name: 'approval', priority: 7, mode: 'require_approval' })]);
    assert.equal(who(noBlock, { action: 'x' }), 'approval');
  });
  it('then document order', () => {
    const set = compilePolicies([p({ name: 'first', priority: 7 }), p({ name: 'second', priority: 7 })]);
    assert.equal(who(set, { action: 'x' }), 'first');
  });
  it('the first match decides, even when a later policy is stricter', () => {
    const set = compilePolicies([p({ name: 'allow deletes', toolNamePattern: 'delete_*', priority: 1 }), p({ name: 'block deletes', toolNamePattern: 'delete_*', priority: 2, mode: 'block' })]);
    assert.equal(mode(set, { action: 'delete_x' }), 'allow');
  });
  it('disabled policies are skipped entirely', () => {
    const set = compilePolicies([p({ name: 'off', priority: 1, mode: 'block', enabled: false }), p({ name: 'on', priority: 2 })]);
    assert.equal(who(set, { action: 'x' }), 'on');
  });
  it('the hosted id is reported as policyId', () => {
    const set = compilePolicies([p({ name: 'with id', id: '7f1c-aa', mode: 'block' })]);
    assert.equal(decide(set, { action: 'x' }).policyId, '7f1c-aa');
  });
});

describe('default', () => {
  it('no policy matches: allow, with no policy', () => {
    const set = compilePolicies([p({ name: 'only github', tool: 'github', mode: 'block' })]);
    const d = decide(set, { action: 'anything' });
    assert.deepEqual([d.mode, d.policy, d.policyId, d.priority, d.source], ['allow', null, null, null, 'default']);
    assert.match(d.reason, /No policy matched/);
  });
  it('an empty policies list allows everything', () => {
    const set = compileYaml('policies: []\n');
    assert.equal(mode(set, { action: 'delete_everything' }), 'allow');
  });
});

describe('kill switch', () => {
  const allowAll = [p({ name: 'allow everything', priority: 1 }), p({ name: 'allow gh', tool: 'github', priority: 1 })];
  it('global: blocks every request whose risk is above low, before any policy', () => {
    const set = compilePolicies(allowAll, { killSwitch: { global: true, toolsPaused: [] } });
    for (const action of ['create_issue', 'delete_repo', 'do_something']) {
      const d = decide(set, { action });
      assert.equal(d.mode, 'block', action);
      assert.equal(d.reason, 'Kill switch is active');
      assert.equal(d.policy, null);
    }
    assert.equal(decide(set, { tool: 'github', action: 'ref.delete', riskLevel: 'critical' }).mode, 'block');
  });
  it('global: low-risk requests still go through the policies', () => {
    const set = compilePolicies(allowAll, { killSwitch: { global: true, toolsPaused: [] } });
    assert.equal(who(set, { action: 'list_issues' }), 'allow everything');
    assert.equal(who(set, { tool: 'github', action: 'read', riskLevel: 'low' }), 'allow gh');
  });
  it('global: a non-MCP request of unknown risk is not known to be a read, so it is blocked', () => {
    const set = compilePolicies(allowAll, { killSwitch: { global: true, toolsPaused: [] } });
    assert.equal(mode(set, { tool: 'github', action: 'read' }), 'block');
  });
  it('toolsPaused: blocks every request for that tool, reads included', () => {
    const set = compilePolicies(allowAll, { killSwitch: { global: false, toolsPaused: ['github'] } });
    const d = decide(set, { tool: 'github', action: 'read', riskLevel: 'low' });
    assert.equal(d.mode, 'block');
    assert.equal(d.reason, 'Kill switch is active');
    assert.equal(d.source, 'kill_switch');
    assert.equal(who(set, { action: 'create_issue' }), 'allow everything');
  });
  it('off: no effect', () => {
    const set = compilePolicies(allowAll, { killSwitch: { global: false, toolsPaused: [] } });
    assert.equal(mode(set, { action: 'delete_repo' }), 'allow');
  });
});

describe('errors never widen access', () => {
  const huge = 'x'.repeat(MAX_REGEX_INPUT + 1);
  const withMode = (m: string) =>
    compilePolicies([p({ name: `regex ${m}`, actionPattern: 'q', conditions: { arguments: { '/s': { regex: 'x+' } } }, mode: m, priority: 1 }), p({ name: 'fallback', actionPattern: 'q', mode: 'require_approval', priority: 2 })]);
  it('a string at the limit is still tested', () => {
    assert.equal(who(withMode('block'), { action: 'q', arguments: { s: 'x'.repeat(MAX_REGEX_INPUT) } }), 'regex block');
  });
  it('a block policy whose evaluation errs counts as matched, and the reason says so', () => {
    const d = decide(withMode('block'), { action: 'q', arguments: { s: huge } });
    assert.equal(d.mode, 'block');
    assert.equal(d.policy, 'regex block');
    assert.match(d.reason, /could not be evaluated .*over the 65536-character limit.*errors never widen access/);
    assert.ok(d.evaluationError);
  });
  it('a require_approval policy whose evaluation errs counts as matched', () => {
    assert.equal(decide(withMode('require_approval'), { action: 'q', arguments: { s: huge } }).policy, 'regex require_approval');
  });
  it('an allow policy whose evaluation errs counts as not matched, and the reason says so', () => {
    const d = decide(withMode('allow'), { action: 'q', arguments: { s: huge } });
    assert.equal(d.policy, 'fallback');
    assert.equal(d.mode, 'require_approval');
    assert.match(d.reason, /policy "regex allow" could not be evaluated.*an allow policy that errs does not match/);
  });
  it('...even when nothing else matches', () => {
    const set = compilePolicies([p({ name: 'regex allow', conditions: { arguments: { '/s': { regex: 'x+' } } } })]);
    const d = decide(set, { action: 'q', arguments: { s: huge } });
    assert.equal(d.policy, null);
    assert.match(d.reason, /could not be evaluated/);
  });
});

describe('explain', () => {
  const set = compileYaml(`
version: v1
policies:
  - { name: gh, tool: github, actionPattern: "*", mode: block, priority: 1 }
  - { name: agents, tool: mcp, actionPattern: "*", conditions: { allowedAgents: [a] }, mode: allow, priority: 2 }
  - { name: risky, tool: mcp, actionPattern: "*", riskLevel: critical, mode: block, priority: 3 }
  - { name: action, tool: mcp, actionPattern: "create_*", mode: allow, priority: 4 }
  - { name: args, tool: mcp, actionPattern: "*", conditions: { arguments: { /force: { equals: true } } }, mode: block, priority: 5 }
  - { name: deciding, tool: mcp, actionPattern: "*", mode: require_approval, priority: 6 }
  - { name: after, tool: mcp, actionPattern: "*", mode: block, priority: 7 }
`);
  it('lists, for each policy before the match, the first thing that did not hold', () => {
    const x = explain(set, { action: 'delete_repo', agent: 'b', arguments: { force: false } });
    assert.equal(x.decision.policy, 'deciding');
    assert.deepEqual(
      x.trace.map((e) => [e.policy, e.result, e.detail]),
      [
        ['gh', 'no-match', 'tool is github, the request\'s is mcp'],
        ['agents', 'no-match', 'agent "b" is not in allowedAgents'],
        ['risky', 'no-match', 'risk high does not meet riskLevel critical'],
        ['action', 'no-match', 'actionPattern "create_*" does not match "delete_repo"'],
        ['args', 'no-match', 'arguments /force = false; wanted equals true'],
        ['deciding', 'match', 'everything holds'],
      ],
    );
    assert.equal(x.trace[5]!.location.line, 9);
  });
  it('names an absent argument', () => {
    const x = explain(set, { action: 'delete_repo', agent: 'b' });
    assert.equal(x.trace[4]!.detail, 'arguments /force is absent; wanted equals true');
  });
  it('agrees with decide', () => {
    const requests = [
      { action: 'create_x', agent: 'b' },
      { action: 'create_x', agent: 'a' },
      { action: 'drop_db', riskLevel: 'critical' as const },
      { action: 'x', arguments: { force: true } },
      { tool: 'github' as const, action: 'x' },
    ];
    for (const r of requests) assert.deepEqual(explain(set, r).decision, decide(set, r));
  });
  it('has no trace under the kill switch', () => {
    const ks = compilePolicies([p({ name: 'a' })], { killSwitch: { global: true, toolsPaused: [] } });
    const x = explain(ks, { action: 'delete' });
    assert.equal(x.decision.source, 'kill_switch');
    assert.deepEqual(x.trace, []);
  });
});
