// Approvals through the bridge, end to end with real processes: the SDK Client → the built bridge
// (stdio) → the built local gate (a policy that holds echo and get-sum for approval) →
// server-everything. A reviewer decides with the gate's admin key while the client's call is
// still open. What must hold: the call stays open with progress that names the approval; an
// approval answers it with exactly what the upstream answers the same call directly, within 2 s of
// the decision; a denial says why and not to retry; past --approval-wait the client gets the id,
// and the same call again waits on the same approval and, once it ran, gets its result; a cancel
// or stdin's end stops the wait; a gate without the status endpoint keeps today's answer; a gate
// that goes away mid-wait still gets the call answered, with the id. Needs `npm run build` first.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { approvalPolicyYaml, connectDirect, decideApproval, EVERYTHING_STDIO, listApprovals, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';
import { bridgeClient, heldForApproval, rawBridge, rawInitialize, sleep, tempDir, waitFor, within, type BridgeClient, type ToolResult } from '../helpers/mcp.ts';

const POLICY = approvalPolicyYaml(['echo', 'get-sum']);

const textOf = (r: ToolResult) => r.content?.map((c) => c.text ?? '').join('\n') ?? '';

async function withPolicy(): Promise<string> {
  const dir = await tempDir('sentrail-approvals-bridge-');
  const file = path.join(dir, 'org.yaml');
  await writeFile(file, POLICY);
  return file;
}

/** A gate with the policy above, a bridge to it (with `bridgeArgs`), and the reference client straight to server-everything. */
async function gateBridgeAndDirect(bridgeArgs: string[]): Promise<{ gate: GateProcess; bridge: BridgeClient; direct: Client }> {
  const gate = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO]);
  const bridge = await bridgeClient({ gate: gate.url, apiKey: gate.apiKey, extraArgs: bridgeArgs });
  return { gate, bridge, direct: await connectDirect() };
}

async function closeAll(...clients: Array<{ close(): Promise<void> } | undefined>): Promise<void> {
  for (const c of clients) await c?.close();
}

after(stopAllGates);

describe('approvals through the bridge (SDK client → bridge → local gate → server-everything)', () => {
  let gate: GateProcess;
  let bridge: BridgeClient;
  let direct: Client;
  before(async () => ({ gate, bridge, direct } = await gateBridgeAndDirect(['--log-level', 'debug'])));
  after(() => closeAll(bridge, direct));

  it('holds the call with progress naming the approval; an approval answers it with what the upstream answers, within 2 s', async () => {
    const args = { message: 'approve me' };
    const held = await heldForApproval(bridge.client, 'echo', args);
    const first = held.progress[0]!;
    assert.match(first.message!, new RegExp(`Waiting for a Sentrail reviewer to approve echo \\(policy "echo needs approval"\\): approval ${held.id}, waited \\d+ s of 10 min\\. To approve it on this machine: sentrail approvals approve ${held.id}$`));
    assert.equal(first.total, 600);
    // The bridge's first check (the pulled org policy) saw the approval coming, and left it to the gate.
    assert.match(bridge.logText(), /the org policy holds this call for approval; sending it to the gate, which creates the request.*"tool":"echo"/);
    // The gate holds exactly this one request, pending; the client's call is still open.
    const records = (await listApprovals(gate)).filter((r) => r.id === held.id);
    assert.deepEqual(records.map((r) => [r.status, r.tool, r.arguments]), [['pending', 'echo', args]]);
    await sleep(1200);
    assert.equal(held.settled(), false, 'the call stays open while the approval is pending');

    // The reviewer runs the local command the progress named.
    const approve = await runCli(['approvals', 'approve', held.id, '--gate', gate.url], { env: { SENTRAIL_ADMIN_KEY: gate.adminKey } });
    assert.equal(approve.code, 0, approve.stderr);
    const decided = Date.now();
    const result = await within(held.result, 2000, 'the held call after the approval');
    const ms = Date.now() - decided;
    assert.deepEqual(result, await direct.callTool({ name: 'echo', arguments: args }));
    assert.ok(ms <= 2000, `answered ${ms} ms after the decision`);
    assert.equal((await listApprovals(gate)).filter((r) => r.tool === 'echo' && JSON.stringify(r.arguments) === JSON.stringify(args)).length, 1, 'one approval, one replay');
  });

  it("a denial while waiting answers isError with the reviewer's reason and 'do not retry', within 2 s", async () => {
    const held = await heldForApproval(bridge.client, 'get-sum', { a: 1, b: 2 });
    const deny = await runCli(['approvals', 'deny', held.id, '--reason', 'sums are closed on Mondays', '--gate', gate.url], { env: { SENTRAIL_ADMIN_KEY: gate.adminKey } });
    assert.equal(deny.code, 0, deny.stderr);
    const decided = Date.now();
    const result = await within(held.result, 2000, 'the held call after the denial');
    assert.ok(Date.now() - decided <= 2000);
    assert.equal(result.isError, true);
    assert.equal(textOf(result), `Sentrail: a reviewer denied this call to get-sum (approval ${held.id}): sums are closed on Mondays. The call was not made. Do not retry this call.`);
    assert.deepEqual(result._meta?.sentrail, { status: 'denied', approvalRequestId: held.id, policy: 'get-sum needs approval', reason: 'sums are closed on Mondays' });
    const record = (await listApprovals(gate)).find((r) => r.id === held.id)!;
    assert.equal(record.status, 'denied', 'never replayed');
  });

  it('a cancel from the client stops the wait; the approval stays pending on the gate', async () => {
    const abort = new AbortController();
    const held = await heldForApproval(bridge.client, 'echo', { message: 'cancel me' }, { signal: abort.signal });
    abort.abort('the user pressed Esc');
    await assert.rejects(held.result);
    await waitFor(() => /the client cancelled a call waiting for approval; the approval stays pending on the gate/.test(bridge.logText()), 3000, 'the log line about the cancelled wait');
    const before = held.progress.length;
    await sleep(5500); // one progress period
    assert.equal(held.progress.length, before, 'no progress after the cancel');
    assert.equal((await listApprovals(gate)).find((r) => r.id === held.id)?.status, 'pending');
  });

  it('the admin key is in none of the bridge output, and the API key not in its log', async () => {
    assert.ok(!bridge.stderr().includes(gate.adminKey) && !bridge.logText().includes(gate.adminKey));
    assert.ok(!bridge.logText().includes(gate.apiKey), 'the API key is redacted from the log');
  });
});

describe('--approval-wait exceeded, then the same call again', () => {
  let gate: GateProcess;
  let bridge: BridgeClient;
  let direct: Client;
  before(async () => ({ gate, bridge, direct } = await gateBridgeAndDirect(['--approval-wait', '2'])));
  after(() => closeAll(bridge, direct));

  it('answers with the id and how to check it; the same call reuses the approval; after the approval it gets the stored result', async () => {
    const args = { message: 'later, please' };
    const first = await heldForApproval(bridge.client, 'echo', args);
    const bounded = await within(first.result, 8000, 'the call past --approval-wait');
    assert.equal(bounded.isError, true);
    assert.match(textOf(bounded), new RegExp(`still waiting for a reviewer's approval after 2 s\\. .*approval request ${first.id} stays open on the gate\\. Check it with \`sentrail approvals status ${first.id}\``));
    assert.deepEqual(bounded._meta?.sentrail, { status: 'approval_pending', approvalRequestId: first.id, policy: 'echo needs approval' });

    // Again, with the arguments in the same canonical form: the same approval, no second one.
    const second = await heldForApproval(bridge.client, 'echo', { ...args });
    assert.equal(second.id, first.id);
    const again = await within(second.result, 8000, 'the second call past --approval-wait');
    assert.equal(again._meta?.sentrail?.approvalRequestId, first.id);
    assert.equal((await listApprovals(gate)).filter((r) => r.tool === 'echo').length, 1, 'no second approval at the gate');

    await decideApproval(gate, first.id, 'approved');
    await waitFor(async () => (await listApprovals(gate)).find((r) => r.id === first.id)?.status === 'executed', 10_000, 'the replay');
    const stored = (await bridge.client.callTool({ name: 'echo', arguments: args })) as ToolResult;
    assert.deepEqual(stored, await direct.callTool({ name: 'echo', arguments: args }));
    assert.equal((await listApprovals(gate)).filter((r) => r.tool === 'echo').length, 1);
  });
});

describe('the gate side of the wait', () => {
  it('a gate without the status endpoint (404): the require_approval result passes through, as before', async () => {
    const gate = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO]);
    // --cloud-url pointing where nothing is served: the status read (and the policy pull) get 404.
    const bridge = await bridgeClient({ gate: gate.url, apiKey: gate.apiKey, extraArgs: ['--cloud-url', `${gate.base}/nothing-here`] });
    try {
      const started = Date.now();
      const result = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'no status' } })) as ToolResult;
      assert.ok(Date.now() - started < 3000, 'answered without waiting');
      assert.equal(result._meta?.sentrail?.status, 'require_approval');
      assert.match(textOf(result), /needs a human's approval/);
      assert.match(bridge.logText(), /the gate has no approval status to follow; passing its answer through/);
    } finally {
      await bridge.close();
      await gate.stop();
    }
  });

  it('a gate that goes away while the bridge waits: the call is still answered within the bound, with the approval id', async () => {
    const gate = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO]);
    const bridge = await bridgeClient({ gate: gate.url, apiKey: gate.apiKey, extraArgs: ['--approval-wait', '4'] });
    try {
      const held = await heldForApproval(bridge.client, 'echo', { message: 'gate, stay' });
      await gate.stop();
      const result = await within(held.result, 4000 + 6000, 'the held call after the gate went away');
      assert.equal(result.isError, true);
      assert.equal(result._meta?.sentrail?.approvalRequestId, held.id);
      assert.match(textOf(result), new RegExp(`the gate could not be asked at the end: .*sentrail approvals status ${held.id}`));
    } finally {
      await bridge.close();
    }
  });

  it('an approval that expires while the bridge waits (--approval-ttl 2s): isError naming the expiry; nothing ran', async () => {
    const gate = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO, '--approval-ttl', '2s']);
    const bridge = await bridgeClient({ gate: gate.url, apiKey: gate.apiKey });
    try {
      const held = await heldForApproval(bridge.client, 'echo', { message: 'too late' });
      const result = await within(held.result, 6000, 'the held call after its approval expired');
      assert.equal(result.isError, true);
      assert.match(textOf(result), new RegExp(`^Sentrail: the approval request ${held.id} for echo expired at \\S+ before a reviewer decided\\. The call was not made\\.`));
      assert.equal(result._meta?.sentrail?.status, 'expired');
    } finally {
      await bridge.close();
      await gate.stop();
    }
  });

  it('the kill switch turned on before the approval: isError with kill_switch_active, and the call never ran', async () => {
    const policy = await withPolicy();
    const gate = await startGate(['--policy', policy, '--upstream', EVERYTHING_STDIO]);
    const bridge = await bridgeClient({ gate: gate.url, apiKey: gate.apiKey });
    try {
      const held = await heldForApproval(bridge.client, 'echo', { message: 'brake' });
      await writeFile(policy, approvalPolicyYaml(['echo', 'get-sum'], { killSwitch: true }));
      // The gate looks at its policy file at most once a second, on a request.
      await waitFor(async () => ((await (await fetch(`${gate.base}/mcp-gate/policy`, { headers: { Authorization: `Bearer ${gate.apiKey}` } })).json()) as { killSwitch: { global: boolean } }).killSwitch.global, 5000, 'the gate to load the kill switch', 200);
      await decideApproval(gate, held.id, 'approved');
      const result = await within(held.result, 3000, 'the held call after the approval');
      assert.equal(result.isError, true);
      assert.match(textOf(result), new RegExp(`was approved \\(approval ${held.id}\\) but did not complete \\(kill_switch_active\\)`));
      assert.equal(result._meta?.sentrail?.reason, 'kill_switch_active');
    } finally {
      await bridge.close();
      await gate.stop();
    }
  });

  it('a gate restarted while the bridge waits: the approval survives, and approving it then answers the call', async () => {
    const first = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO]);
    const bridge = await bridgeClient({ gate: first.url, apiKey: first.apiKey, extraArgs: ['--approval-wait', '60'] });
    const direct = await connectDirect();
    try {
      const args = { message: 'across a restart' };
      const held = await heldForApproval(bridge.client, 'echo', args);
      await first.stop();
      await sleep(1500); // the bridge's polls meet a closed port meanwhile
      const port = Number(new URL(first.url).port);
      const again = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO], { port, stateDir: first.stateDir, apiKey: first.apiKey, adminKey: first.adminKey });
      await decideApproval(again, held.id, 'approved');
      const result = await within(held.result, 5000, 'the held call after the restarted gate approved it');
      assert.deepEqual(result, await direct.callTool({ name: 'echo', arguments: args }));
      assert.match(bridge.logText(), /could not read the approval status; still waiting/);
      await again.stop();
    } finally {
      await bridge.close();
      await direct.close();
    }
  });

  for (const ending of ["stdin's end", 'SIGTERM'] as const) {
    it(`${ending} while a call waits: the bridge exits within 2 s, stdout JSON-RPC only`, async () => {
      const gate = await startGate(['--policy', await withPolicy(), '--upstream', EVERYTHING_STDIO]);
      const raw = await rawBridge({ gate: gate.url, apiKey: gate.apiKey });
      try {
        await rawInitialize(raw);
        raw.send({ jsonrpc: '2.0', id: 'held', method: 'tools/call', params: { name: 'echo', arguments: { message: ending }, _meta: { progressToken: 'p1' } } });
        const progress = await raw.waitFor((m) => m.method === 'notifications/progress', 15_000, 'progress for the held call');
        assert.equal((progress.params as { progressToken: string }).progressToken, 'p1');
        const ended = Date.now();
        if (ending === 'SIGTERM') raw.kill('SIGTERM');
        else raw.child.stdin!.end();
        const exit = await within(raw.exited, 3000, 'the bridge exit');
        assert.ok(exit.at - ended <= 2000, `exited ${exit.at - ended} ms after ${ending}`);
        for (const line of raw.lines) assert.equal(JSON.parse(line).jsonrpc, '2.0', `stdout holds only JSON-RPC: ${line}`);
        if (ending === 'SIGTERM') {
          // The client is still there to read: the held call is answered, its approval open on the gate.
          const answer = raw.messages().find((m) => m.id === 'held') as { result?: ToolResult } | undefined;
          assert.equal(answer?.result?._meta?.sentrail?.status, 'approval_pending', JSON.stringify(answer));
          assert.match(textOf(answer!.result!), /shutting down while this call to echo waits .*stays open on the gate/);
        }
      } finally {
        if (raw.child.exitCode === null) raw.kill('SIGKILL');
        await gate.stop();
      }
    });
  }
});

describe('--approval-wait on the command line', () => {
  it('a value that is not a number of seconds is refused, naming the flag', async () => {
    const { code, stdout, stderr } = await runCli(['bridge', '--approval-wait', '10m']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /option '--approval-wait <seconds>' argument '10m' is invalid\. a number of seconds, 0 or more/);
  });
});
