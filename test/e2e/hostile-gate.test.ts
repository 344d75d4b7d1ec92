// Issue 12: a bridge that survives a hanging or lying gate. The BUILT bridge against a real HTTP
// server on 127.0.0.1 that misbehaves on purpose (test/fixtures/hostile-gate.ts), and against the
// real fixture MCP server with injected hangs: whatever the gate does, the client's initialize is
// answered within 3 s, every request gets a response, stdout is JSON-RPC only, no tool call is
// sent anywhere, the key leaks nowhere, and stdin's end still means exit 0 with no stack trace.
//
// Run: npm run build && node --import tsx --test test/e2e/hostile-gate.test.ts
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { HOSTILE_MODES, startHostileGate, type HostileMode } from '../fixtures/hostile-gate.ts';
import { bridgeClient, rawBridge, sleep, startFixtureServer, tempDir, waitFor, within, type RawBridge } from '../helpers/mcp.ts';
import { sentrail, userEnv } from '../helpers/user-session.ts';

const textOf = (r: CallToolResult) => (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');

/** What the bridge should say it met, by mode (in the fallback's reason, the status tool, the log). */
const SAYS: Record<(typeof HOSTILE_MODES)[number], RegExp> = {
  hang: /did not answer initialize within (2\.5|10) s/,
  redirect: /redirect to http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/sse \(HTTP 302\)/,
  'html-200': /answered text\/html, not JSON-RPC/,
  'close-mid-body': /broke before the gate's answer ended|cut off/,
  'garbage-sse': /ended the response stream before answering \(it sent \d+ events that are not JSON-RPC\)/,
  'wrong-content-type': /answered text\/plain, not JSON-RPC/,
};

/** A user with nothing of the test runner's: a fresh HOME, no XDG_* folders (bridgeEnv keeps none). */
async function isolatedEnv(): Promise<Record<string, string>> {
  return { HOME: await tempDir('sentrail-hostile-home-') };
}

function assertJsonRpcOnly(lines: string[]): void {
  for (const line of lines) {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      assert.fail(`a stdout line is not JSON: ${line.slice(0, 200)}`);
    }
    assert.equal(m.jsonrpc, '2.0', `not JSON-RPC 2.0: ${line.slice(0, 200)}`);
    const isResponse = 'id' in m && ('result' in m || 'error' in m) && !('method' in m);
    const isNotification = typeof m.method === 'string' && !('id' in m);
    const isRequest = typeof m.method === 'string' && 'id' in m;
    assert.ok(isResponse || isNotification || isRequest, `neither a response, a request nor a notification: ${line.slice(0, 200)}`);
  }
}

function assertCleanStderr(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `stderr holds a stack trace:\n${stderr}`);
  assert.doesNotMatch(stderr, /Unhandled/i, `stderr speaks of something unhandled:\n${stderr}`);
  // The last-resort handler must not have been needed: every failure is handled where it happens.
  assert.doesNotMatch(stderr, /internal error/i, `the last-resort handler fired:\n${stderr}`);
}

function assertNoKey(raw: RawBridge, key: string): void {
  for (const [where, text] of [['stdout', raw.lines.join('\n')], ['stderr', raw.stderr()], ['the log file', raw.logText()]] as const) {
    assert.ok(!text.includes(key.slice(4)), `the API key appears in ${where}`);
  }
}

/** Sends initialize once the bridge is up (its "started" line), and times the answer. */
async function timedInitialize(raw: RawBridge): Promise<{ res: Record<string, unknown>; ms: number }> {
  await waitFor(() => /sentrail bridge: started/.test(raw.stderr()), 15_000, 'the bridge to start');
  const t0 = Date.now();
  const res = await raw.request(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-code', version: 'e2e' } }, 5000);
  const ms = Date.now() - t0;
  raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { res, ms };
}

describe('a hostile gate: every failure is a handled state', { concurrency: true }, () => {
  for (const mode of HOSTILE_MODES) {
    it(`${mode}: initialize within 3 s (sentrail_status), every request answered, fail closed, exit 0 on stdin's end`, { timeout: 60_000 }, async () => {
      const gate = await startHostileGate(mode);
      const raw = await rawBridge({ gate: gate.url, env: await isolatedEnv() });
      const key = raw.setup.apiKey!;
      try {
        const { res, ms } = await timedInitialize(raw);
        assert.ok(ms <= 3000, `initialize took ${ms} ms`);
        const init = res.result as { serverInfo: { name: string }; capabilities: { tools?: { listChanged?: boolean } }; instructions: string };
        assert.equal(init.serverInfo.name, 'sentrail-bridge', 'the bridge answers initialize itself');
        assert.equal(init.capabilities.tools?.listChanged, true);
        assert.match(init.instructions, SAYS[mode]);

        // Each kind of request gets its answer, more than once over the bridge's first 15 s: the
        // first retries, the policy pull's time limit and the session deadlines all fall in there.
        let id = 1;
        for (const pause of [0, 6000, 9000]) {
          await sleep(pause);
          const list = await raw.request(id++, 'tools/list', {}, 5000);
          assert.deepEqual((list.result as { tools: { name: string }[] }).tools.map((t) => t.name), ['sentrail_status'], JSON.stringify(list));
          const call = await raw.request(id++, 'tools/call', { name: 'echo', arguments: { message: 'must not be sent' } }, 5000);
          const callResult = call.result as CallToolResult;
          assert.equal(callResult.isError, true, JSON.stringify(call));
          assert.match(textOf(callResult), /the call was not made/);
          assert.match(textOf(callResult), SAYS[mode]);
          const ping = await raw.request(id++, 'ping', {}, 5000);
          assert.deepEqual(ping.result, {});
          const other = await raw.request(id++, 'resources/list', {}, 5000);
          assert.equal((other.error as { code: number } | undefined)?.code, -32601, JSON.stringify(other));
        }
        const status = await raw.request(id++, 'tools/call', { name: 'sentrail_status', arguments: {} }, 5000);
        assert.match(textOf(status.result as CallToolResult), /not connected to the gate/);
        assert.ok(raw.child.exitCode === null, 'the bridge is still up');

        // Fail closed: no tool call reached the gate, or anything at all the other origin.
        assert.deepEqual(gate.requests.filter((r) => r.rpc.includes('tools/call')), [], 'a tool call was sent to the gate');
        assert.ok(gate.requests.some((r) => r.rpc.includes('initialize')), 'the bridge never tried the gate');
        if (mode === 'redirect') {
          assert.deepEqual(gate.target.requests.filter((r) => r.authorization !== null), [], 'credentials followed the redirect');
          assert.equal(gate.target.requests.length, 0, 'the bridge followed a redirect');
        }
        // The bridge kept trying (more than one initialize) and logged what it met.
        assert.ok(gate.requests.filter((r) => r.rpc.includes('initialize')).length >= 2, `retries: ${JSON.stringify(gate.requests.map((r) => r.rpc))}`);
        assert.match(raw.logText(), SAYS[mode]);
        if (mode === 'html-200') {
          assert.match(raw.logText(), /the gate answered text\/html, not a policy document/);
          assert.doesNotMatch(raw.logText(), /newer format/);
        }

        raw.child.stdin!.end();
        const exit = await within(raw.exited, 2500, 'the bridge to exit after stdin ended');
        assert.equal(exit.code, 0, `exit ${exit.code ?? exit.signal}; stderr:\n${raw.stderr()}`);
        assertJsonRpcOnly(raw.lines);
        assertCleanStderr(raw.stderr());
        assertNoKey(raw, key);
      } finally {
        raw.kill('SIGKILL');
        await gate.close();
      }
    });
  }

  for (const mode of HOSTILE_MODES) {
    it(`${mode}, through the MCP SDK client: connected within a few seconds of the spawn, tools/list, tools/call, ping answered`, { timeout: 30_000 }, async () => {
      const gate = await startHostileGate(mode);
      const t0 = Date.now();
      const bridge = await bridgeClient({ gate: gate.url, env: await isolatedEnv(), connectTimeoutMs: 10_000 });
      try {
        // Spawn, Node's start and initialize together: Claude Code's view of it. The 3 s bound of
        // the bridge's own wait is asserted above (from its "started" line); Node's start on a
        // loaded 2-core machine is on top, hence the margin.
        assert.ok(Date.now() - t0 < 8000, `connect took ${Date.now() - t0} ms`);
        assert.equal(bridge.client.getServerVersion()?.name, 'sentrail-bridge');
        assert.deepEqual((await bridge.client.listTools()).tools.map((t) => t.name), ['sentrail_status']);
        const call = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'x' } })) as CallToolResult;
        assert.equal(call.isError, true);
        assert.match(textOf(call), SAYS[mode]);
        await bridge.client.ping();
        assert.deepEqual(gate.requests.filter((r) => r.rpc.includes('tools/call')), []);
        assertCleanStderr(bridge.stderr());
      } finally {
        await bridge.close();
        await gate.close();
      }
    });
  }
});

describe('through HTTP_PROXY (undici fetch instead of node:http)', () => {
  /** A forward proxy for http:// targets (absolute-form requests), counting what passes. */
  async function startProxy(): Promise<{ url: string; seen: number; close(): Promise<void> }> {
    const state = { seen: 0 };
    const server = http.createServer((req, res) => {
      state.seen++;
      const up = http.request(new URL(req.url!), { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    // undici tunnels with CONNECT, http:// targets included
    server.on('connect', (req, socket, head) => {
      state.seen++;
      const [host, port] = req.url!.split(':');
      const up = net.connect(Number(port), host!, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      get seen() {
        return state.seen;
      },
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('a redirect is not followed there either: the other origin sees nothing, the bridge and policy pull say where it pointed', { timeout: 30_000 }, async () => {
    const gate = await startHostileGate('redirect');
    const proxy = await startProxy();
    const raw = await rawBridge({ gate: gate.url, env: { ...(await isolatedEnv()), HTTP_PROXY: proxy.url } });
    try {
      const { res, ms } = await timedInitialize(raw);
      assert.ok(ms <= 3000, `initialize took ${ms} ms`);
      assert.match((res.result as { instructions: string }).instructions, SAYS.redirect);
      const call = await raw.request(1, 'tools/call', { name: 'echo', arguments: {} }, 5000);
      assert.equal((call.result as CallToolResult).isError, true);
      const home = await tempDir('sentrail-hostile-pull-');
      const run = await sentrail(['policy', 'pull', '--gate', gate.url], { env: userEnv(home, { SENTRAIL_API_KEY: raw.setup.apiKey!, HTTP_PROXY: proxy.url }), timeoutMs: 20_000 });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /redirect to http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/policy \(HTTP 302\)/);
      assert.ok(proxy.seen > 0, 'the proxy saw no traffic: this test did not test the proxy path');
      assert.equal(gate.target.requests.length, 0, `the redirect was followed: ${JSON.stringify(gate.target.requests)}`);
      raw.child.stdin!.end();
      assert.equal((await within(raw.exited, 2500, 'exit')).code, 0);
      assertJsonRpcOnly(raw.lines);
      assertCleanStderr(raw.stderr());
      assertNoKey(raw, raw.setup.apiKey!);
    } finally {
      raw.kill('SIGKILL');
      await proxy.close();
      await gate.close();
    }
  });
});

describe('a gate that hangs, then recovers; a tool call that hangs', { concurrency: true }, () => {
  it('initialize hangs at first: sentrail_status and fail closed; once the gate answers, tools/list_changed and the real tools', { timeout: 40_000 }, async () => {
    const up = await startFixtureServer();
    await up.control({ fault: { status: 200, methods: ['initialize'], hang: true } });
    const t0 = Date.now();
    const bridge = await bridgeClient({ gate: up.mcpUrl, env: await isolatedEnv(), connectTimeoutMs: 10_000 });
    try {
      assert.ok(Date.now() - t0 < 8000, `connect took ${Date.now() - t0} ms`); // spawn included, as above
      assert.equal(bridge.client.getServerVersion()?.name, 'sentrail-bridge');
      const { tools } = await bridge.client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['sentrail_status']);
      assert.match(tools[0]!.description ?? '', /did not answer initialize/);
      const call = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'not yet' } })) as CallToolResult;
      assert.equal(call.isError, true);
      assert.equal((await up.stats()).toolCalls, 0, 'a tool call reached the gate before the session existed');
      const mark = bridge.notifications('notifications/tools/list_changed').length;
      await up.control({ fault: null });
      await bridge.waitForNotification('notifications/tools/list_changed', 20_000, () => true, mark);
      const after = await bridge.client.listTools();
      assert.ok(after.tools.some((t) => t.name === 'echo'), JSON.stringify(after.tools.map((t) => t.name)));
      assert.equal(textOf((await bridge.client.callTool({ name: 'echo', arguments: { message: 'recovered' } })) as CallToolResult), 'Echo: recovered');
      assertCleanStderr(bridge.stderr());
    } finally {
      await bridge.close();
      await up.close();
    }
  });

  it('--request-timeout: a tools/call the gate sits on gets an isError result, the gate is told to cancel it, and the session goes on; a hung tools/list gets a JSON-RPC error', { timeout: 30_000 }, async () => {
    const up = await startFixtureServer();
    const bridge = await bridgeClient({ gate: up.mcpUrl, env: await isolatedEnv(), extraArgs: ['--request-timeout', '2'] });
    try {
      const t0 = Date.now();
      const call = (await bridge.client.callTool({ name: 'slow', arguments: { ms: 20_000 } })) as CallToolResult;
      const ms = Date.now() - t0;
      assert.ok(ms >= 1900 && ms < 6000, `answered after ${ms} ms`);
      assert.equal(call.isError, true);
      assert.match(textOf(call), /did not answer the call \(no answer within 2 s\).*may or may not have run/);
      await waitFor(async () => (await up.stats()).cancelled === 1, 5000, 'the gate to see notifications/cancelled for the call');
      assert.equal(textOf((await bridge.client.callTool({ name: 'echo', arguments: { message: 'still here' } })) as CallToolResult), 'Echo: still here');

      // A gate that takes tools/list and never answers it (the HTTP request hangs).
      await up.control({ fault: { status: 200, methods: ['tools/list'], hang: true } });
      const t1 = Date.now();
      await assert.rejects(bridge.client.listTools(), (err: unknown) => err instanceof McpError && /did not answer tools\/list/.test(err.message));
      assert.ok(Date.now() - t1 < 6000);
      await up.control({ fault: null });
      await bridge.client.ping();
      assertCleanStderr(bridge.stderr());
    } finally {
      await bridge.close();
      await up.close();
    }
  });

  it('a slow gate is not a hanging one: a call answered after 6 s of silence (JSON and SSE answers) gets its result', { timeout: 40_000 }, async () => {
    // Guards the bounds that are not meant for it: the 4 s idle-socket timeout of the HTTP agent
    // (free sockets only) and the default request timeout.
    await Promise.all(
      [false, true].map(async (json) => {
        const up = await startFixtureServer({ json });
        const bridge = await bridgeClient({ gate: up.mcpUrl, env: await isolatedEnv() });
        try {
          const r = (await bridge.client.callTool({ name: 'slow', arguments: { ms: 6000 } })) as CallToolResult;
          assert.equal(textOf(r), 'slept 6000 ms', `${json ? 'JSON' : 'SSE'}: ${JSON.stringify(r)}`);
          await sleep(4500); // idle past the agent's timeout: the next call takes a new socket
          assert.equal(textOf((await bridge.client.callTool({ name: 'echo', arguments: { message: 'after idle' } })) as CallToolResult), 'Echo: after idle');
        } finally {
          await bridge.close();
          await up.close();
        }
      }),
    );
  });

  it("the client's cancel: a cancelled call is never answered (not even by the request timeout), the gate is told, the bridge goes on", { timeout: 30_000 }, async () => {
    const up = await startFixtureServer();
    const raw = await rawBridge({ gate: up.mcpUrl, env: await isolatedEnv(), extraArgs: ['--request-timeout', '2'] });
    try {
      await timedInitialize(raw);
      await raw.request(1, 'tools/list', {}, 10_000);
      raw.send({ jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'slow', arguments: { ms: 6000 } } });
      await waitFor(async () => (await up.stats()).toolCalls === 1, 5000, 'the call to reach the gate');
      raw.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1', reason: 'the user pressed Esc' } });
      await waitFor(async () => (await up.stats()).cancelled === 1, 5000, 'the gate to see the cancellation');
      // Past the 2 s request timeout: a deadline left armed would answer now.
      await sleep(3000);
      assert.deepEqual(raw.messages().filter((m) => m.id === 'c1'), [], 'a cancelled request was answered');
      const ping = await raw.request(2, 'ping', {}, 5000);
      assert.deepEqual(ping.result, {});
      raw.child.stdin!.end();
      const exit = await within(raw.exited, 2500, 'exit');
      assert.equal(exit.code, 0);
      assertJsonRpcOnly(raw.lines);
      assertCleanStderr(raw.stderr());
    } finally {
      raw.kill('SIGKILL');
      await up.close();
    }
  });
});

describe('sentrail policy pull from a gate that does not serve a policy', { concurrency: true }, () => {
  const pull = async (gateUrl: string, extra: string[] = []) => {
    const home = await tempDir('sentrail-hostile-pull-');
    const key = `agk_${'p'.repeat(20)}${Math.random().toString(36).slice(2, 12).padEnd(10, 'q')}${'Z'.repeat(10)}`;
    const run = await sentrail(['policy', 'pull', '--gate', gateUrl, ...extra], { env: userEnv(home, { SENTRAIL_API_KEY: key }), timeoutMs: 20_000 });
    for (const text of [run.stdout, run.stderr]) assert.ok(!text.includes(key.slice(4)), 'the key appears in the output');
    assertCleanStderr(run.stderr);
    return run;
  };

  it('HTML with 200: says what it got (text/html, not a policy document), not "a newer format"; exit 1; --json says not-policy', { timeout: 30_000 }, async () => {
    const gate = await startHostileGate('html-200');
    try {
      const run = await pull(gate.url);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /the gate answered text\/html, not a policy document/);
      assert.doesNotMatch(run.stderr, /newer format/);
      const json = await pull(gate.url, ['--json']);
      assert.equal(json.code, 1);
      assert.equal((JSON.parse(json.stdout) as { status: string }).status, 'not-policy');
    } finally {
      await gate.close();
    }
  });

  it('other answers that are not a policy: a text/plain "OK", an event stream, a redirect (not followed, no credential sent)', { timeout: 30_000 }, async () => {
    for (const [mode, says] of [
      ['wrong-content-type', /the gate answered text\/plain that is not JSON, not a policy document/],
      ['garbage-sse', /the gate answered text\/event-stream, not a policy document/],
      ['redirect', /redirect to http:\/\/127\.0\.0\.1:\d+\/mcp-gate\/policy \(HTTP 302\)/],
    ] as const) {
      const gate = await startHostileGate(mode as HostileMode);
      try {
        const run = await pull(gate.url);
        assert.equal(run.code, 1, `${mode}: ${run.stderr}`);
        assert.match(run.stderr, says, mode);
        assert.doesNotMatch(run.stderr, /newer format/, mode);
        assert.equal(gate.target.requests.length, 0, `${mode}: the redirect was followed`);
      } finally {
        await gate.close();
      }
    }
  });

  it('a real policy document that does not load still says it may use a newer format', { timeout: 30_000 }, async () => {
    const gate = await startHostileGate('policy-newer');
    try {
      const run = await pull(gate.url);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /does not load here .*onlyOnTuesdays.*; it may use a newer format/);
      assert.doesNotMatch(run.stderr, /not a policy document/);
    } finally {
      await gate.close();
    }
  });
});
