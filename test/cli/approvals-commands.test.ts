// `sentrail approvals …` as users run it: the built binary against the built local gate (in
// front of the project's fixture MCP server, which counts the tool calls that reach it). The
// reviewer's key is found the way it is on a developer's machine (the file the gate left in its
// state folder), or given; output is checked as a pipe sees it (plain lines) and as --json.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoStackTrace, runCli, type RunResult } from '../helpers/cli.ts';
import { approvalPolicyYaml, connectThroughGate, startGate, stopAllGates, testApiKey, type GateProcess } from '../helpers/gate.ts';
import { startFixtureServer, tempDir, type FixtureUpstream } from '../helpers/mcp.ts';


after(stopAllGates);

describe('sentrail approvals against the local gate', () => {
  let fixture: FixtureUpstream;
  let gate: GateProcess;
  let client: Client;
  let isolated: Record<string, string>;
  let policyFile: string;
  const outputs: RunResult[] = [];

  /** The CLI with nothing of the runner's own: no default gate, no keys, the gate's state folder. */
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli(['approvals', ...args], { env: { ...isolated, ...env } });
    outputs.push(r);
    assertNoStackTrace(r.stderr);
    return r;
  };
  const deferred = async (message: string) => {
    const result = (await client.callTool({ name: 'echo', arguments: { message } })) as { _meta?: { sentrail?: { approvalRequestId?: string } } };
    return result._meta!.sentrail!.approvalRequestId!;
  };

  before(async () => {
    fixture = await startFixtureServer();
    const dir = await tempDir('sentrail-approvals-cli-');
    policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, approvalPolicyYaml(['echo']));
    gate = await startGate(['--policy', policyFile, '--upstream-url', fixture.mcpUrl]);
    ({ client } = await connectThroughGate(gate));
    const home = await tempDir('sentrail-approvals-home-');
    isolated = {
      SENTRAIL_CONFIG_DIR: path.join(home, 'config'),
      SENTRAIL_STATE_DIR: path.join(home, 'state'),
      SENTRAIL_GATE_STATE_DIR: gate.stateDir,
      SENTRAIL_ADMIN_KEY: '',
      SENTRAIL_API_KEY: '',
    };
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await fixture?.close();
  });

  it('list finds the admin key the gate left in its state folder; plain lines on a pipe, and --json', async () => {
    const id = await deferred('list me');
    const plain = await cli(['list', '--gate', gate.url]);
    assert.equal(plain.code, 0, plain.stderr);
    const row = plain.stdout.split('\n').find((l) => l.startsWith(id));
    assert.ok(row, plain.stdout);
    assert.deepEqual(row.split('\t').slice(0, 5), [id, 'pending', 'echo', 'claude-code', 'echo needs approval']);
    assert.doesNotMatch(plain.stdout, /\x1b\[/, 'no colour on a pipe');

    const json = await cli(['list', '--gate', gate.url, '--status', 'pending', '--json']);
    const parsed = JSON.parse(json.stdout) as { gate: string; approvals: { id: string; status: string; arguments: unknown }[] };
    assert.equal(parsed.gate, gate.base);
    assert.deepEqual(parsed.approvals.find((a) => a.id === id)?.arguments, { message: 'list me' });
    assert.ok(parsed.approvals.every((a) => a.status === 'pending'));
    assert.equal((await cli(['list', '--gate', gate.url, '--status', 'maybe'])).code, 2);
  });

  it('approve, then wait: exit 0 with the result the upstream gave; the call reached it once; approving again is exit 5', async () => {
    const id = await deferred('approve me');
    const before = (await fixture.stats()).toolCalls;
    const approved = await cli(['approve', id, '--gate', gate.url, '--reason', 'fine by me']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`^id: +${id}$`, 'm'));
    assert.match(approved.stdout, /^status: +(approved|executed)$/m);
    assert.match(approved.stdout, /^decision reason: fine by me$/m);

    const waited = await cli(['wait', id, '--gate', gate.url, '--json']);
    assert.equal(waited.code, 0, waited.stderr);
    const body = JSON.parse(waited.stdout) as { status: string; result: unknown; decisionReason: string };
    assert.deepEqual([body.status, body.result, body.decisionReason], ['executed', { content: [{ type: 'text', text: 'Echo: approve me' }] }, 'fine by me']);
    assert.equal((await fixture.stats()).toolCalls - before, 1);

    const again = await cli(['approve', id, '--gate', gate.url]);
    assert.equal(again.code, 5);
    assert.match(again.stderr, new RegExp(`approval request ${id} is executed: only a pending request can be decided`));
    const shown = await cli(['show', id, '--gate', gate.url]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /^status: +executed$/m);
    assert.match(shown.stdout, /^arguments: +\{"message":"approve me"\}$/m);
  });

  it('deny, then wait: exit 6, the reason shown, the upstream never saw the call', async () => {
    const id = await deferred('deny me');
    const before = (await fixture.stats()).toolCalls;
    assert.equal((await cli(['deny', id, '--gate', gate.url, '--reason', 'not now'])).code, 0);
    const waited = await cli(['wait', id, '--gate', gate.url]);
    assert.equal(waited.code, 6);
    assert.match(waited.stdout, /^status: +denied$/m);
    assert.match(waited.stdout, /^decision reason: not now$/m);
    assert.equal((await fixture.stats()).toolCalls, before);
  });

  it('status works with the agent\'s key alone; wait --timeout on a pending request is exit 7', async () => {
    const id = await deferred('still pending');
    const noKeyFile = { SENTRAIL_GATE_STATE_DIR: await tempDir('sentrail-empty-state-'), SENTRAIL_API_KEY: gate.apiKey };
    const status = await cli(['status', id, '--gate', gate.url, '--json'], noKeyFile);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { status: string }).status, 'pending');
    // …but the agent's key cannot decide: without an admin key, approve says what is missing.
    const approve = await cli(['approve', id, '--gate', gate.url], noKeyFile);
    assert.equal(approve.code, 4);
    assert.match(approve.stderr, /no admin key for the gate at http:\/\/127\.0\.0\.1:\d+/);
    const started = Date.now();
    const waited = await cli(['wait', id, '--gate', gate.url, '--timeout', '1']);
    assert.equal(waited.code, 7);
    assert.match(waited.stderr, new RegExp(`approval request ${id} is still pending after 1 s`));
    assert.ok(Date.now() - started < 8000);
  });

  it('refusals: a wrong admin key (exit 4, never echoed), a malformed one (exit 2), an unknown id (exit 1), a hosted gate (exit 4, naming the Supabase session)', async () => {
    const wrong = `sak_${'Z9'.repeat(20)}`;
    const refused = await cli(['list', '--gate', gate.url, '--admin-key', wrong]);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /refused the admin key from the --admin-key flag \(HTTP 401\)/);
    assert.ok(!refused.stderr.includes(wrong) && !refused.stdout.includes(wrong));
    const malformed = await cli(['list', '--gate', gate.url], { SENTRAIL_ADMIN_KEY: testApiKey() });
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /SENTRAIL_ADMIN_KEY: not a Sentrail admin key/);
    const unknown = await cli(['show', '00000000-0000-4000-8000-000000000000', '--gate', gate.url]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no approval request 00000000-0000-4000-8000-000000000000 at http:\/\/127\.0\.0\.1:\d+/);
    const hosted = await cli(['approve', 'abc', '--gate', 'https://abcdefgh.supabase.co/functions/v1/mcp-gate/sse']);
    assert.equal(hosted.code, 4);
    assert.match(hosted.stderr, /needs a reviewer's Supabase session/);
    assert.match(hosted.stderr, /Sentrail dashboard/);
    const down = await cli(['list', '--gate', 'http://127.0.0.1:9/mcp-gate/sse', '--admin-key', gate.adminKey]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the gate at http:\/\/127\.0\.0\.1:9/);
  });

  // A terminal, through util-linux `script` (a real pseudo-terminal; skipped where there is none).
  it('on a terminal, list prints a table with a header', { skip: process.platform !== 'linux' || !existsSync('/usr/bin/script') ? 'needs util-linux script' : false }, async () => {
    const id = await deferred('table me');
    const { BIN } = await import('../helpers/cli.ts');
    const command = [process.execPath, BIN, 'approvals', 'list', '--gate', gate.url].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...isolated, NO_COLOR: '1', COLUMNS: '200' } }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const lines = r.replace(/\r/g, '').split('\n');
    assert.match(lines[0]!, /^ID +STATUS +TOOL +AGENT +POLICY +CREATED +EXPIRES$/);
    const row = lines.find((l) => l.startsWith(id));
    assert.ok(row && /^\S+ {2}pending +echo +claude-code +echo needs approval +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/.test(row), r);
    assert.ok(!r.includes(gate.adminKey));
  });

  // Last but one: the restarted gate has the admin key given, so it leaves no key file for the tests above.
  it('wait keeps waiting while the gate restarts (same port, same state folder), and ends with the approval made after it', async () => {
    const id = await deferred('across a restart');
    const port = Number(new URL(gate.base).port);
    const waiting = cli(['wait', id, '--gate', gate.url, '--admin-key', gate.adminKey, '--json']);
    await new Promise((r) => setTimeout(r, 1500));
    await client.close();
    await gate.stop();
    // Down for longer than a poll, so the wait sees it gone.
    await new Promise((r) => setTimeout(r, 2500));
    const args = ['--policy', policyFile, '--upstream-url', fixture.mcpUrl];
    gate = await startGate(args, { stateDir: gate.stateDir, adminKey: gate.adminKey, apiKey: gate.apiKey, port });
    ({ client } = await connectThroughGate(gate));
    assert.equal((await cli(['approve', id, '--gate', gate.url, '--admin-key', gate.adminKey])).code, 0);
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((JSON.parse(waited.stdout) as { status: string }).status, 'executed');
    assert.match(waited.stderr, new RegExp(`cannot reach the gate at .*; still waiting for approval request ${id}`));
  });

  it('the admin key appears in no output of any command', () => {
    assert.ok(outputs.length > 10);
    for (const r of outputs) assert.ok(!r.stdout.includes(gate.adminKey) && !r.stderr.includes(gate.adminKey), 'a command printed the admin key');
  });
});
