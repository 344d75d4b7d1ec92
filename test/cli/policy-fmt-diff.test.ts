// `sentrail policy fmt` and `sentrail policy diff`, run as a user would: the built binary, real
// files (and, for diff's `gate:` / `cache:` sides, the real local gate).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertBuilt, assertNoStackTrace, runCli, tempFiles } from '../helpers/cli.ts';
import { DEMO_POLICY, EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';

before(assertBuilt);

const UNFORMATTED = `# the org policy
policies:
  - priority: 100
    name: No deleting anything
    mode: block
    tool: mcp
    actionPattern: '*'
    toolNamePattern: delete_*
  - name: Allow Claude Code to create issues   # the only allow
    tool: mcp
    actionPattern: "*"
    toolName: create_issue
    conditions: { allowedAgents: [claude-code] }
    mode: allow
    priority: 10
version: "v1"
`;
const FORMATTED = `# the org policy
version: v1
policies:
  - name: Allow Claude Code to create issues # the only allow
    tool: mcp
    actionPattern: "*"
    toolName: create_issue
    conditions:
      allowedAgents: [claude-code]
    mode: allow
    priority: 10
  - name: No deleting anything
    tool: mcp
    actionPattern: "*"
    toolNamePattern: delete_*
    mode: block
    priority: 100
`;
const TESTS = `cases:
  - name: deletes are blocked
    request: { action: delete_repo }
    expect: { mode: block }
`;

describe('sentrail policy fmt', () => {
  it('rewrites a file in place (atomically: no temp file left, mode kept) and prints what it formatted', async () => {
    const dir = await tempFiles({ 'org.yaml': UNFORMATTED });
    const file = path.join(dir, 'org.yaml');
    const r = await runCli(['policy', 'fmt', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `formatted ${file}\n`);
    assert.equal(await readFile(file, 'utf8'), FORMATTED);
    assert.deepEqual(await readdir(dir), ['org.yaml']);
    const again = await runCli(['policy', 'fmt', file]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, '', 'a formatted file is not rewritten');
  });

  it('--check writes nothing, lists the files that would change (stdout, one per line), exit 1; then 0 once formatted', async () => {
    const dir = await tempFiles({ 'a.yaml': UNFORMATTED, 'b.yaml': FORMATTED, 'org.test.yaml': TESTS, 'c.json': '{"policies":[],"version":"x"}' });
    const before = (await stat(path.join(dir, 'a.yaml'))).mtimeMs;
    const r = await runCli(['policy', 'fmt', '--check', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, `${path.join(dir, 'a.yaml')}\n${path.join(dir, 'c.json')}\n`, 'the test file and the formatted file are not listed');
    assert.match(r.stderr, /2 files not formatted; run sentrail policy fmt /);
    assert.equal(await readFile(path.join(dir, 'a.yaml'), 'utf8'), UNFORMATTED);
    assert.equal((await stat(path.join(dir, 'a.yaml'))).mtimeMs, before);
    assert.equal((await runCli(['policy', 'fmt', dir])).code, 0);
    assert.equal(await readFile(path.join(dir, 'org.test.yaml'), 'utf8'), TESTS, 'test files are left alone');
    assert.equal(await readFile(path.join(dir, 'c.json'), 'utf8'), '{\n  "version": "x",\n  "policies": []\n}\n');
    const clean = await runCli(['policy', 'fmt', '--check', dir]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '');
  });

  it('--json: a stable report, one entry per file', async () => {
    const dir = await tempFiles({ 'a.yaml': UNFORMATTED, 'b.yaml': FORMATTED });
    const r = await runCli(['policy', 'fmt', '--check', '--json', dir]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), {
      check: true,
      files: [
        { file: path.join(dir, 'a.yaml'), status: 'would-change' },
        { file: path.join(dir, 'b.yaml'), status: 'unchanged' },
      ],
      changed: 1,
      unchanged: 1,
      errors: 0,
    });
  });

  it('exit 2: a file it cannot format safely is named file:line: code, left as it is, and the others are still formatted', async () => {
    const aliased = FORMATTED.replace('conditions:\n      allowedAgents: [claude-code]', 'conditions: &c\n      allowedAgents: [claude-code]');
    const dir = await tempFiles({ 'a.yaml': aliased, 'b.yaml': UNFORMATTED });
    const r = await runCli(['policy', 'fmt', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^${path.join(dir, 'a.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8: yaml-alias: the anchor &c cannot be formatted safely`, 'm'));
    assert.match(r.stderr, /1 file could not be formatted \(left as they are\)/);
    assertNoStackTrace(r.stderr);
    assert.equal(await readFile(path.join(dir, 'a.yaml'), 'utf8'), aliased);
    assert.equal(await readFile(path.join(dir, 'b.yaml'), 'utf8'), FORMATTED);
  });

  it('exit 2: a missing path, and no path at all', async () => {
    const r = await runCli(['policy', 'fmt', '/nonexistent/policies']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not-found: no such file or folder: \/nonexistent\/policies/);
    const none = await runCli(['policy', 'fmt']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /which files\? pass policy files or folders/);
  });
});

// ── policy diff ─────────────────────────────────────────────────────────────────────────────────

const echoBlocked = (text: string) => text.replace(/(toolName: echo\n\s+mode: )allow/, '$1block');

describe('sentrail policy diff: files and folders', () => {
  it('exit 1: the changed field, and each decision that changes with the deciding policy on each side', async () => {
    const demo = await readFile(DEMO_POLICY, 'utf8');
    assert.notEqual(echoBlocked(demo), demo);
    const dir = await tempFiles({ 'a.yaml': demo, 'b.yaml': echoBlocked(demo) });
    const r = await runCli(['policy', 'diff', path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Policies:\n {2}~ "Allow echo for everyone"\n {6}mode: "allow" → "block"\n$/m);
    assert.match(r.stdout, /^Decisions: \d+ of \d+ requests change \(0 from test files, 0 from --requests, \d+ generated\)$/m);
    assert.match(r.stdout, /^ {2}mcp echo agent=unknown +allow "Allow echo for everyone" \?? +block "Allow echo for everyone" \?? +generated/m);
    // only echo changes
    const rows = r.stdout.split('\n').filter((l) => /^ {2}mcp /.test(l));
    assert.ok(rows.length > 0 && rows.every((l) => / echo /.test(l)), rows.join('\n'));
    assert.equal(r.stderr, '');
  });

  it('exit 0: the same policy (formatted differently) changes nothing', async () => {
    const demo = await readFile(DEMO_POLICY, 'utf8');
    const dir = await tempFiles({ 'a.yaml': demo, 'b.yaml': demo });
    assert.equal((await runCli(['policy', 'fmt', path.join(dir, 'b.yaml')])).code, 0);
    const r = await runCli(['policy', 'diff', path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Policies: no change$/m);
    assert.match(r.stdout, /^Decisions: no change over \d+ requests/m);
  });

  it('folders: the test cases beside them are decided too (named in the table), plus --requests; --json', async () => {
    const before = await tempFiles({ 'org.yaml': UNFORMATTED, 'org.test.yaml': TESTS });
    const after = await tempFiles({ 'org.yaml': UNFORMATTED.replace('mode: block', 'mode: require_approval').replace('name: Allow Claude Code to create issues', 'name: Allow issues') });
    // not in a side's folder: there it would be read as one of the folder's policy files
    const requests = path.join(await tempFiles({}), 'requests.json');
    await writeFile(requests, JSON.stringify([{ action: 'delete_branch', agent: 'ci' }, { tool: 'github', action: 'x', riskLevel: 'high' }]));
    const r = await runCli(['policy', 'diff', before, after, '--requests', requests]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ {2}\+ "Allow issues" \(mcp create_issue, allow, priority 10\)$/m);
    assert.match(r.stdout, /^ {2}- "Allow Claude Code to create issues" \(mcp create_issue, allow, priority 10\)$/m);
    assert.match(r.stdout, /\(1 from test files, 2 from --requests, \d+ generated\)/);
    assert.match(r.stdout, new RegExp(`mcp delete_repo agent=unknown +block "No deleting anything" +require_approval "No deleting anything" +\\S*org\\.test\\.yaml: deletes are blocked`));
    assert.match(r.stdout, /mcp delete_branch agent=ci +block "No deleting anything" +require_approval "No deleting anything" +\S*requests\.json\[0\]/);
    const j = await runCli(['policy', 'diff', before, after, '--requests', requests, '--json']);
    assert.equal(j.code, 1);
    const report = JSON.parse(j.stdout);
    assert.deepEqual(report.policies.added.map((p: { name: string }) => p.name), ['Allow issues']);
    assert.deepEqual(report.policies.changed, [{ name: 'No deleting anything', fields: [{ field: 'mode', before: 'block', after: 'require_approval' }] }]);
    assert.equal(report.requests.test, 1);
    assert.equal(report.requests.requests, 2);
    assert.equal(report.changed, report.decisions.length);
    const fromTest = report.decisions.find((d: { origin: string }) => d.origin === 'test');
    assert.deepEqual([fromTest.request, fromTest.before.policy, fromTest.after.mode], [{ action: 'delete_repo' }, 'No deleting anything', 'require_approval']);
  });

  it('fmt of a folder changes no decision: diff of the folder before and after formatting is exit 0', async () => {
    const demo = await readFile(DEMO_POLICY, 'utf8');
    // two files, both out of order; in the first, two allows tie for get-env, so the order written decides
    const tie = (i: number, mode: string, priority: number, tool = 'get-env') => `  - { name: tie ${i}, tool: mcp, actionPattern: "*", toolName: ${tool}, mode: ${mode}, priority: ${priority} }\n`;
    const files = {
      '10-first.yaml': 'policies:\n' + tie(0, 'allow', 9) + tie(1, 'allow', 7) + tie(2, 'allow', 7) + tie(3, 'block', 7, 'echo'),
      '20-demo.yaml': demo.replace('priority: 5\n', 'priority: 600\n'),
    };
    const original = await tempFiles(files);
    const formatted = await tempFiles(files);
    const f = await runCli(['policy', 'fmt', formatted]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stdout.split('\n').filter(Boolean).length, 2, 'both files were rewritten');
    const r = await runCli(['policy', 'diff', original, formatted]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Policies: no change$/m);
    const explained = await runCli(['policy', 'explain', '--policy', formatted, '--action', 'get-env', '--json']);
    assert.equal(JSON.parse(explained.stdout).decision.policy, 'tie 1', 'the tie is still won by the first written');
  });

  it('a decision that rests on a disputed reading is marked ? and explained, not guessed', async () => {
    const dir = await tempFiles({
      'a.yaml': 'policies: []\n',
      'b.yaml': 'policies:\n  - { name: No bots, tool: mcp, actionPattern: "*", conditions: { blockedAgents: [bot] }, mode: block, priority: 1 }\n',
    });
    const r = await runCli(['policy', 'diff', path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /mcp example_tool agent=bot +allow \(no policy\) +block "No bots" \?/);
    assert.match(r.stdout, /^\? the decision rests on a point Sentrail's pages read two ways: shown by the contract's reading, decided by the gate:\n {2}policy "No bots": .*blockedAgents/m);
  });

  it('exit 2: a side that does not load (file:line: code), a missing path, a bad --requests file; a bad side name', async () => {
    const dir = await tempFiles({ 'a.yaml': UNFORMATTED, 'bad.yaml': UNFORMATTED.replace('mode: block', 'mode: blok'), 'req.yaml': '- { agent: x }\n' });
    const bad = await runCli(['policy', 'diff', path.join(dir, 'a.yaml'), path.join(dir, 'bad.yaml')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml is not a valid policy:\n.*bad\.yaml:5: invalid-value: policies\[0\]\.mode must be one of/);
    const missing = await runCli(['policy', 'diff', path.join(dir, 'a.yaml'), path.join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file or folder: .*nope\.yaml/);
    const req = await runCli(['policy', 'diff', path.join(dir, 'a.yaml'), path.join(dir, 'a.yaml'), '--requests', path.join(dir, 'req.yaml')]);
    assert.equal(req.code, 2);
    assert.match(req.stderr, /req\.yaml:1: missing-field: \[0\]\.action must be a non-empty string/);
    const side = await runCli(['policy', 'diff', 'git:', path.join(dir, 'a.yaml')]);
    assert.equal(side.code, 2);
    assert.match(side.stderr, /git: is not a side: use a policy file or folder, gate: or cache:/);
    for (const x of [bad, missing, req, side]) assertNoStackTrace(x.stderr);
  });
});

describe('sentrail policy diff: gate: and cache: (the real local gate)', () => {
  let gate: GateProcess;
  before(async () => {
    gate = await startGate(['--policy', DEMO_POLICY, '--upstream', EVERYTHING_STDIO]);
  });
  after(stopAllGates);

  async function isolatedEnv(apiKey: string): Promise<Record<string, string>> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-diff-'));
    return { SENTRAIL_CACHE_DIR: path.join(dir, 'cache'), SENTRAIL_CONFIG_DIR: path.join(dir, 'config'), SENTRAIL_STATE_DIR: path.join(dir, 'state'), SENTRAIL_API_KEY: apiKey };
  }

  it('gate: against a local edit: exit 1 with the change; against the same policy: exit 0; the cache is not written', { timeout: 30_000 }, async () => {
    const env = await isolatedEnv(gate.apiKey);
    const dir = await tempFiles({ 'org-policy.yaml': echoBlocked(await readFile(DEMO_POLICY, 'utf8')) });
    const r = await runCli(['policy', 'diff', 'gate:', dir, '--gate', gate.url], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^A: gate: ${gate.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(7 policies, version demo-`, 'm'));
    assert.match(r.stdout, /~ "Allow echo for everyone"\n {6}mode: "allow" → "block"/);
    assert.match(r.stdout, /mcp echo agent=unknown +allow "Allow echo for everyone" \?? +block "Allow echo for everyone"/);
    const same = await runCli(['policy', 'diff', 'gate:', DEMO_POLICY, '--gate', gate.url], { env });
    assert.equal(same.code, 0, same.stdout + same.stderr);
    await assert.rejects(readdir(env.SENTRAIL_CACHE_DIR!), 'gate: writes no cache');
    assert.doesNotMatch(r.stdout + r.stderr + same.stdout + same.stderr, new RegExp(gate.apiKey));
  });

  it('gate: without a credential is exit 4; with a wrong one, exit 4 (401)', { timeout: 30_000 }, async () => {
    const none = await runCli(['policy', 'diff', 'gate:', DEMO_POLICY, '--gate', gate.url], { env: await isolatedEnv('') });
    assert.equal(none.code, 4, none.stderr);
    assert.match(none.stderr, /not logged in to /);
    const wrong = await runCli(['policy', 'diff', 'gate:', DEMO_POLICY, '--gate', gate.url], { env: await isolatedEnv('agk_' + 'w'.repeat(40)) });
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(wrong.stderr, /HTTP 401/);
  });

  it('gate: that does not answer is exit 2 (1 is kept for "decisions change"), the key never shown', { timeout: 30_000 }, async () => {
    const key = gate.apiKey;
    const r = await runCli(['policy', 'diff', 'gate:', DEMO_POLICY, '--gate', 'http://127.0.0.1:1/mcp-gate/sse'], { env: await isolatedEnv(key) });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /could not fetch the org policy from http:\/\/127\.0\.0\.1:1\/mcp-gate\/policy/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(key));
    assertNoStackTrace(r.stderr);
  });

  it('cache: after a policy pull: no change against gate:, the local edit against cache: is exit 1', { timeout: 30_000 }, async () => {
    const env = await isolatedEnv(gate.apiKey);
    const noCache = await runCli(['policy', 'diff', 'cache:', DEMO_POLICY, '--gate', gate.url], { env });
    assert.equal(noCache.code, 2);
    assert.match(noCache.stderr, /no cached org policy for /);
    assert.equal((await runCli(['policy', 'pull', '--gate', gate.url], { env })).code, 0);
    const same = await runCli(['policy', 'diff', 'cache:', 'gate:', '--gate', gate.url], { env });
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /^A: cache: .*\.json \(7 policies/m);
    const dir = await tempFiles({ 'org-policy.yaml': echoBlocked(await readFile(DEMO_POLICY, 'utf8')) });
    const edited = await runCli(['policy', 'diff', 'cache:', path.join(dir, 'org-policy.yaml'), '--gate', gate.url], { env });
    assert.equal(edited.code, 1, edited.stderr);
    assert.match(edited.stdout, /mcp echo agent=unknown +allow "Allow echo for everyone" \?? +block "Allow echo for everyone"/);
  });
});
