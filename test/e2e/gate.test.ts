// `sentrail gate` end to end: the built binary on a free port, in front of the real MCP
// "everything" server, spoken to by the MCP SDK's own clients and by plain fetch. Nothing of MCP
// is mocked. Needs `npm run build` first (npm test does it).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPolicyText } from '../../src/policy/load.ts';
import { runCli, tempFiles } from '../helpers/cli.ts';
import {
  connectDirect,
  connectThroughGate,
  demoPolicyCopy,
  EVERYTHING,
  EVERYTHING_STDIO,
  gateHeaders,
  startGate,
  stopAllGates,
  testApiKey,
  waitForExit,
  type GateProcess,
} from '../helpers/gate.ts';

const UNAUTHORIZED = { ok: false, error: 'Invalid or expired API key' };
/** A port nothing listens on right now (the OS picks it; we let it go for server-everything to take). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function post(gate: GateProcess, body: unknown, headers: Record<string, string> = gateHeaders(gate.apiKey, 'claude-code')): Promise<Response> {
  return fetch(gate.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const get = (gate: GateProcess, p: string, headers: Record<string, string> = gateHeaders(gate.apiKey)) => fetch(`${gate.base}${p}`, { headers });

function assertMcpError(code: number, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof McpError, `expected an McpError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

after(stopAllGates);

describe('sentrail gate: full MCP over Streamable HTTP, stdio upstream', () => {
  let gate: GateProcess;
  let direct: Client;
  let client: Client;

  before(async () => {
    const policy = await demoPolicyCopy();
    [gate, direct] = await Promise.all([startGate(['--policy', policy.dir, '--upstream', EVERYTHING_STDIO]), connectDirect()]);
    ({ client } = await connectThroughGate(gate));
  });
  after(async () => {
    await Promise.allSettled([client?.close(), direct?.close()]);
  });

  it('refuses a missing or wrong API key on every endpoint with the exact 401 body', async () => {
    const wrong = { Authorization: `Bearer ${testApiKey()}` };
    for (const headers of [{}, wrong, { Authorization: gate.apiKey }]) {
      for (const res of [
        await post(gate, { jsonrpc: '2.0', id: 1, method: 'ping' }, headers),
        await get(gate, '/mcp-gate/policy', headers),
        await get(gate, '/mcp-gate/whoami', headers),
        await get(gate, '/mcp-gate/status/anything', headers),
      ]) {
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), UNAUTHORIZED);
      }
    }
    assert.doesNotMatch(gate.stderr(), new RegExp(gate.apiKey), 'the key given in the environment is never printed');
  });

  it('serves the policy document with an ETag, Cache-Control, and 304 on If-None-Match', async () => {
    const res = await get(gate, '/mcp-gate/policy');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'max-age=60');
    const etag = res.headers.get('etag');
    assert.match(etag ?? '', /^"[^"]+"$/);
    const text = await res.text();
    const doc = JSON.parse(text);
    assert.equal(doc.version, 'demo-2026-11-21.1');
    assert.deepEqual(doc.killSwitch, { global: false, toolsPaused: [] });
    assert.ok(doc.policies.every((p: object) => !('index' in p) && !('location' in p)), 'internal fields are stripped');
    // What the bridge does with it: load it as a policy document.
    const loaded = loadPolicyText(text, 'served.json');
    assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.equal(loaded.document.policies.length, 7);

    const again = await get(gate, '/mcp-gate/policy', { ...gateHeaders(gate.apiKey), 'If-None-Match': etag! });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), etag);
    assert.equal(await again.text(), '');
    const other = await get(gate, '/mcp-gate/policy', { ...gateHeaders(gate.apiKey), 'If-None-Match': '"something-else"' });
    assert.equal(other.status, 200);
  });

  it('answers whoami for the API key', async () => {
    const res = await get(gate, '/mcp-gate/whoami');
    assert.equal(res.status, 200);
    const who = await res.json();
    assert.equal(who.tokenType, 'api_key');
    assert.deepEqual(who.scopes, ['mcp']);
    assert.equal(typeof who.subject, 'string');
    assert.ok(!JSON.stringify(who).includes(gate.apiKey.slice(4)), 'whoami does not reveal the key');
  });

  it("relays initialize to the upstream and lists exactly the upstream's tools", async () => {
    assert.deepEqual(client.getServerVersion(), direct.getServerVersion());
    assert.deepEqual(client.getServerCapabilities(), direct.getServerCapabilities());
    const [viaGate, straight] = await Promise.all([client.listTools(), direct.listTools()]);
    assert.ok(straight.tools.length >= 12);
    assert.deepEqual(viaGate, straight);
  });

  it("returns an allowed call's result unchanged", async () => {
    const args = { name: 'echo', arguments: { message: 'hello through the gate' } };
    assert.deepEqual(await client.callTool(args), await direct.callTool(args));
    const sum = { name: 'get-sum', arguments: { a: 2, b: 40 } };
    assert.deepEqual(await client.callTool(sum), await direct.callTool(sum));
  });

  it('blocks with JSON-RPC -32001 and data.sentrail', async () => {
    await assert.rejects(client.callTool({ name: 'get-env', arguments: {} }), (err) => {
      assertMcpError(-32001, /Blocked by Sentrail policy: Policy "No reading the environment" matched/)(err);
      assert.deepEqual((err as McpError).data, {
        sentrail: {
          status: 'blocked',
          policy: 'No reading the environment',
          policyId: null,
          policyVersion: 'demo-2026-11-21.1',
          reason: 'Policy "No reading the environment" matched',
          source: 'gate',
        },
      });
      return true;
    });
  });

  it('decides per agent (X-Agent-Id): a block only the gate makes', async () => {
    const untrusted = await connectThroughGate(gate, 'untrusted-bot');
    try {
      await assert.rejects(untrusted.client.callTool({ name: 'echo', arguments: { message: 'hi' } }), assertMcpError(-32001, /Block untrusted agents/));
    } finally {
      await untrusted.client.close();
    }
  });

  it('defers a require_approval call: a result with the approval request, pending at the status URL', async () => {
    const result = await client.callTool({ name: 'gzip-file-as-resource', arguments: { name: 'x.gz', data: 'https://example.com/' } });
    assert.equal(result.isError, undefined);
    const meta = (result._meta as { sentrail: Record<string, unknown> }).sentrail;
    assert.equal(meta.status, 'require_approval');
    assert.equal(meta.policy, 'Fetching and compressing files needs approval');
    assert.equal(meta.reason, 'Policy "Fetching and compressing files needs approval" matched');
    const id = meta.approvalRequestId as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    const text = (result.content as { type: string; text: string }[])[0]!.text;
    assert.match(text, /approv/i);
    assert.ok(text.includes(`${gate.base}/mcp-gate/status/${id}`), text);

    const status = await get(gate, `/mcp-gate/status/${id}`);
    assert.equal(status.status, 200);
    const body = (await status.json()) as Record<string, unknown>;
    assert.match(body.expiresAt as string, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(body, {
      ok: true,
      status: 'pending',
      decision: 'require_approval',
      result: null,
      killSwitch: { global: false, toolsPaused: [] },
      approvalRequestId: id,
      reason: meta.reason,
      expiresAt: body.expiresAt,
      decisionReason: null,
      error: null,
    });
    const unknown = await get(gate, '/mcp-gate/status/no-such-request');
    assert.equal(unknown.status, 404);
  });

  it('relays server→client requests (sampling) to the client and its answer back', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(gate.url), { requestInit: { headers: gateHeaders(gate.apiKey, 'claude-code') } });
    const sampler = new Client({ name: 'sampler-e2e', version: '1.0.0' }, { capabilities: { sampling: {} } });
    sampler.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
      role: 'assistant',
      model: 'e2e-model',
      content: { type: 'text', text: `sampled: ${(req.params.messages[0]!.content as { text: string }).text}` },
    }));
    await sampler.connect(transport);
    try {
      const result = await sampler.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'ping' } });
      assert.match((result.content as { text: string }[])[0]!.text, /sampled: .*ping/);
    } finally {
      await sampler.close();
    }
  });

  it('answers a request for an unknown session with 404', async () => {
    const res = await post(gate, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...gateHeaders(gate.apiKey), 'Mcp-Session-Id': 'no-such-session' });
    assert.equal(res.status, 404);
  });

  it('speaks legacy HTTP+SSE on the same path, with the same policy', async () => {
    const transport = new SSEClientTransport(new URL(gate.url), { requestInit: { headers: gateHeaders(gate.apiKey, 'claude-code') } });
    const legacy = new Client({ name: 'legacy-e2e', version: '1.0.0' }, { capabilities: {} });
    await legacy.connect(transport);
    try {
      assert.deepEqual(await legacy.listTools(), await direct.listTools());
      const args = { name: 'echo', arguments: { message: 'over SSE' } };
      assert.deepEqual(await legacy.callTool(args), await direct.callTool(args));
      await assert.rejects(legacy.callTool({ name: 'get-env', arguments: {} }), assertMcpError(-32001));
    } finally {
      await legacy.close();
    }
  });
});

describe('sentrail gate: policy reload', () => {
  it('decides the next call with the edited policy, and keeps the last good one when an edit breaks it', async () => {
    const policy = await demoPolicyCopy();
    const gate = await startGate(['--policy', policy.file, '--upstream', EVERYTHING_STDIO]);
    const { client } = await connectThroughGate(gate);
    try {
      const echo = { name: 'echo', arguments: { message: 'before' } };
      assert.deepEqual((await client.callTool(echo)).content, [{ type: 'text', text: 'Echo: before' }]);
      const etag = (await get(gate, '/mcp-gate/policy')).headers.get('etag');

      const original = await readFile(policy.file, 'utf8');
      const edited = original
        .replace('version: "demo-2026-11-21.1"', 'version: "demo-2026-11-21.2"')
        .replace('policies:\n', 'policies:\n  - name: Echo is off today\n    tool: mcp\n    actionPattern: "*"\n    toolName: echo\n    mode: block\n    priority: 1\n');
      await writeFile(policy.file, edited);
      await sleep(1100); // the gate looks at the file at most once a second
      await assert.rejects(client.callTool(echo), (err) => {
        assertMcpError(-32001, /Echo is off today/)(err);
        assert.equal(((err as McpError).data as { sentrail: { policyVersion: string } }).sentrail.policyVersion, 'demo-2026-11-21.2');
        return true;
      });
      const served = await get(gate, '/mcp-gate/policy');
      assert.notEqual(served.headers.get('etag'), etag);
      assert.equal((await served.json()).version, 'demo-2026-11-21.2');

      await writeFile(policy.file, `${edited}\n  - this is: [not a policy\n`);
      await sleep(1100);
      await assert.rejects(client.callTool(echo), assertMcpError(-32001, /Echo is off today/));
      assert.match(gate.stderr(), /warn: the policy changed but does not load; still deciding with version demo-2026-11-21\.2/);
    } finally {
      await client.close();
    }
  });
});

describe('sentrail gate: upstream lifecycle', () => {
  let gate: GateProcess;
  let pidFile: string;
  const upstreamPid = async () => Number((await readFile(pidFile, 'utf8')).trim());

  before(async () => {
    const policy = await demoPolicyCopy();
    pidFile = path.join(policy.dir, 'upstream.pid');
    // A shell that records its pid, then becomes the server (exec keeps the pid): so the test can kill it.
    const upstream = `sh -c 'echo $$ > "${pidFile}"; exec node "${EVERYTHING}" stdio'`;
    gate = await startGate(['--policy', policy.dir, '--upstream', upstream]);
  });

  it("gives each session its own upstream process, and stops it when the session's client deletes the session", async () => {
    const first = await connectThroughGate(gate);
    const firstPid = await upstreamPid();
    const second = await connectThroughGate(gate);
    const secondPid = await upstreamPid();
    assert.notEqual(firstPid, secondPid);
    await first.transport.terminateSession();
    await waitForExit(firstPid);
    process.kill(secondPid, 0); // still running
    await second.transport.terminateSession();
    await waitForExit(secondPid);
    await Promise.all([first.client.close(), second.client.close()]);
  });

  it('answers a call whose upstream dies mid-call with an error (after relaying its progress), then drops the session', async () => {
    const { client } = await connectThroughGate(gate);
    const pid = await upstreamPid();
    let progress = 0;
    const started = Date.now();
    await assert.rejects(
      client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, {
        timeout: 20_000,
        onprogress: () => {
          if (progress++ === 0) process.kill(pid, 'SIGKILL');
        },
      }),
      assertMcpError(-32000, /upstream MCP server exited before answering/),
    );
    assert.ok(progress >= 1, 'progress notifications reach the client');
    assert.ok(Date.now() - started < 10_000, 'the error comes at once, not after a timeout');
    // The session went with its upstream: the gate says 404, and a client such as the bridge re-initializes.
    await assert.rejects(client.listTools(), /404|Session not found/);
    await client.close();
  });

  it('exits within 2 s of SIGTERM, stopping the upstream processes of open sessions', async () => {
    const { client } = await connectThroughGate(gate);
    const pid = await upstreamPid();
    const { code, ms } = await gate.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 2000, `took ${ms} ms`);
    await waitForExit(pid, 1000);
    await client.close();
  });
});

describe('sentrail gate --upstream-url: a Streamable HTTP upstream', () => {
  let upstream: ChildProcess;
  let gate: GateProcess;

  before(async () => {
    // server-everything in HTTP mode on a port of its own (it takes PORT, and 0 is not supported there).
    const port = await freePort();
    upstream = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      upstream.stderr!.on('data', (d) => {
        seen += String(d);
        if (seen.includes(`listening on port ${port}`)) resolve();
      });
      upstream.once('exit', () => reject(new Error(`server-everything exited:\n${seen}`)));
    });
    const policy = await demoPolicyCopy();
    gate = await startGate(['--policy', policy.dir, '--upstream-url', `http://127.0.0.1:${port}/mcp`]);
  });
  after(() => upstream?.kill('SIGKILL'));

  it('relays allowed calls, blocks blocked ones, and answers a call whose upstream dies mid-stream', async () => {
    const { client } = await connectThroughGate(gate);
    try {
      assert.deepEqual((await client.callTool({ name: 'echo', arguments: { message: 'via HTTP' } })).content, [{ type: 'text', text: 'Echo: via HTTP' }]);
      await assert.rejects(client.callTool({ name: 'get-env', arguments: {} }), assertMcpError(-32001));
      let progress = 0;
      await assert.rejects(
        client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, {
          timeout: 20_000,
          onprogress: () => {
            if (progress++ === 0) upstream.kill('SIGKILL');
          },
        }),
        assertMcpError(-32000, /upstream MCP server ended its response stream before answering/),
      );
    } finally {
      await client.close();
    }
  });
});

describe('sentrail gate --hosted: the hosted gate, exactly', () => {
  let gate: GateProcess;
  let direct: Client;

  before(async () => {
    const policy = await demoPolicyCopy();
    [gate, direct] = await Promise.all([startGate(['--policy', policy.dir, '--upstream', EVERYTHING_STDIO, '--hosted']), connectDirect()]);
  });
  after(() => direct?.close());

  const rpc = async (body: unknown, agent = 'claude-code') => {
    const res = await post(gate, body, gateHeaders(gate.apiKey, agent));
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('answers initialize itself, as the method table says', async () => {
    const res = await rpc({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {} }, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(res.status, 200);
    assert.equal(res.type, 'application/json');
    assert.deepEqual(JSON.parse(res.body), {
      jsonrpc: '2.0',
      id: 1,
      result: { protocolVersion: '2024-11-05', capabilities: { tools: { listChanged: false } }, serverInfo: { name: 'sentrail-mcp-gate', version: '1.0.0' } },
    });
  });

  it('takes notifications/initialized with 202 and no body; ping is {}; anything else is -32601', async () => {
    assert.deepEqual(await rpc({ jsonrpc: '2.0', method: 'notifications/initialized' }), { status: 202, type: null, body: '' });
    assert.deepEqual(JSON.parse((await rpc({ jsonrpc: '2.0', id: 'p', method: 'ping' })).body), { jsonrpc: '2.0', id: 'p', result: {} });
    for (const method of ['resources/list', 'prompts/list', 'logging/setLevel']) {
      const res = await rpc({ jsonrpc: '2.0', id: 7, method });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).error.code, -32601);
    }
  });

  it("forwards tools/list to the upstream and returns it unchanged", async () => {
    const res = await rpc({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body).result, await direct.listTools());
  });

  it('evaluates tools/call: allowed, blocked (-32001 in HTTP 200), deferred', async () => {
    const allowed = JSON.parse((await rpc({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hosted' } } })).body);
    assert.deepEqual(allowed, { jsonrpc: '2.0', id: 3, result: await direct.callTool({ name: 'echo', arguments: { message: 'hosted' } }) });
    const blocked = await rpc({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'get-env', arguments: {} } });
    assert.equal(blocked.status, 200);
    assert.equal(JSON.parse(blocked.body).error.code, -32001);
    assert.match(JSON.parse(blocked.body).error.message, /^Blocked by Sentrail policy: /);
    const deferred = JSON.parse((await rpc({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: {} } }, 'ci-bot')).body);
    assert.equal(deferred.result._meta.sentrail.status, 'require_approval');
  });

  it('answers HTTP 405 to GET and 400 to invalid JSON', async () => {
    const res = await fetch(gate.url, { headers: { ...gateHeaders(gate.apiKey), Accept: 'text/event-stream' } });
    assert.equal(res.status, 405);
    assert.equal((await rpc('{"jsonrpc": "2.0", "id": 1, "method": ')).status, 400);
  });

  it("serves the SDK's Streamable HTTP client as a tools-only server", async () => {
    const { client } = await connectThroughGate(gate);
    try {
      assert.deepEqual(client.getServerVersion(), { name: 'sentrail-mcp-gate', version: '1.0.0' });
      assert.deepEqual(await client.listTools(), await direct.listTools());
    } finally {
      await client.close();
    }
  });

  it('answers 424 when its upstream cannot be started, and still decides blocks', async () => {
    const policy = await demoPolicyCopy();
    const broken = await startGate(['--policy', policy.dir, '--upstream', `node "${path.join(policy.dir, 'no-such-server.js')}"`, '--hosted']);
    const call = (body: unknown) => post(broken, body);
    assert.equal((await call({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).status, 200);
    const list = await call({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(list.status, 424);
    assert.match((await list.json()).error.message, /No MCP server connected/);
    const blocked = await call({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get-env' } });
    assert.equal(blocked.status, 200);
    assert.equal((await blocked.json()).error.code, -32001);
    await broken.stop();
  });
});

describe('sentrail gate: flags and start-up', () => {
  it('generates an API key when none is given, and prints it once; takes max-age from the environment', async () => {
    const policy = await demoPolicyCopy();
    const gate = await startGate(['--policy', policy.dir, '--upstream', EVERYTHING_STDIO], { env: { SENTRAIL_GATE_API_KEY: '', SENTRAIL_GATE_POLICY_MAX_AGE: '5' } });
    const printed = /sentrail gate: API key for this run: (agk_[A-Za-z0-9]{40})\n/.exec(gate.stderr());
    assert.ok(printed, gate.stderr());
    const key = printed[1]!;
    assert.equal(gate.stderr().split(key).length, 2, 'printed exactly once');
    assert.equal((await get(gate, '/mcp-gate/whoami', gateHeaders(key))).status, 200);
    assert.equal((await get(gate, '/mcp-gate/whoami')).status, 401, 'the environment key was not used');
    assert.equal((await get(gate, '/mcp-gate/policy', gateHeaders(key))).headers.get('cache-control'), 'max-age=5');
    await gate.stop();
  });

  it('refuses bad flags with exit 2 and a message that names them', async () => {
    const policy = await demoPolicyCopy();
    const badKey = `agk_${'x'.repeat(12)}`;
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--policy', policy.dir], {}, /needs an upstream MCP server/],
      [['--policy', policy.dir, '--upstream', 'x', '--upstream-url', 'http://127.0.0.1:1/mcp'], {}, /exclude each other/],
      [['--policy', policy.dir, '--upstream', 'node "unterminated'], {}, /--upstream: .*unterminated/],
      [['--policy', policy.dir, '--upstream-url', 'ftp://example.com/'], {}, /--upstream-url/],
      [['--policy', policy.dir, '--upstream', 'x', '--port', '70000'], {}, /--port 70000/],
      [['--policy', policy.dir, '--upstream', 'x', '--api-key', badKey], {}, /--api-key: not a Sentrail API key/],
      [['--policy', policy.dir, '--upstream', 'x'], { SENTRAIL_GATE_API_KEY: badKey }, /SENTRAIL_GATE_API_KEY: not a Sentrail API key/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(['gate', ...args], { env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.ok(!r.stderr.includes(badKey), 'a rejected key is not echoed');
    }
  });

  it('refuses an invalid policy with exit 2 and file:line findings', async () => {
    const dir = await tempFiles({ 'bad.yaml': 'policies:\n  - name: x\n    tool: mcp\n    mode: sometimes\n' });
    const r = await runCli(['gate', '--policy', path.join(dir, 'bad.yaml'), '--upstream', 'x', '--port', '0'], { env: { SENTRAIL_GATE_API_KEY: testApiKey() } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad\.yaml:\d+: /);
  });
});
