// `sentrail policy check | test | explain`, run as a user would: the built binary, real files.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { writeCachedPolicy } from '../../src/config/policy-cache.ts';
import { assertBuilt, assertNoStackTrace, runCli, tempFiles } from '../helpers/cli.ts';

const POLICY = `version: "v7"
policies:
  - name: Allow Claude Code to create issues
    tool: mcp
    actionPattern: "*"
    toolNamePattern: create_issue
    conditions: { allowedAgents: [claude-code] }
    mode: allow
    priority: 10
  - name: No deleting anything
    tool: mcp
    actionPattern: "*"
    toolNamePattern: delete_*
    mode: block
    priority: 100
  - name: Never used
    tool: linear
    actionPattern: project.delete
    mode: block
    priority: 200
`;
const passing = `cases:
  - name: claude code may create issues
    request: { agent: claude-code, action: create_issue }
    expect: { mode: allow, policy: Allow Claude Code to create issues }
  - name: deletes are blocked
    request: { agent: cursor, action: delete_repo }
    expect: { mode: block }
`;
const failing = `cases:
  - name: deletes are allowed (wrong on purpose)
    request: { agent: cursor, action: delete_repo }
    expect: { mode: allow, policy: null }
`;

before(assertBuilt);

describe('sentrail policy test', () => {
  it('the example org policy passes: sentrail policy test examples/', async () => {
    const r = await runCli(['policy', 'test', 'examples/']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\d+ passed, 0 failed, 1 skipped$/m);
    assert.doesNotMatch(r.stdout, /FAIL|ERROR/);
  });

  it('exit 0: one line per case with its status, and the closing line', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': passing });
    const r = await runCli(['policy', 'test', dir]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}PASS {2}claude code may create issues$/m);
    assert.match(r.stdout, /^ {2}PASS {2}deletes are blocked$/m);
    assert.match(r.stdout, /^2 passed, 0 failed$/m);
  });

  it('exit 1: a FAIL shows the expected and actual decision and the trace', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': failing });
    const r = await runCli(['policy', 'test', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^ {2}FAIL {2}deletes are allowed \(wrong on purpose\)$/m);
    assert.match(r.stdout, /expected: mode=allow, policy=\(none\)/);
    assert.match(r.stdout, /actual: {3}mode=block, policy="No deleting anything": Policy "No deleting anything" matched/);
    assert.match(r.stdout, /Trace/);
    assert.match(r.stdout, /✗ Allow Claude Code to create issues .*org\.yaml:3\n\s+agent "cursor" is not in allowedAgents/);
    assert.match(r.stdout, /✓ No deleting anything .*org\.yaml:10/);
    assert.match(r.stdout, /^0 passed, 1 failed$/m);
  });

  it('exit 2: an invalid policy names file, line and field', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY.replace('mode: block\n    priority: 100', 'mode: blok\n    priority: 100'), 'org.test.yaml': passing });
    const r = await runCli(['policy', 'test', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /org\.yaml:14: invalid-value: policies\[1\]\.mode must be one of allow, block, require_approval, got the string "blok"/);
    assertNoStackTrace(r.stdout + r.stderr);
  });

  it('exit 2: an invalid test file names file, line and field', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': 'cases:\n  - name: x\n    request: { action: a, agnt: b }\n    expect: { mode: allow }\n' });
    const r = await runCli(['policy', 'test', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /org\.test\.yaml:3: unknown-key: cases\[0\]\.request\.agnt is not a known request key/);
  });

  it('exit 3: coverage under the threshold, listing the policies no case was decided by', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': passing });
    const r = await runCli(['policy', 'test', dir, '--coverage-threshold', '90']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /Coverage: 2\/3 enabled policies decided a case \(66\.7%\), threshold 90%/);
    assert.match(r.stdout, /not covered: "Never used" .*org\.yaml:16/);
    const ok = await runCli(['policy', 'test', dir, '--coverage-threshold', '60']);
    assert.equal(ok.code, 0);
  });

  it('when several apply, the first of 2, 1, 3', async () => {
    const failingAndUncovered = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': failing });
    assert.equal((await runCli(['policy', 'test', failingAndUncovered, '--coverage-threshold', '100'])).code, 1);
    const invalidAndFailing = await tempFiles({ 'a/org.yaml': POLICY, 'a/org.test.yaml': failing, 'b/bad.test.yaml': 'cases: 3\n' });
    const r = await runCli(['policy', 'test', invalidAndFailing, '--coverage-threshold', '100']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /FAIL/, 'the valid files still run');
  });

  it('SKIP cases are reported and counted', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': passing + '  - name: later\n    skip: not yet\n    request: { action: x }\n    expect: { mode: block }\n' });
    const r = await runCli(['policy', 'test', dir]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}SKIP {2}later \(not yet\)$/m);
    assert.match(r.stdout, /^2 passed, 0 failed, 1 skipped$/m);
  });

  it("policy: in the test file, relative to it; --policy overrides it", async () => {
    const dir = await tempFiles({ 'policies/org.yaml': POLICY, 'tests/org.test.yaml': `policy: ../policies/org.yaml\n${passing}` });
    assert.equal((await runCli(['policy', 'test', path.join(dir, 'tests')])).code, 0);
    const other = await tempFiles({ 'empty.yaml': 'policies: []\n' });
    const r = await runCli(['policy', 'test', path.join(dir, 'tests'), '--policy', path.join(other, 'empty.yaml')]);
    assert.equal(r.code, 1, 'under an empty policy the delete is allowed');
  });

  it('last resort: the cached org policy; with none, a clear hint', async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'sentrail-cache-'));
    const dir = await tempFiles({ 'org.test.yaml': passing });
    const none = await runCli(['policy', 'test', dir], { env: { SENTRAIL_CACHE_DIR: cache } });
    assert.equal(none.code, 1);
    assert.match(none.stdout, /ERROR claude code may create issues/);
    assert.match(none.stdout, /no policy given and no cached org policy.*sentrail policy pull --gate/);
    process.env.SENTRAIL_CACHE_DIR = cache;
    try {
      await writeCachedPolicy('http://127.0.0.1:7391/mcp-gate/sse', JSON.stringify(parse(POLICY)), { etag: '"v7"', fetchedAt: new Date().toISOString(), maxAgeSeconds: 60, version: 'v7' });
    } finally {
      delete process.env.SENTRAIL_CACHE_DIR;
    }
    const cached = await runCli(['policy', 'test', dir], { env: { SENTRAIL_CACHE_DIR: cache } });
    assert.equal(cached.code, 0, cached.stdout + cached.stderr);
    const explained = await runCli(['policy', 'explain', '--action', 'delete_x', '--gate', 'http://127.0.0.1:7391/mcp-gate/sse'], { env: { SENTRAIL_CACHE_DIR: cache } });
    assert.match(explained.stdout, /Decision: BLOCK/);
  });

  it('--format json: one document with every case, the summary and coverage', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': failing });
    const r = await runCli(['policy', 'test', dir, '--format', 'json', '--coverage']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.files[0].cases[0].status, 'FAIL');
    assert.equal(out.files[0].cases[0].actual.policy, 'No deleting anything');
    assert.ok(out.files[0].cases[0].trace.length >= 2);
    assert.deepEqual(out.summary, { passed: 0, failed: 1, errored: 0, skipped: 0, line: '0 passed, 1 failed' });
    assert.equal(out.coverage.total, 3);
  });

  it('--format junit: well-formed suites with failures', async () => {
    const dir = await tempFiles({ 'org.yaml': POLICY, 'org.test.yaml': failing + '  - name: "<&> quoted"\n    request: { action: create_issue, agent: claude-code }\n    expect: { mode: allow }\n' });
    const r = await runCli(['policy', 'test', dir, '--format', 'junit']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^<\?xml version="1\.0"/);
    assert.match(r.stdout, /<testsuite name="[^"]*org\.test\.yaml" tests="2" failures="1" errors="0" skipped="0">/);
    assert.match(r.stdout, /<testcase name="&lt;&amp;&gt; quoted"/);
    assert.match(r.stdout, /<failure message="expected mode=allow, policy=\(none\), got mode=block">/);
  });

  it('bad flags and paths: exit 2 with a message naming them', async () => {
    const bad = await runCli(['policy', 'test', 'examples/', '--format', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format <format>.*xml.*Allowed choices are text, json, junit/s);
    const threshold = await runCli(['policy', 'test', 'examples/', '--coverage-threshold', 'lots']);
    assert.equal(threshold.code, 2);
    assert.match(threshold.stderr, /--coverage-threshold lots: must be a percentage/);
    const missing = await runCli(['policy', 'test', '/nonexistent']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file or folder: \/nonexistent/);
    const notTest = await runCli(['policy', 'test', 'examples/org-policy.yaml']);
    assert.equal(notTest.code, 2);
    assert.match(notTest.stderr, /is not a test file/);
  });
});

describe('sentrail policy check', () => {
  it('a valid policy: exit 0, warnings printed', async () => {
    const r = await runCli(['policy', 'check', 'examples/org-policy.yaml']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /examples\/org-policy\.yaml:\d+: warning: arguments-extension: /);
    // riskLevel and blockedAgents are read otherwise by Sentrail's Policy engine page (policy.md, "Readings").
    assert.match(r.stdout, /examples\/org-policy\.yaml:47: warning: ambiguous-field: policies\[4\]\.riskLevel /);
    assert.match(r.stdout, /examples\/org-policy\.yaml:111: warning: ambiguous-field: policies\[12\]\.conditions\.blockedAgents /);
    assert.match(r.stdout, /✔ examples\/org-policy\.yaml: 18 policies, version 2026-11-21\.3, valid \(5 warnings\)/);
  });
  it('an invalid policy: exit 2, every error as file:line: code: message', async () => {
    const dir = await tempFiles({ 'bad.yaml': 'policies:\n  - name: a\n    tool: mcp\n    toolName: "de*te"\n    actionPattern: x\n    mode: allow\n    priority: 1\n  - name: a\n    tool: github\n    actionPattern: x\n    toolName: y\n    mode: block\n    priority: 2\n' });
    const r = await runCli(['policy', 'check', path.join(dir, 'bad.yaml')]);
    assert.equal(r.code, 2);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /bad\.yaml:4: bad-wildcard: policies\[0\]\.toolName "de\*te" is an exact tool name/);
    assert.match(lines[1]!, /bad\.yaml:11: mcp-only-field: policies\[1\]\.toolName applies to MCP policies only/);
    assert.match(lines.at(-1)!, /✖ .*bad\.yaml: invalid \(2 errors\)/);
  });
  it('regexes a linear-time engine cannot run: exit 2, file:line: unsafe-regex naming the field', async () => {
    const policy = (regex: string, i: number) => `  - name: p${i}\n    tool: mcp\n    actionPattern: "*"\n    conditions:\n      arguments:\n        /q: { regex: ${JSON.stringify(regex)} }\n    mode: block\n    priority: ${i}\n`;
    const dir = await tempFiles({ 're.yaml': `policies:\n${policy('(?<!x)y', 1)}${policy('(a)\\1', 2)}${policy('\\p{Script=Grek}', 3)}` });
    const r = await runCli(['policy', 'check', path.join(dir, 're.yaml')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const errors = r.stdout.split('\n').filter((l) => /regex: /.test(l));
    assert.equal(errors.length, 3, r.stdout);
    assert.match(errors[0]!, /re\.yaml:7: unsafe-regex: policies\[0\]\.conditions\.arguments\["\/q"\]\.regex: \/\(\?<!x\)y\/ holds a lookbehind/);
    assert.match(errors[1]!, /re\.yaml:15: unsafe-regex: policies\[1\]\.conditions\.arguments\["\/q"\]\.regex: .* holds a backreference/);
    assert.match(errors[2]!, /re\.yaml:23: unsupported-regex: policies\[2\].* \\p\{Script=Greek\}/);
  });
  it('--json', async () => {
    const r = await runCli(['policy', 'check', 'examples/org-policy.yaml', '--json']);
    const out = JSON.parse(r.stdout);
    assert.equal(out.valid, true);
    assert.equal(out.policies, 18);
    assert.equal(out.warnings, 5);
    assert.deepEqual(out.diagnostics.map((d: { code: string }) => d.code), ['ambiguous-field', 'arguments-extension', 'arguments-extension', 'ambiguous-field', 'arguments-extension']);
  });
});

describe('sentrail policy explain', () => {
  it('prints the decision and the trace', async () => {
    const r = await runCli(['policy', 'explain', '--policy', 'examples/', '--action', 'delete_repository', '--agent', 'claude-code']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Decision: BLOCK \(policy "No deleting anything", priority 100\)$/m);
    assert.match(r.stdout, /^Request: {2}mcp delete_repository {2}agent=claude-code {2}risk=high \(inferred from the name\)$/m);
    assert.match(r.stdout, /✗ Allow Claude Code to create issues .*\n\s+toolNamePattern "create_issue" does not match "delete_repository"/);
    assert.match(r.stdout, /✓ No deleting anything/);
  });
  it('a `*` inside a pattern: check warns, explain decides by the glob reading and says the gate decides', async () => {
    const dir = await tempFiles({ 'inner.yaml': 'version: "1"\npolicies:\n  - name: No repo deletes\n    tool: mcp\n    actionPattern: "delete_*_repo"\n    mode: block\n    priority: 1\n' });
    const file = path.join(dir, 'inner.yaml');
    const checked = await runCli(['policy', 'check', file]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /inner\.yaml:5: warning: ambiguous-field: policies\[0\]\.actionPattern .*\* before its end/);
    const disputed = await runCli(['policy', 'explain', '--policy', file, '--action', 'delete_big_repo']);
    assert.match(disputed.stdout, /^Decision: BLOCK \(policy "No repo deletes", priority 1\)$/m);
    assert.match(disputed.stdout, /Uncertain: policy "No repo deletes": actionPattern has a \* before its end.*\(decided by the gate\)/);
    // The literal reading matches the pattern's own text too, so nothing is disputed there.
    const literal = await runCli(['policy', 'explain', '--policy', file, '--action', 'delete_*_repo']);
    assert.match(literal.stdout, /^Decision: BLOCK/m);
    assert.doesNotMatch(literal.stdout, /Uncertain:/);
    const other = await runCli(['policy', 'explain', '--policy', file, '--action', 'delete_repo']);
    assert.match(other.stdout, /^Decision: ALLOW/m);
  });
  it('--args as JSON or @file, --json output', async () => {
    const dir = await tempFiles({ 'args.json': '{"query": "DROP TABLE users"}' });
    const r = await runCli(['policy', 'explain', '--policy', 'examples/org-policy.yaml', '--action', 'execute_sql', '--agent', 'claude-code', '--args', `@${path.join(dir, 'args.json')}`, '--json']);
    const out = JSON.parse(r.stdout);
    assert.equal(out.decision.policy, 'No schema changes through SQL');
    const inline = await runCli(['policy', 'explain', '--policy', 'examples/org-policy.yaml', '--action', 'execute_sql', '--args', '{"query":"SELECT 1"}', '--json']);
    // no --agent: the agent is "unknown", which the example policy sends for approval
    assert.equal(JSON.parse(inline.stdout).decision.policy, 'Unidentified agents need approval to write');
  });
  it('bad input: exit 2 naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--action', 'x', '--risk', 'extreme'], /--risk extreme: must be one of low, medium, high, critical/],
      [['--action', 'x', '--tool', 'jira'], /--tool jira: must be one of github/],
      [['--action', 'x', '--args', '{nope'], /--args: the value is not valid JSON/],
      [['--action', 'x', '--args', '@/nonexistent.json'], /--args @\/nonexistent\.json: cannot read/],
      [[], /required option '--action <action>' not specified/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['policy', 'explain', '--policy', 'examples/', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      assertNoStackTrace(r.stderr);
    }
  });
});

describe('sentrail', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
  });
  it('an unknown command is exit 2', async () => {
    const r = await runCli(['polciy']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'polciy'/);
  });
});
