// Issue 12: one crafted argument used to stall the gate for minutes (even SIGTERM) and `policy
// explain` for as long, because the argument matcher `(a|aa)*b` backtracked exponentially on
// 30,000 "a" and a "!". Now policy regexes run in linear time: the built gate, a real process in
// front of the real "everything" server, keeps answering pings within 100 ms while such calls are
// decided, decides them, and ends on SIGTERM within 2 s; `policy explain` answers at once.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { EVERYTHING_STDIO, gateHeaders, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';

after(stopAllGates);

const POLICY = `version: "hostile-1"
policies:
  - name: No secrets in echoes
    tool: mcp
    actionPattern: echo
    conditions:
      arguments:
        /message: { regex: "(a|aa)*b" }
    mode: block
    priority: 1
`;
const HOSTILE = 'a'.repeat(30_000) + '!';
const HOSTILE_64K = 'a'.repeat(64 * 1024 - 1) + '!';

async function policyFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-hostile-'));
  const file = path.join(dir, 're2.yaml');
  await writeFile(file, POLICY);
  return file;
}

let nextId = 1;
async function rpc(gate: GateProcess, method: string, params?: unknown): Promise<{ body: { result?: unknown; error?: unknown }; ms: number }> {
  const started = performance.now();
  const res = await fetch(gate.url, {
    method: 'POST',
    headers: { ...gateHeaders(gate.apiKey, 'claude-code'), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params === undefined ? {} : { params }) }),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  assert.equal(res.status, 200, text);
  // A JSON answer, or one SSE event carrying it.
  const json = text.startsWith('{') ? text : /^data: (.*)$/m.exec(text)?.[1];
  assert.ok(json, text);
  return { body: JSON.parse(json), ms };
}

describe('a hostile argument cannot stall the gate (--hosted, the shape the attack used)', () => {
  it('pings are answered within 100 ms while hostile calls are decided, and each is decided', { timeout: 60_000 }, async () => {
    const gate = await startGate(['--policy', await policyFile(), '--upstream', EVERYTHING_STDIO, '--hosted']);
    await rpc(gate, 'initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    await rpc(gate, 'tools/list'); // the upstream is up before anything is timed

    const hostile: Promise<{ body: { result?: unknown; error?: unknown } }>[] = [];
    const pings: number[] = [];
    for (let round = 0; round < 10; round++) {
      hostile.push(rpc(gate, 'tools/call', { name: 'echo', arguments: { message: round % 2 ? HOSTILE : HOSTILE_64K } }));
      pings.push((await rpc(gate, 'ping')).ms);
    }
    const answers = await Promise.all(hostile);
    assert.ok(Math.max(...pings) <= 100, `ping times (ms): ${pings.map((m) => m.toFixed(1)).join(', ')}`);
    // No b at the end: the block does not match, and the call goes through to the upstream.
    for (const { body } of answers) {
      const text = (body.result as { content?: { text?: string }[] })?.content?.[0]?.text ?? '';
      assert.ok(text.startsWith('Echo: aaaa') && text.endsWith('!'), JSON.stringify(body).slice(0, 200));
    }
    // And a matching argument is blocked: the matcher is really evaluated.
    const blocked = await rpc(gate, 'tools/call', { name: 'echo', arguments: { message: 'aa'.repeat(20_000) + 'b' } });
    assert.match(JSON.stringify(blocked.body.error), /Blocked by Sentrail policy/);
  });

  it('SIGTERM ends the gate within 2 s while hostile calls are in flight', { timeout: 60_000 }, async () => {
    const gate = await startGate(['--policy', await policyFile(), '--upstream', EVERYTHING_STDIO, '--hosted']);
    await rpc(gate, 'tools/list');
    const inFlight = Array.from({ length: 20 }, () => rpc(gate, 'tools/call', { name: 'echo', arguments: { message: HOSTILE_64K } }).catch(() => null));
    const { code, ms } = await gate.stop('SIGTERM');
    await Promise.all(inFlight);
    assert.ok(ms <= 2000, `the gate took ${ms} ms to exit`);
    assert.equal(code, 0, gate.stderr());
  });
});

describe('policy explain with the hostile argument', () => {
  it('answers at once with the decision (it ran for over 20 s before)', { timeout: 20_000 }, async () => {
    const file = await policyFile();
    const args = path.join(path.dirname(file), 'args.json');
    await writeFile(args, JSON.stringify({ message: HOSTILE }));
    const started = Date.now();
    const r = await runCli(['policy', 'explain', '--policy', file, '--action', 'echo', '--args', `@${args}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /allow/);
    assert.ok(Date.now() - started < 10_000);
  });
});
