// policy.md, "What the bridge may decide alone" and "Listing".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideLocally, isHiddenFromListing } from '../../src/policy/decide.ts';
import { MAX_REGEX_INPUT } from '../../src/policy/matchers.ts';
import { compilePolicies, p } from '../helpers/policy.ts';

const certain = (set: ReturnType<typeof compilePolicies>, action: string, agent = 'claude-code', args?: unknown) =>
  decideLocally(set, { action, agent, ...(args === undefined ? {} : { arguments: args }) }).certainBlock;

describe('the certain-block rule', () => {
  it('a block with nothing uncertain before it is certain', () => {
    const set = compilePolicies([p({ name: 'reads', toolNamePattern: 'get_*', priority: 1 }), p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 })]);
    assert.equal(certain(set, 'delete_repo'), true);
    const d = decideLocally(set, { action: 'delete_repo', agent: 'x' }).decision;
    assert.equal(d.policy, 'no deletes');
  });
  it('allow and require_approval are never answered locally', () => {
    const set = compilePolicies([p({ name: 'approve', toolNamePattern: 'merge_*', mode: 'require_approval' })]);
    assert.equal(certain(set, 'merge_pr'), false);
    assert.equal(decideLocally(set, { action: 'merge_pr' }).decision.mode, 'require_approval');
    assert.equal(certain(set, 'list'), false);
  });
  it('a non-block policy with a resourceType ordered before the block makes it uncertain (forward)', () => {
    const set = compilePolicies([
      p({ name: 'allow on sandbox repos', resourceType: 'sandbox', priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(certain(set, 'delete_repo'), false);
    // ...but the decision is still reported
    assert.equal(decideLocally(set, { action: 'delete_repo' }).decision.mode, 'block');
  });
  it('a resourceType policy that cannot match anyway (other action) does not get in the way', () => {
    const set = compilePolicies([
      p({ name: 'allow creates on sandbox', actionPattern: 'create_*', resourceType: 'sandbox', priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(certain(set, 'delete_repo'), true);
  });
  it('a block policy with a resourceType before it does not make it uncertain', () => {
    const set = compilePolicies([
      p({ name: 'block prod', resourceType: 'production', mode: 'block', priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(certain(set, 'delete_repo'), true);
  });
  it('a resourceType policy ordered after the block does not matter', () => {
    const set = compilePolicies([
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 1 }),
      p({ name: 'allow sandbox', resourceType: 'sandbox', priority: 2 }),
    ]);
    assert.equal(certain(set, 'delete_repo'), true);
  });
  it('a block that only a resourceType policy would give is never certain', () => {
    const set = compilePolicies([p({ name: 'block prod', resourceType: 'production', mode: 'block' })]);
    assert.equal(certain(set, 'anything'), false);
    assert.equal(decideLocally(set, { action: 'anything' }).decision.mode, 'allow');
  });
  it('the kill switch is certain', () => {
    const set = compilePolicies([p({ name: 'allow', priority: 1 })], { killSwitch: { global: true, toolsPaused: [] } });
    assert.equal(certain(set, 'create_issue'), true);
    assert.equal(certain(set, 'list_issues'), false);
  });
  it('a block that rests on an evaluation error is left to the gate', () => {
    const set = compilePolicies([p({ name: 'regex block', conditions: { arguments: { '/s': { regex: 'x+' } } }, mode: 'block' })]);
    assert.equal(certain(set, 'q', 'a', { s: 'x'.repeat(MAX_REGEX_INPUT + 1) }), false);
    assert.equal(certain(set, 'q', 'a', { s: 'xxx' }), true);
  });
  it('argument conditions are known to the bridge (it has the call)', () => {
    const set = compilePolicies([
      p({ name: 'allow sandbox', actionPattern: 'push', conditions: { arguments: { '/repo': { equals: 'sandbox' } } }, priority: 1 }),
      p({ name: 'block pushes', actionPattern: 'push', mode: 'block', priority: 2 }),
    ]);
    assert.equal(certain(set, 'push', 'a', { repo: 'prod' }), true);
    assert.equal(certain(set, 'push', 'a', { repo: 'sandbox' }), false);
  });
  it('blockedAgents: Sentrail docs disagree on its meaning, so a block never rests on it', () => {
    const set = compilePolicies([p({ name: 'block rogue', conditions: { blockedAgents: ['rogue'] }, mode: 'block' })]);
    assert.equal(certain(set, 'create_x', 'rogue'), false);
    assert.equal(decideLocally(set, { action: 'create_x', agent: 'rogue' }).decision.mode, 'block');
  });
  it('blockedAgents on a non-block policy before the block makes it uncertain for every agent', () => {
    const set = compilePolicies([
      p({ name: 'allow listed', conditions: { blockedAgents: ['bot'] }, priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(certain(set, 'delete_x', 'someone-else'), false);
    assert.equal(certain(set, 'delete_x', 'bot'), false);
  });
});

describe('the listing rule', () => {
  it('hides a tool when the first policy that can match it for this agent is block', () => {
    const set = compilePolicies([
      p({ name: 'claude may delete', toolNamePattern: 'delete_*', conditions: { allowedAgents: ['claude-code'] }, priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(isHiddenFromListing(set, 'delete_repo', 'cursor'), true);
    assert.equal(isHiddenFromListing(set, 'delete_repo', 'claude-code'), false);
    assert.equal(isHiddenFromListing(set, 'create_repo', 'cursor'), false);
  });
  it('does not hide when a policy before the block might match depending on arguments and is not block', () => {
    const set = compilePolicies([
      p({ name: 'sandbox deletes ok', toolNamePattern: 'delete_*', conditions: { arguments: { '/repo': { equals: 'sandbox' } } }, priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(isHiddenFromListing(set, 'delete_repo', 'x'), false);
  });
  it('hides when the argument-dependent policies before the block are blocks too', () => {
    const set = compilePolicies([
      p({ name: 'no prod deletes', toolNamePattern: 'delete_*', conditions: { arguments: { '/env': { equals: 'prod' } } }, mode: 'block', priority: 1 }),
      p({ name: 'no deletes', toolNamePattern: 'delete_*', mode: 'block', priority: 2 }),
    ]);
    assert.equal(isHiddenFromListing(set, 'delete_repo', 'x'), true);
  });
  it('does not hide a tool that is blocked only for some arguments', () => {
    const set = compilePolicies([p({ name: 'no prod deletes', conditions: { arguments: { '/env': { equals: 'prod' } } }, mode: 'block' })]);
    assert.equal(isHiddenFromListing(set, 'delete_repo', 'x'), false);
  });
  it('does not hide on require_approval', () => {
    const set = compilePolicies([p({ name: 'approve', mode: 'require_approval' })]);
    assert.equal(isHiddenFromListing(set, 'anything', 'x'), false);
  });
  it('uses the inferred risk of the name', () => {
    const set = compilePolicies([p({ name: 'no high risk', conditions: { minRiskLevel: 'high' }, mode: 'block' })]);
    assert.equal(isHiddenFromListing(set, 'drop_table', 'x'), true);
    assert.equal(isHiddenFromListing(set, 'get_table', 'x'), false);
  });
  it('a resourceType policy before the block keeps the tool listed', () => {
    const set = compilePolicies([p({ name: 'rt allow', resourceType: 'x', priority: 1 }), p({ name: 'block', mode: 'block', priority: 2 })]);
    assert.equal(isHiddenFromListing(set, 'anything', 'x'), false);
  });
  it('the kill switch hides what it certainly blocks', () => {
    const paused = compilePolicies([], { killSwitch: { global: false, toolsPaused: ['mcp'] } });
    assert.equal(isHiddenFromListing(paused, 'get_file', 'x'), true);
    const global = compilePolicies([], { killSwitch: { global: true, toolsPaused: [] } });
    assert.equal(isHiddenFromListing(global, 'create_issue', 'x'), true);
    assert.equal(isHiddenFromListing(global, 'get_file', 'x'), false);
  });
  it('nothing is hidden under an empty policy', () => {
    assert.equal(isHiddenFromListing(compilePolicies([]), 'delete_everything', 'x'), false);
  });
});
