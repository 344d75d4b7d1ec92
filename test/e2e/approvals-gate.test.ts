// Approvals on the local gate, end to end: the built `sentrail gate` in front of real MCP servers
// (the project's fixture server, which counts the tools/call requests that reach it, and
// server-everything over stdio), agents speaking through the SDK's Client, reviewers through plain
// HTTP with the admin key. What must hold: an approved call is replayed exactly once (whatever the
// number of deciders and pollers) and its result is what the upstream itself answers; a denied,
// expired, kill-switched call never reaches the upstream; only the admin key decides; the admin
// key appears nowhere but its one line. Needs `npm run build` first.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { approvalPolicyYaml, connectDirect, connectThroughGate, EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';
import { directClient, startFixtureServer, tempDir, waitFor, type FixtureUpstream } from '../helpers/mcp.ts';

const POLICY = (killSwitch = false) => approvalPolicyYaml(['echo', 'get-sum', 'slow'], { killSwitch });

/** Every body any endpoint answered in this file: the admin key must be in none of them. */
const answered: string[] = [];

async function call(gate: GateProcess, method: string, p: string, opts: { key?: string | null; body?: unknown } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const key = opts.key === undefined ? gate.adminKey : opts.key;
  const res = await fetch(`${gate.base}${p}`, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  answered.push(text);
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}

const decide = (gate: GateProcess, approvalRequestId: string, decision: string, extra: Record<string, unknown> = {}, key?: string | null) =>
  call(gate, 'POST', '/approval-decision', { key, body: { approvalRequestId, decision, ...extra } });
const status = (gate: GateProcess, id: string, key: string | null = gate.apiKey) => call(gate, 'GET', `/mcp-gate/status/${id}`, { key });

/** Makes a call that needs approval; resolves to its approval id (the call itself answers at once). */
async function deferred(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as { _meta?: { sentrail?: { status?: string; approvalRequestId?: string } } };
  assert.equal(result._meta?.sentrail?.status, 'require_approval', JSON.stringify(result));
  return result._meta!.sentrail!.approvalRequestId!;
}

async function settledStatus(gate: GateProcess, id: string): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const { body } = await status(gate, id);
      return body.status === 'executed' || body.status === 'failed' ? body : undefined;
    },
    10_000,
    `approval ${id} to be executed or failed`,
  );
}

after(stopAllGates);

describe('approvals on the local gate (fixture upstream over HTTP, which counts tool calls)', () => {
  let fixture: FixtureUpstream;
  let gate: GateProcess;
  let client: Client;
  let policyFile: string;

  before(async () => {
    fixture = await startFixtureServer();
    const dir = await tempDir('sentrail-approvals-');
    policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, POLICY());
    gate = await startGate(['--policy', policyFile, '--upstream-url', fixture.mcpUrl]);
    ({ client } = await connectThroughGate(gate));
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await fixture?.close();
  });

  it('approve → executed, with the result the upstream itself gives, and the upstream saw the call once', async () => {
    const direct = await directClient(fixture);
    const reference = await direct.client.callTool({ name: 'echo', arguments: { message: 'approve me' } });
    await direct.close();
    const id = await deferred(client, 'echo', { message: 'approve me' });
    const before = (await fixture.stats()).toolCalls;
    assert.equal((await status(gate, id)).body.status, 'pending');

    const decision = await decide(gate, id, 'approved', { reason: 'looks fine' });
    assert.equal(decision.status, 200, JSON.stringify(decision.body));
    assert.equal(decision.body.approvalRequestId, id);
    assert.ok(['approved', 'executed'].includes(decision.body.status as string));

    const done = await settledStatus(gate, id);
    assert.equal(done.status, 'executed', JSON.stringify(done));
    assert.deepEqual(done.result, reference);
    assert.equal(done.decisionReason, 'looks fine');
    assert.equal(done.error, null);
    assert.deepEqual(Object.keys(done).slice(0, 5), ['ok', 'status', 'decision', 'result', 'killSwitch']);
    assert.equal((await fixture.stats()).toolCalls - before, 1);
    // Decided once: a second decision is refused with the current status.
    const again = await decide(gate, id, 'approved');
    assert.equal(again.status, 409);
    assert.equal(again.body.status, 'executed');
  });

  it('deny → denied with the reviewer\'s reason; the upstream never sees the call', async () => {
    const before = (await fixture.stats()).toolCalls;
    const id = await deferred(client, 'echo', { message: 'deny me' });
    const decision = await decide(gate, id, 'denied', { reason: 'not today' });
    assert.equal(decision.status, 200);
    assert.equal(decision.body.status, 'denied');
    const s = (await status(gate, id)).body;
    assert.deepEqual([s.status, s.decisionReason, s.result], ['denied', 'not today', null]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fixture.stats()).toolCalls, before);
  });

  it('concurrent decisions and pollers: one decision wins, the call is replayed once', async () => {
    const id = await deferred(client, 'echo', { message: 'race' });
    const before = (await fixture.stats()).toolCalls;
    const pollers = Array.from({ length: 8 }, () => status(gate, id));
    const decisions = await Promise.all(Array.from({ length: 6 }, (_, i) => decide(gate, id, i % 3 === 2 ? 'denied' : 'approved')));
    await Promise.all(pollers);
    const winners = decisions.filter((d) => d.status === 200);
    assert.equal(winners.length, 1, JSON.stringify(decisions.map((d) => d.status)));
    assert.ok(decisions.every((d) => d.status === 200 || d.status === 409));
    const final = winners[0]!.body.status === 'denied' ? (await status(gate, id)).body : await settledStatus(gate, id);
    await Promise.all(Array.from({ length: 8 }, () => status(gate, id)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fixture.stats()).toolCalls - before, final.status === 'executed' ? 1 : 0);
  });

  it('only the admin key decides or reviews: the agent key gets 403, none or a wrong one 401', async () => {
    const id = await deferred(client, 'echo', { message: 'agent tries' });
    const byAgent = await decide(gate, id, 'approved', {}, gate.apiKey);
    assert.equal(byAgent.status, 403);
    assert.match(byAgent.body.error as string, /admin key/);
    assert.equal((await decide(gate, id, 'approved', {}, null)).status, 401);
    assert.equal((await decide(gate, id, 'approved', {}, `sak_${'x'.repeat(40)}`)).status, 401);
    assert.equal((await call(gate, 'GET', '/approvals', { key: gate.apiKey })).status, 403);
    assert.equal((await call(gate, 'GET', `/approvals/${id}`, { key: null })).status, 401);
    assert.equal((await status(gate, id)).body.status, 'pending', 'still pending after the refusals');
    // …and the admin key reads the status too (what `sentrail approvals status` uses).
    assert.equal((await status(gate, id, gate.adminKey)).body.status, 'pending');
  });

  it('bad bodies get 400 naming the field; an unknown id 404; a decided one 409 with its status', async () => {
    const cases: [unknown, RegExp][] = [
      ['not json', /not JSON/],
      [[1], /JSON object/],
      [{ decision: 'approved' }, /^approvalRequestId/],
      [{ approvalRequestId: 'x', decision: 'yes' }, /^decision: expected "approved" or "denied"/],
      [{ approvalRequestId: 'x', decision: 'denied', reason: 5 }, /^reason/],
    ];
    for (const [body, error] of cases) {
      const r = await call(gate, 'POST', '/approval-decision', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.error as string, error);
    }
    const unknown = await decide(gate, 'no-such-approval', 'approved');
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'Approval request not found']);
    assert.equal((await call(gate, 'GET', '/approval-decision')).status, 405);
  });

  it('reviewers list and read requests with the stored call', async () => {
    const id = await deferred(client, 'echo', { message: 'list me' });
    const list = await call(gate, 'GET', '/approvals?status=pending');
    assert.equal(list.status, 200);
    const mine = (list.body.approvals as Record<string, unknown>[]).find((a) => a.id === id);
    assert.ok(mine);
    assert.deepEqual([mine.tool, mine.arguments, mine.agent, mine.policy, mine.status], ['echo', { message: 'list me' }, 'claude-code', 'echo needs approval', 'pending']);
    assert.ok((list.body.approvals as Record<string, unknown>[]).every((a) => a.status === 'pending'));
    const one = await call(gate, 'GET', `/approvals/${id}`);
    assert.equal((one.body.approval as Record<string, unknown>).callHash, mine.callHash);
    assert.equal((await call(gate, 'GET', '/approvals?status=maybe')).status, 400);
    assert.equal((await call(gate, 'GET', '/approvals/nope')).status, 404);
  });

  it('the kill switch turned on between the request and the decision: failed, not replayed', async () => {
    const id = await deferred(client, 'echo', { message: 'brake' });
    const before = (await fixture.stats()).toolCalls;
    await writeFile(policyFile, POLICY(true));
    // The gate looks at its policy files at most once a second, on a request.
    await waitFor(async () => ((await call(gate, 'GET', '/mcp-gate/policy', { key: gate.apiKey })).body.killSwitch as { global: boolean }).global, 5000, 'the gate to load the kill switch', 200);
    try {
      assert.equal((await decide(gate, id, 'approved')).status, 200);
      const done = await settledStatus(gate, id);
      assert.equal(done.status, 'failed');
      assert.equal((done.error as { reason: string }).reason, 'kill_switch_active');
      assert.match((done.error as { message: string }).message, /kill switch/);
      assert.equal((await fixture.stats()).toolCalls, before);
    } finally {
      await writeFile(policyFile, POLICY());
      await waitFor(async () => !((await call(gate, 'GET', '/mcp-gate/policy', { key: gate.apiKey })).body.killSwitch as { global: boolean }).global, 5000, 'the kill switch to be off again', 200);
    }
  });

  it('the admin key appears nowhere but its one line, and is left 0600 in the state folder', async () => {
    assert.match(gate.adminKey, /^sak_[A-Za-z0-9]{40}$/);
    const lines = gate.stderr().split('\n').filter((l) => l.includes(gate.adminKey));
    assert.deepEqual(lines, [`sentrail gate: admin key for this run (reviewers: sentrail approvals): ${gate.adminKey}`]);
    for (const text of answered) assert.ok(!text.includes(gate.adminKey), 'an HTTP answer holds the admin key');
    const file = path.join(gate.stateDir, 'admin-keys', `port-${new URL(gate.base).port}.json`);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { adminKey: string; gate: string };
    assert.deepEqual([saved.adminKey, saved.gate], [gate.adminKey, gate.base]);
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
  });
});

describe('approvals on the local gate (server-everything over stdio; short TTL)', () => {
  let gate: GateProcess;
  let client: Client;

  before(async () => {
    const dir = await tempDir('sentrail-approvals-');
    const policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, POLICY());
    gate = await startGate(['--policy', policyFile, '--upstream', EVERYTHING_STDIO, '--approval-ttl', '2s'], { adminKey: `sak_${'A1'.repeat(20)}` });
    ({ client } = await connectThroughGate(gate));
  });
  after(async () => {
    await client?.close().catch(() => undefined);
  });

  it('replays on the gate\'s own upstream: the result deep-equals the direct call', async () => {
    const direct = await connectDirect();
    const reference = await direct.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } });
    await direct.close();
    const id = await deferred(client, 'get-sum', { a: 2, b: 40 });
    assert.equal((await decide(gate, id, 'approved')).status, 200);
    const done = await settledStatus(gate, id);
    assert.equal(done.status, 'executed', JSON.stringify(done));
    assert.deepEqual(done.result, reference);
  });

  it('a request left pending past --approval-ttl reads expired and can no longer be decided', async () => {
    const id = await deferred(client, 'get-sum', { a: 1, b: 1 });
    const pending = (await status(gate, id)).body;
    assert.equal(pending.status, 'pending');
    assert.ok(Date.parse(pending.expiresAt as string) - Date.now() <= 2000);
    await waitFor(async () => (await status(gate, id)).body.status === 'expired', 5000, 'the request to expire', 200);
    const late = await decide(gate, id, 'approved');
    assert.deepEqual([late.status, late.body.status], [409, 'expired']);
  });

  it('the upstream never gets the admin key: its environment (get-env) holds no SENTRAIL_ADMIN_KEY', async () => {
    const env = (await client.callTool({ name: 'get-env', arguments: {} })) as { content: { text: string }[] };
    const text = env.content.map((c) => c.text).join('\n');
    assert.match(text, /PATH/, 'get-env should show the environment');
    assert.ok(!text.includes(gate.adminKey) && !text.includes('SENTRAIL_ADMIN_KEY'), 'the upstream sees the admin key');
  });

  it('a given admin key is not printed, and not written to the state folder', async () => {
    assert.ok(!gate.stderr().includes(gate.adminKey));
    assert.doesNotMatch(gate.stderr(), /admin key for this run/);
    await assert.rejects(stat(path.join(gate.stateDir, 'admin-keys', `port-${new URL(gate.base).port}.json`)), { code: 'ENOENT' });
  });

  it('a malformed admin key or approval TTL is refused at start (exit 2), the key not echoed', async () => {
    const { runCli } = await import('../helpers/cli.ts');
    const bad = await runCli(['gate', '--policy', 'x', '--upstream', 'x', '--port', '0', '--admin-key', 'sak_short']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--admin-key: not a Sentrail admin key/);
    assert.ok(!bad.stderr.includes('sak_short'), 'the malformed key is echoed');
    const ttl = await runCli(['gate', '--policy', 'x', '--upstream', 'x', '--port', '0', '--approval-ttl', 'soon']);
    assert.equal(ttl.code, 2);
    assert.match(ttl.stderr, /--approval-ttl soon: expected a duration/);
  });
});


describe('approvals on a --hosted gate (one shared upstream; replays on the gate\'s own connection)', () => {
  it('approve → executed with the upstream\'s result, the call seen once', async () => {
    const fixture = await startFixtureServer();
    try {
      const dir = await tempDir('sentrail-approvals-');
      await writeFile(path.join(dir, 'policy.yaml'), POLICY());
      const gate = await startGate(['--policy', path.join(dir, 'policy.yaml'), '--upstream-url', fixture.mcpUrl, '--hosted']);
      const { client } = await connectThroughGate(gate);
      const id = await deferred(client, 'echo', { message: 'hosted' });
      await client.close();
      const before = (await fixture.stats()).toolCalls;
      assert.equal((await decide(gate, id, 'approved')).status, 200);
      const done = await settledStatus(gate, id);
      assert.deepEqual([done.status, done.result], ['executed', { content: [{ type: 'text', text: 'Echo: hosted' }] }]);
      assert.equal((await fixture.stats()).toolCalls - before, 1);
      await gate.stop();
    } finally {
      await fixture.close();
    }
  });
});

describe('approvals survive the gate: the durable store under the state folder', () => {
  let fixture: FixtureUpstream;
  let policyFile: string;
  const adminKey = `sak_${'C3'.repeat(20)}`;

  before(async () => {
    fixture = await startFixtureServer();
    const dir = await tempDir('sentrail-approvals-');
    policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, POLICY());
  });
  after(async () => {
    await fixture?.close();
  });

  const gateOn = (stateDir?: string) => startGate(['--policy', policyFile, '--upstream-url', fixture.mcpUrl], { adminKey, ...(stateDir ? { stateDir } : {}) });

  it('a request pending when the gate stops is still there after a restart, and can be approved', async () => {
    const first = await gateOn();
    const { client } = await connectThroughGate(first);
    const id = await deferred(client, 'echo', { message: 'across restarts' });
    await client.close();
    assert.equal((await first.stop()).code, 0);

    const second = await gateOn(first.stateDir);
    try {
      assert.match(second.stderr(), /1 approval request pending in /);
      assert.equal((await status(second, id)).body.status, 'pending');
      const before = (await fixture.stats()).toolCalls;
      assert.equal((await decide(second, id, 'approved')).status, 200);
      const done = await settledStatus(second, id);
      assert.equal(done.status, 'executed', JSON.stringify(done));
      assert.deepEqual(done.result, { content: [{ type: 'text', text: 'Echo: across restarts' }] });
      assert.equal((await fixture.stats()).toolCalls - before, 1);
    } finally {
      await second.stop();
    }
  });

  it('kill -9 while requests are being written: every request an agent was told about is there, none torn', async () => {
    const first = await gateOn();
    const { client } = await connectThroughGate(first);
    const told: string[] = [];
    // Enough that the kill lands mid-burst even on a fast disk (40 were all answered once, under load).
    const total = 150;
    const calls = Array.from({ length: total }, (_, i) =>
      deferred(client, 'echo', { message: `burst ${i}` }).then(
        (id) => void told.push(id),
        () => undefined, // cut off by the kill
      ),
    );
    await waitFor(() => told.length >= 5, 10_000, 'the first approvals to be handed out', 5);
    await first.stop('SIGKILL');
    await Promise.all(calls);
    await client.close().catch(() => undefined);
    assert.ok(told.length >= 5 && told.length < total, `${told.length} of ${total} answered before the kill: the kill did not land mid-burst`);

    const second = await gateOn(first.stateDir);
    try {
      const list = await call(second, 'GET', '/approvals');
      const ids = new Set((list.body.approvals as { id: string }[]).map((a) => a.id));
      for (const id of told) assert.ok(ids.has(id), `approval ${id} was handed out but is lost`);
      const files = await readdir(path.join(first.stateDir, 'approvals'));
      for (const f of files.filter((n) => n.endsWith('.json'))) JSON.parse(await readFile(path.join(first.stateDir, 'approvals', f), 'utf8'));
      // A write cut short leaves at most a temp file, which is never read as a request.
      assert.equal(ids.size, files.filter((n) => n.endsWith('.json')).length);
      assert.ok(files.every((n) => n.endsWith('.json') || n.endsWith('.tmp') || n === 'locks'), files.join(', '));
      assert.equal((await decide(second, told[0]!, 'denied', { reason: 'after the crash' })).status, 200);
    } finally {
      await second.stop();
    }
  });

  it('a stored call edited on disk fails with action_hash_mismatch and is not run', async () => {
    const gate = await gateOn();
    try {
      const { client } = await connectThroughGate(gate);
      const id = await deferred(client, 'echo', { message: 'harmless' });
      await client.close();
      const file = path.join(gate.stateDir, 'approvals', `${id}.json`);
      const record = JSON.parse(await readFile(file, 'utf8')) as { params: { arguments: { message: string } } };
      record.params.arguments.message = 'something else entirely';
      await writeFile(file, JSON.stringify(record));
      const before = (await fixture.stats()).toolCalls;
      assert.equal((await decide(gate, id, 'approved')).status, 200);
      const done = await settledStatus(gate, id);
      assert.equal(done.status, 'failed');
      assert.equal((done.error as { reason: string }).reason, 'action_hash_mismatch');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await fixture.stats()).toolCalls, before);
    } finally {
      await gate.stop();
    }
  });

  it('a gate killed while replaying: after the restart the request reads failed (replay_interrupted), never replayed twice', async () => {
    const first = await gateOn();
    const { client } = await connectThroughGate(first);
    const id = await deferred(client, 'slow', { ms: 20_000 });
    await client.close();
    const before = (await fixture.stats()).toolCalls;
    assert.equal((await decide(first, id, 'approved')).status, 200);
    await waitFor(async () => (await fixture.stats()).toolCalls > before, 5000, 'the replay to reach the upstream');
    await first.stop('SIGKILL');

    const second = await gateOn(first.stateDir);
    try {
      const s = (await status(second, id)).body;
      assert.equal(s.status, 'failed', JSON.stringify(s));
      assert.equal((s.error as { reason: string }).reason, 'replay_interrupted');
      assert.equal((await decide(second, id, 'approved')).status, 409);
      assert.equal((await fixture.stats()).toolCalls - before, 1);
    } finally {
      await second.stop();
    }
  });

  it('two gates on one state folder share it safely: decisions through both, one replay', async () => {
    const a = await gateOn();
    const b = await gateOn(a.stateDir);
    try {
      const { client } = await connectThroughGate(a);
      const id = await deferred(client, 'echo', { message: 'two gates' });
      await client.close();
      assert.equal((await status(b, id)).body.status, 'pending', 'b reads what a stored');
      const before = (await fixture.stats()).toolCalls;
      const decisions = await Promise.all([a, b, a, b, a, b].map((g) => decide(g, id, 'approved')));
      assert.equal(decisions.filter((d) => d.status === 200).length, 1, JSON.stringify(decisions.map((d) => d.status)));
      const done = await settledStatus(a, id);
      assert.equal(done.status, 'executed');
      assert.equal((await status(b, id)).body.status, 'executed');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await fixture.stats()).toolCalls - before, 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
