// `sentrail policy test --remote` and the local gate's `POST C/evaluate-action`, as users run them:
// the built binary, a real gate process, the repository's example policy and its test cases.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, runCli, tempFiles } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, type GateProcess } from '../helpers/gate.ts';

const EXAMPLE_POLICY = path.join(ROOT, 'examples', 'org-policy.yaml');
const EXAMPLE_TESTS = path.join(ROOT, 'examples', 'org-policy.test.yaml');

const evaluations = (gate: GateProcess) => (gate.stderr().match(/evaluate-action /g) ?? []).length;

describe('sentrail policy test --remote against the local gate', () => {
  let same: GateProcess;
  let differing: GateProcess;
  let differingPolicy: string;
  before(async () => {
    same = await startGate(['--policy', EXAMPLE_POLICY, '--upstream', EVERYTHING_STDIO]);
    // The same org policy with one decision changed: deleting is allowed.
    const text = await readFile(EXAMPLE_POLICY, 'utf8');
    const changed = text.replace(/(name: No deleting anything[\s\S]*?mode: )block/, '$1allow');
    assert.notEqual(changed, text, 'the example policy still has "No deleting anything" as a block');
    const dir = await tempFiles({ 'org-policy.yaml': changed });
    differingPolicy = path.join(dir, 'org-policy.yaml');
    differing = await startGate(['--policy', differingPolicy, '--upstream', EVERYTHING_STDIO]);
  });
  after(async () => {
    await same?.stop();
    await differing?.stop();
  });

  it('agrees case for case with the local run on the examples; every sent case reached the gate once', { timeout: 60_000 }, async () => {
    await agreesOnExamples(same, EXAMPLE_TESTS, 1);
    const demo = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
    try {
      await agreesOnExamples(demo, path.join(ROOT, 'examples', 'demo', 'org-policy.test.yaml'), 0);
    } finally {
      await demo.stop();
    }
  });

  async function agreesOnExamples(gate: GateProcess, tests: string, skipped: number): Promise<void> {
    const same = gate;
    const local = await runCli(['policy', 'test', tests, '--format', 'json']);
    assert.equal(local.code, 0, local.stdout + local.stderr);
    const localCases = JSON.parse(local.stdout).files.flatMap((f: { cases: { name: string; status: string; actual?: { mode: string; policy: string | null } }[] }) => f.cases);
    const before = evaluations(same);
    const r = await runCli(['policy', 'test', tests, '--remote', '--gate', same.url, '--format', 'json'], { env: { SENTRAIL_API_KEY: same.apiKey } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /sending \d+ cases to http:\/\/127\.0\.0\.1:\d+\/evaluate-action; each one writes an audit entry at the gate/);
    const remote = JSON.parse(r.stdout).remote;
    const sent = localCases.filter((c: { status: string }) => c.status !== 'SKIP');
    assert.equal(remote.checks.length, localCases.length);
    assert.deepEqual(remote.summary, { agreed: sent.length, disagreed: 0, notSent: localCases.length - sent.length, errored: 0, line: remote.summary.line });
    for (const check of remote.checks.filter((k: { status: string }) => k.status === 'agree')) {
      const mine = localCases.find((c: { name: string }) => c.name === check.name);
      assert.deepEqual({ mode: check.gate.decision, policy: check.gate.policy }, { mode: mine.actual.mode, policy: mine.actual.policy }, check.name);
    }
    assert.equal(evaluations(same) - before, sent.length, 'one evaluate-action per sent case');
    assert.equal(localCases.length - sent.length, skipped);
    const text = await runCli(['policy', 'test', tests, '--remote', '--gate', same.url], { env: { SENTRAIL_API_KEY: same.apiKey } });
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`Remote \\(http://127\\.0\\.0\\.1:\\d+/evaluate-action\\): ${sent.length} agree, 0 disagree${skipped ? `, ${skipped} not sent` : ''}$`, 'm'));
    if (skipped) assert.match(text.stdout, /NOT SENT .*skipped: the freeze policy is disabled outside incidents/);
  }

  it('a gate with a different policy: each disagreement named, exit 1', { timeout: 60_000 }, async () => {
    const r = await runCli(['policy', 'test', EXAMPLE_TESTS, '--policy', EXAMPLE_POLICY, '--remote', '--gate', differing.url], { env: { SENTRAIL_API_KEY: differing.apiKey } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /DISAGREE .*org-policy\.test\.yaml:\d+: local block \("No deleting anything"\), gate allow \("No deleting anything"\)/);
    assert.match(r.stdout, /^\s+decision: local block, gate allow$/m);
    assert.match(r.stdout, /Remote \(.*\): \d+ agree, [1-9]\d* disagree/);
    // The local cases themselves still pass: the difference is the gate's, and said so.
    assert.match(r.stdout, /passed, 0 failed/);
    const junit = await runCli(['policy', 'test', EXAMPLE_TESTS, '--policy', EXAMPLE_POLICY, '--remote', '--gate', differing.url, '--format', 'junit'], { env: { SENTRAIL_API_KEY: differing.apiKey } });
    assert.equal(junit.code, 1);
    assert.match(junit.stdout, /<testsuite name="remote http:\/\/127\.0\.0\.1:\d+\/evaluate-action" tests="\d+" failures="[1-9]\d*"/);
  });

  it('a wrong key: exit 4, nothing decided; a gate elsewhere: refused without --yes before anything is sent', { timeout: 30_000 }, async () => {
    const wrong = await runCli(['policy', 'test', EXAMPLE_TESTS, '--remote', '--gate', same.url], { env: { SENTRAIL_API_KEY: 'agk_' + 'w'.repeat(40) } });
    assert.equal(wrong.code, 4, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /decided none of the \d+ cases: the gate answered HTTP 401/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /agk_w{40}/);
    const live = await runCli(['policy', 'test', EXAMPLE_TESTS, '--remote', '--gate', 'https://project.example.invalid/functions/v1/mcp-gate/sse'], { env: { SENTRAIL_API_KEY: same.apiKey } });
    assert.equal(live.code, 2, live.stdout + live.stderr);
    assert.match(live.stderr, /--remote would send every case to https:\/\/project\.example\.invalid\/functions\/v1\/evaluate-action, a gate that is not on this machine: each case writes an audit entry/);
    assert.match(live.stderr, /Pass --yes/);
    assert.equal(live.stdout, '', 'no case result printed: nothing ran');
    const yesAlone = await runCli(['policy', 'test', EXAMPLE_TESTS, '--yes']);
    assert.equal(yesAlone.code, 2);
    assert.match(yesAlone.stderr, /--yes only applies with --remote/);
  });

  it('the gate endpoint itself: 400 naming the field, 405 for GET, 401 without the key', { timeout: 30_000 }, async () => {
    const post = (body: unknown, key: string | null = same.apiKey) =>
      fetch(`${same.base}/evaluate-action`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
    const ok = await post({ tool: 'mcp', action: 'delete_repository', riskLevel: 'high', agentId: 'claude-code', extra: 1 });
    assert.equal(ok.status, 200);
    const decided = await ok.json();
    assert.deepEqual({ ok: decided.ok, decision: decided.decision, policy: decided.policy, approvalRequestId: decided.approvalRequestId, ignoredFields: decided.ignoredFields }, { ok: true, decision: 'block', policy: 'No deleting anything', approvalRequestId: null, ignoredFields: ['extra'] });
    assert.match(decided.auditLogId, /^[0-9a-f-]{36}$/);
    const noRisk = await post({ tool: 'mcp', action: 'x' });
    assert.equal(noRisk.status, 400);
    assert.match((await noRisk.json()).error, /riskLevel is required/);
    const badTool = await post({ tool: 'jira', action: 'x', riskLevel: 'low' });
    assert.match((await badTool.json()).error, /tool must be one of github, linear, slack, notion, internal_api, mcp, got "jira"/);
    const get = await fetch(`${same.base}/evaluate-action`, { headers: { authorization: `Bearer ${same.apiKey}` } });
    assert.equal(get.status, 405);
    assert.equal((await post({ tool: 'mcp', action: 'x', riskLevel: 'low' }, null)).status, 401);
  });
});
