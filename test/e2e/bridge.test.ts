// End-to-end tests of `sentrail bridge`: the BUILT binary (`node bin/sentrail.js bridge`), real
// processes on both sides, nothing of MCP mocked. The reference for "faithful" is the same call made
// by the SDK client straight to the same upstream.
//
// Upstreams: server-everything (Streamable HTTP and legacy SSE modes) and the project's own real MCP
// fixture server (test/fixtures/big-result-server.ts: big results, slow calls, DELETE counting,
// fault injection). With SENTRAIL_E2E_UPSTREAM=gate, the suites built on `startUpstream()`
// (fidelity, raw stdio, the upstream faults, 500 concurrent calls) run through the local gate
// (`sentrail gate --upstream "node server-everything stdio"`) instead of straight to server-everything.
//
// Run: npm run build && node --import tsx --test test/e2e/bridge.test.ts
// Debug: E2E_DEBUG=1 prints the fidelity bridge's stderr (log level debug).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JSONRPCMessageSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { bigText } from '../fixtures/big-text.ts';
import {
  assertBuiltBridge,
  bridgeClient,
  bridgeEnv,
  CLAUDE_CODE_INITIALIZE,
  directClient,
  ELICIT_CONTENT,
  freePort,
  normalize,
  pidAlive,
  plantedKey,
  rawBridge,
  rawInitialize,
  ROOT,
  ROOTS,
  sleep,
  startEverything,
  startFixtureServer,
  startUpstream,
  tempDir,
  track,
  waitFor,
  within,
  type BridgeClient,
  type FixtureUpstream,
  type RawBridge,
  type RecordingClient,
  type Upstream,
} from '../helpers/mcp.ts';

before(() => assertBuiltBridge());

/** A tool call's outcome, result or JSON-RPC error, in a comparable shape. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { result: await p };
  } catch (err) {
    if (err instanceof McpError) return { error: { code: err.code, message: err.message, data: err.data } };
    return { thrown: (err as Error).message };
  }
}

const textOf = (r: unknown) =>
  ((r as CallToolResult).content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => (c as { text: string }).text)
    .join('\n');

/** A policy file for the first check: `big` and `get-sum` are certainly blocked for everyone. */
async function blockingPolicy(): Promise<string> {
  const dir = await tempDir('sentrail-e2e-policy-');
  const file = path.join(dir, 'policy.yaml');
  await writeFile(
    file,
    [
      'version: "e2e-1"',
      'policies:',
      '  - name: No big results',
      '    tool: mcp',
      '    actionPattern: "*"',
      '    toolName: big',
      '    mode: block',
      '    priority: 1',
      '  - name: No sums',
      '    tool: mcp',
      '    actionPattern: "*"',
      '    toolName: get-sum',
      '    mode: block',
      '    priority: 2',
      '',
    ].join('\n'),
  );
  return file;
}

// =============================================================================================
// 1. Fidelity over Streamable HTTP
// =============================================================================================

/**
 * Arguments per tool, picked from each tool's inputSchema. A tool server-everything lists that is
 * not here fails the test (so a new upstream tool cannot go untested).
 */
const TOOL_CASES: Record<string, Array<Record<string, unknown>>> = {
  echo: [{ message: 'hello through the bridge' }, { message: 'ünïcødé ✓ \u2028 line separator and "quotes"' }],
  'get-annotated-message': [{ messageType: 'error' }, { messageType: 'success', includeImage: true }, { messageType: 'debug' }],
  // The upstream's own environment: the same process answers both clients, so it is deterministic.
  'get-env': [{}],
  'get-resource-links': [{ count: 10 }, {}],
  // Text resources carry a clock time (normalized); blobs too (normalized after base64 decoding).
  'get-resource-reference': [{ resourceType: 'Text', resourceId: 3 }, { resourceType: 'Blob', resourceId: 4 }, { resourceType: 'Nope', resourceId: 1 }],
  'get-structured-content': [{ location: 'New York' }, { location: 'Chicago' }, { location: 'Los Angeles' }],
  'get-sum': [{ a: 20, b: 22 }, { a: -1.5, b: 1e21 }],
  'get-tiny-image': [{}],
  // Its default fetches a URL on the internet: a data: URI keeps it offline and deterministic.
  'gzip-file-as-resource': [
    { name: 'e2e.txt.gz', data: 'data:text/plain;base64,' + Buffer.from('sentrail e2e '.repeat(50)).toString('base64'), outputType: 'resource' },
    { name: 'e2e-link.txt.gz', data: 'data:text/plain;base64,' + Buffer.from('link me').toString('base64'), outputType: 'resourceLink' },
  ],
  // Start, then stop (the result names the session id: normalized).
  'toggle-simulated-logging': [{}, {}],
  'toggle-subscriber-updates': [{}, {}],
  'trigger-long-running-operation': [{ duration: 0.3, steps: 3 }],
  'get-roots-list': [{}],
  'trigger-elicitation-request': [{}],
  // A fixed elicitationId keeps the request path deterministic; errorPath answers JSON-RPC -32042.
  'trigger-url-elicitation': [
    { url: 'https://example.com/consent', elicitationId: 'e2e-elicitation-1' },
    { url: 'https://example.com/authorize', elicitationId: 'e2e-elicitation-2', errorPath: true },
  ],
  'trigger-sampling-request': [{ prompt: 'Say hi to the bridge', maxTokens: 64 }],
  // Client-side tasks: the server polls tasks/get and tasks/result on the client (through the bridge).
  'trigger-sampling-request-async': [{ prompt: 'async sampling', maxTokens: 32 }],
  'trigger-elicitation-request-async': [{}],
  // taskSupport 'required': called through the tasks API below (tools/call with `task`, tasks/get, tasks/result).
  'simulate-research-query': [{ topic: 'bridges', ambiguous: false }],
};

async function callBoth(direct: RecordingClient, bridge: RecordingClient, name: string, args: Record<string, unknown>): Promise<[unknown, unknown]> {
  if (name === 'simulate-research-query') {
    const viaTasks = async (c: RecordingClient) => {
      let final: unknown = { thrown: 'no result' };
      const stages: string[] = [];
      for await (const m of c.client.experimental.tasks.callToolStream({ name, arguments: args }, undefined, { timeout: 20_000 })) {
        if (m.type === 'taskStatus') stages.push(m.task.status);
        if (m.type === 'result') final = { result: m.result };
        if (m.type === 'error') final = { error: { code: (m.error as McpError).code, message: m.error.message } };
      }
      return { final, completed: stages.includes('completed') || 'result' in (final as object) };
    };
    return Promise.all([viaTasks(direct), viaTasks(bridge)]);
  }
  // server-everything keeps session resources in one process-wide map keyed by URI: a second
  // session registering the same URI removes it from the first. Each client gets its own name
  // (prefix `direct-` / `bridge-`), stripped again before comparing.
  const own = (who: string) => (name === 'gzip-file-as-resource' ? { ...args, name: `${who}-${String(args.name)}` } : args);
  return Promise.all([
    outcome(direct.client.callTool({ name, arguments: own('direct') }, undefined, { timeout: 20_000 })).then(unprefix),
    outcome(bridge.client.callTool({ name, arguments: own('bridge') }, undefined, { timeout: 20_000 })).then(unprefix),
  ]);
}

/** Undoes the per-client resource names of gzip-file-as-resource (see callBoth). */
function unprefix(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/\/(direct|bridge)-/g, '/').replace(/"(direct|bridge)-/g, '"'));
}

describe('fidelity: every MCP feature through the bridge equals the direct call (Streamable HTTP)', () => {
  let up: Upstream;
  let direct: RecordingClient;
  let bridge: BridgeClient;

  before(async () => {
    up = await startUpstream();
    [direct, bridge] = await Promise.all([directClient(up), bridgeClient({ gate: up.mcpUrl, apiKey: up.authKey, logLevel: process.env.E2E_DEBUG ? 'debug' : undefined })]);
    // server-everything asks both clients for their roots ~350 ms after initialized.
    await Promise.all([
      waitFor(() => direct.serverRequests.includes('roots/list'), 5000, 'roots/list to the direct client'),
      waitFor(() => bridge.serverRequests.includes('roots/list'), 5000, 'roots/list relayed to the bridge client'),
    ]);
  });
  after(async () => {
    if (process.env.E2E_DEBUG) console.error(bridge?.stderr());
    await Promise.allSettled([direct?.close(), bridge?.close()]);
    await up?.close();
  });

  it('initialize: same protocol version, server info, capabilities and instructions', () => {
    assert.deepEqual(bridge.client.getServerVersion(), direct.client.getServerVersion());
    assert.deepEqual(bridge.client.getServerCapabilities(), direct.client.getServerCapabilities());
    assert.equal(bridge.client.getInstructions(), direct.client.getInstructions());
  });

  it('tools/list is identical (the client capabilities reached the upstream: conditional tools are there)', async () => {
    const [d, b] = await Promise.all([direct.client.listTools(), bridge.client.listTools()]);
    assert.deepEqual(b, d);
    const names = d.tools.map((t) => t.name);
    for (const n of ['get-roots-list', 'trigger-sampling-request', 'trigger-elicitation-request', 'trigger-url-elicitation', 'trigger-sampling-request-async']) assert.ok(names.includes(n), `${n} missing: ${names.join(', ')}`);
  });

  it('every tool: the result through the bridge deep-equals the direct one', { timeout: 40_000 }, async () => {
    const { tools } = await direct.client.listTools();
    const untested = tools.map((t) => t.name).filter((n) => !(n in TOOL_CASES));
    assert.deepEqual(untested, [], `tools without a test case (add arguments to TOOL_CASES): ${untested.join(', ')}`);
    const mismatches: string[] = [];
    await Promise.all(
      Object.entries(TOOL_CASES).map(async ([name, cases]) => {
        // Calls of one tool in order (the toggles start then stop); tools in parallel.
        for (const args of cases) {
          const [d, b] = await callBoth(direct, bridge, name, args);
          try {
            assert.deepEqual(normalize(b), normalize(d));
            if (name === 'simulate-research-query') assert.ok((b as { completed: boolean }).completed, 'the research task did not complete through the bridge');
            else assert.ok(!('thrown' in (b as object)), `the call through the bridge failed: ${JSON.stringify(b)}`);
          } catch (err) {
            mismatches.push(`${name} ${JSON.stringify(args)}:\n${(err as Error).message}`);
          }
        }
      }),
    );
    assert.deepEqual(mismatches, [], mismatches.join('\n\n'));
    // Sanity: the results are what the upstream does, not two identical failures.
    const echo = await bridge.client.callTool({ name: 'echo', arguments: { message: 'x' } });
    assert.equal(textOf(echo), 'Echo: x');
  });

  it('resources: list, templates, read (static, dynamic, blob, session), subscribe + updated notification, unsubscribe', { timeout: 20_000 }, async () => {
    const [dl, bl] = await Promise.all([direct.client.listResources(), bridge.client.listResources()]);
    assert.deepEqual(unprefix(bl), unprefix(dl));
    assert.ok(bl.resources.length >= 9, `expected the static documents and the gzip tool's session resources: ${JSON.stringify(bl)}`);
    const [dt, bt] = await Promise.all([direct.client.listResourceTemplates(), bridge.client.listResourceTemplates()]);
    assert.deepEqual(bt, dt);
    assert.deepEqual(bt.resourceTemplates.map((t) => t.uriTemplate).sort(), ['demo://resource/dynamic/blob/{resourceId}', 'demo://resource/dynamic/text/{resourceId}']);
    const uris = ['demo://resource/static/document/architecture.md', 'demo://resource/dynamic/text/7', 'demo://resource/dynamic/blob/8', 'demo://resource/session/{who}-e2e.txt.gz', 'demo://resource/no/such/thing'];
    for (const uri of uris) {
      const [d, b] = await Promise.all([
        outcome(direct.client.readResource({ uri: uri.replace('{who}', 'direct') })).then(unprefix),
        outcome(bridge.client.readResource({ uri: uri.replace('{who}', 'bridge') })).then(unprefix),
      ]);
      assert.deepEqual(normalize(b), normalize(d), uri);
      if (uri.includes('no/such')) {
        assert.ok('error' in (b as object), `${uri}: ${JSON.stringify(b)}`);
        continue;
      }
      assert.ok('result' in (b as object), `${uri}: ${JSON.stringify(b)}`);
    }
    // The gzip tool registered session resources: the upstream announced it, and the bridge relayed it.
    assert.ok(bridge.notifications('notifications/resources/list_changed').length >= 1, 'resources/list_changed was not relayed');
    // Every announcement is relayed: one fresh registration per side, counted from here. (Totals
    // since connecting are no measure: they include the tool test's parallel calls, whose
    // announcements may go out before a session's GET stream is open, and were seen to differ,
    // 2 vs 3, in CI.)
    const changed = (side: typeof bridge | typeof direct) => side.notifications('notifications/resources/list_changed').length;
    const before = { bridge: changed(bridge), direct: changed(direct) };
    const fresh = { name: `fresh-${process.pid}.txt.gz`, data: 'data:text/plain;base64,' + Buffer.from('fresh').toString('base64'), outputType: 'resourceLink' };
    await callBoth(direct, bridge, 'gzip-file-as-resource', fresh);
    await bridge.waitForNotification('notifications/resources/list_changed', 5000, () => true, before.bridge);
    await direct.waitForNotification('notifications/resources/list_changed', 5000, () => true, before.direct);
    await new Promise((r) => setTimeout(r, 300)); // anything more either side was going to get
    assert.equal(changed(bridge) - before.bridge, changed(direct) - before.direct, 'the bridge relays each resources/list_changed the upstream sends');

    const uri = 'demo://resource/static/document/features.md';
    const mark = bridge.notifications('notifications/resources/updated').length;
    assert.deepEqual(await bridge.client.subscribeResource({ uri }), {});
    await bridge.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} }); // sends an update at once
    const updated = await bridge.waitForNotification('notifications/resources/updated', 5000, (p) => p?.uri === uri, mark);
    assert.deepEqual(updated.params, { uri });
    await bridge.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    assert.deepEqual(await bridge.client.unsubscribeResource({ uri }), {});
  });

  it('prompts: list and get; completion/complete (completable-prompt department, resource template)', async () => {
    const [dl, bl] = await Promise.all([direct.client.listPrompts(), bridge.client.listPrompts()]);
    assert.deepEqual(bl, dl);
    assert.deepEqual(bl.prompts.map((p) => p.name).sort(), ['args-prompt', 'completable-prompt', 'resource-prompt', 'simple-prompt']);
    const gets: Array<{ name: string; arguments?: Record<string, string> }> = [
      { name: 'simple-prompt' },
      { name: 'args-prompt', arguments: { city: 'Lisbon', state: 'Estremadura' } },
      { name: 'completable-prompt', arguments: { department: 'Engineering', name: 'Alice' } },
      { name: 'resource-prompt', arguments: { resourceType: 'Text', resourceId: '2' } },
      { name: 'resource-prompt', arguments: { resourceType: 'Blob', resourceId: '5' } },
      { name: 'no-such-prompt' },
    ];
    for (const g of gets) {
      const [d, b] = await Promise.all([outcome(direct.client.getPrompt(g)), outcome(bridge.client.getPrompt(g))]);
      assert.deepEqual(normalize(b), normalize(d), g.name);
    }
    const completions = [
      { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'department', value: '' } },
      { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'department', value: 'S' } },
      { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'name', value: '' }, context: { arguments: { department: 'Engineering' } } },
      { ref: { type: 'ref/resource' as const, uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '12' } },
    ];
    const answers: string[][] = [];
    for (const c of completions) {
      const [d, b] = await Promise.all([direct.client.complete(c), bridge.client.complete(c)]);
      assert.deepEqual(b, d);
      answers.push(b.completion.values);
    }
    assert.deepEqual(answers, [['Engineering', 'Sales', 'Marketing', 'Support'], ['Sales', 'Support'], ['Alice', 'Bob', 'Charlie'], ['12']]);
  });

  it('logging: logging/setLevel reaches the upstream session, and logging notifications arrive (toggle-simulated-logging)', { timeout: 15_000 }, async () => {
    // The subscribe handler acknowledges with an info-level log message: it must be filtered at
    // level "error" and delivered at level "debug" — only true if setLevel reached the upstream.
    assert.deepEqual(await bridge.client.setLoggingLevel('error'), {});
    let mark = bridge.notifications('notifications/message').length;
    await bridge.client.subscribeResource({ uri: 'demo://resource/static/document/startup.md' });
    await sleep(400);
    const leaked = bridge.notifications('notifications/message').slice(mark).filter((n) => String(n.params?.data).includes('startup.md'));
    assert.deepEqual(leaked, [], 'an info message arrived although the level is "error"');
    assert.deepEqual(await bridge.client.setLoggingLevel('debug'), {});
    mark = bridge.notifications('notifications/message').length;
    await bridge.client.subscribeResource({ uri: 'demo://resource/static/document/structure.md' });
    const ack = await bridge.waitForNotification('notifications/message', 3000, (p) => String(p?.data).includes('structure.md'), mark);
    assert.equal(ack.params?.level, 'info');

    mark = bridge.notifications('notifications/message').length;
    const started = await bridge.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    assert.match(textOf(started), /Started simulated/);
    const log = await bridge.waitForNotification('notifications/message', 3000, (p) => /-level message|level-message/.test(String(p?.data)), mark);
    assert.ok(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'].includes(String(log.params?.level)));
    const stopped = await bridge.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    assert.match(textOf(stopped), /Stopped simulated/);
  });

  it('progress: every notifications/progress of trigger-long-running-operation arrives, before the result', { timeout: 15_000 }, async () => {
    const seen: number[] = [];
    const from = bridge.received.length;
    const res = await bridge.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 5 } }, undefined, { onprogress: (p) => seen.push(p.progress), timeout: 10_000 });
    assert.match(textOf(res), /Long running operation completed\. Duration: 1 seconds, Steps: 5\./);
    // On the wire (what the bridge wrote), independent of the SDK client's own bookkeeping:
    const wire = bridge.received.slice(from);
    const progress = wire.filter((m) => 'method' in m && m.method === 'notifications/progress') as unknown as Array<{ params: { progress: number; total: number } }>;
    assert.deepEqual(progress.map((p) => [p.params.progress, p.params.total]), [[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
    const resultAt = wire.findIndex((m) => 'result' in m && JSON.stringify(m).includes('Long running operation completed'));
    const lastProgressAt = wire.map((m) => 'method' in m && m.method === 'notifications/progress').lastIndexOf(true);
    assert.ok(lastProgressAt < resultAt, 'a progress notification arrived after the result');
    // The SDK client itself sometimes drops the last one (its progress handler races its response
    // handler; seen with the direct client too): the wire check above is the bridge's part.
    assert.deepEqual(seen, [1, 2, 3, 4, 5].slice(0, seen.length));
    assert.ok(seen.length >= 4, `onprogress saw ${JSON.stringify(seen)}`);
  });

  it('sampling and elicitation: the upstream\'s requests reach the client and the answers go back', { timeout: 15_000 }, async () => {
    const before = bridge.serverRequests.length;
    const s = await bridge.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'relay me', maxTokens: 10 } });
    assert.match(textOf(s), /sampled: Resource trigger-sampling-request context: relay me/);
    assert.match(textOf(s), /e2e-model/);
    const e = await bridge.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.match(textOf(e), /User provided the requested information/);
    assert.match(textOf(e), new RegExp(`Name: ${ELICIT_CONTENT.name}`));
    const r = await bridge.client.callTool({ name: 'get-roots-list', arguments: {} });
    assert.match(textOf(r), new RegExp(ROOTS[0].uri));
    assert.deepEqual(bridge.serverRequests.slice(before), ['sampling/createMessage', 'elicitation/create']);
  });

  it('cancellation: an aborted call sends notifications/cancelled; the bridge survives and later calls work', { timeout: 15_000 }, async () => {
    const ac = new AbortController();
    const call = bridge.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1.5, steps: 3 } }, undefined, { signal: ac.signal });
    await sleep(300);
    ac.abort('the user pressed Esc');
    await assert.rejects(call);
    // Many calls while the cancelled one would still be running upstream, then after it would end.
    const echoes = await Promise.all([1, 2, 3].map((i) => bridge.client.callTool({ name: 'echo', arguments: { message: `after cancel ${i}` } })));
    assert.deepEqual(echoes.map(textOf), ['Echo: after cancel 1', 'Echo: after cancel 2', 'Echo: after cancel 3']);
    await sleep(1600);
    assert.ok(pidAlive(bridge.pid), 'the bridge died after a cancellation');
    assert.equal(textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'still here' } })), 'Echo: still here');
  });
});

// =============================================================================================
// Raw stdio: ids, Claude Code's first lines
// =============================================================================================

describe('raw stdio: exact ids and Claude Code\'s first lines', () => {
  let up: Upstream;
  const rawOf = () => rawBridge({ gate: up.mcpUrl, apiKey: up.authKey });
  before(async () => {
    up = await startUpstream();
  });
  after(async () => up?.close());

  it('Claude Code\'s exact first lines get a proper initialize answer (id 0), then tools/list (id 1)', { timeout: 20_000 }, async () => {
    const raw = await rawOf();
    try {
      // Byte for byte what Claude Code 2.1.197 writes (ci-recipes.md); like every SDK client it
      // sends the rest once initialize is answered.
      raw.write('{"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{},"elicitation":{}},"clientInfo":{"name":"claude-code","title":"Claude Code","version":"2.1.197"}},"jsonrpc":"2.0","id":0}\n');
      const init = await raw.waitFor((m) => m.id === 0, 15_000, 'the initialize response');
      assert.equal(init.jsonrpc, '2.0');
      assert.ok(!('error' in init), JSON.stringify(init));
      const result = init.result as { protocolVersion: string; capabilities: Record<string, unknown>; serverInfo: { name: string } };
      assert.equal(result.protocolVersion, '2025-11-25');
      assert.equal(result.serverInfo.name, 'mcp-servers/everything', 'the upstream\'s own initialize answer');
      assert.ok(result.capabilities.tools, 'no tools capability');
      raw.write('{"method":"notifications/initialized","jsonrpc":"2.0"}\n');
      raw.write('{"method":"tools/list","jsonrpc":"2.0","id":1}\n');
      const list = await raw.waitFor((m) => m.id === 1, 10_000, 'the tools/list response');
      assert.ok(!('error' in list), JSON.stringify(list));
      const names = (list.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
      // Claude Code declares roots and elicitation but not sampling: the upstream saw exactly that.
      assert.ok(names.includes('get-roots-list') && names.includes('trigger-elicitation-request'), names.join(','));
      assert.ok(!names.includes('trigger-sampling-request'), 'sampling tools listed although the client has no sampling capability');
      // The upstream asks Claude Code for its roots: a server→client request through the bridge.
      const rootsReq = await raw.waitFor((m) => m.method === 'roots/list' && 'id' in m, 5000, 'roots/list from the upstream');
      raw.send({ jsonrpc: '2.0', id: rootsReq.id, result: { roots: ROOTS } });
      const r = await raw.request(2, 'tools/call', { name: 'get-roots-list', arguments: {} });
      assert.match(JSON.stringify(r.result), /e2e-project/);
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
    }
  });

  it('the same three lines written at once (pipelined): order is kept, notifications/initialized reaches the upstream after initialize', { timeout: 20_000 }, async () => {
    // stdio is an ordered stream: a stdio MCP server handles initialize, then initialized, then
    // tools/list. A relay must keep that order towards the gate, not send what follows initialize
    // before the gate's session exists.
    const raw = await rawOf();
    try {
      raw.write(
        '{"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{},"elicitation":{}},"clientInfo":{"name":"claude-code","title":"Claude Code","version":"2.1.197"}},"jsonrpc":"2.0","id":0}\n' +
          '{"method":"notifications/initialized","jsonrpc":"2.0"}\n' +
          '{"method":"tools/list","jsonrpc":"2.0","id":1}\n',
      );
      const init = await raw.waitFor((m) => m.id === 0, 15_000, 'the initialize response');
      assert.equal((init.result as { protocolVersion: string }).protocolVersion, '2025-11-25');
      const list = await raw.waitFor((m) => m.id === 1, 10_000, 'the tools/list response');
      assert.ok(!('error' in list), `tools/list pipelined after initialize failed: ${JSON.stringify(list)}`);
      // If notifications/initialized was lost, server-everything never registers the tools that
      // depend on the client's capabilities, and never asks for roots.
      const again = await raw.request(2, 'tools/list');
      const names = (again.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
      assert.ok(names.includes('get-roots-list'), `the upstream never got notifications/initialized: ${names.join(',')}`);
      await raw.waitFor((m) => m.method === 'roots/list', 3000, 'roots/list from the upstream');
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
    }
  });

  it('a server/discover probe before initialize is answered with an error, and initialize still works', { timeout: 20_000 }, async () => {
    const raw = await rawOf();
    try {
      const probe = await raw.request(0, 'server/discover', {});
      assert.ok('error' in probe, `expected an error answer to server/discover: ${JSON.stringify(probe)}`);
      const init = await rawInitialize(raw, { ...CLAUDE_CODE_INITIALIZE, id: 1 });
      assert.equal((init.result as { protocolVersion: string }).protocolVersion, '2025-11-25');
      const list = await raw.request(2, 'tools/list');
      assert.ok(Array.isArray((list.result as { tools: unknown[] }).tools));
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
    }
  });

  it('a request id already in flight is refused with -32600 (with that id); the first request still gets its own answer', { timeout: 15_000 }, async () => {
    const raw = await rawOf();
    try {
      await rawInitialize(raw);
      const from = raw.lines.length;
      raw.send({ jsonrpc: '2.0', id: 'dup', method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 0.5, steps: 1 } } });
      raw.send({ jsonrpc: '2.0', id: 'dup', method: 'tools/call', params: { name: 'echo', arguments: { message: 'second' } } });
      const refused = await raw.waitFor((m) => m.id === 'dup' && 'error' in m, 5000, 'the -32600 for the duplicate id', from);
      assert.equal((refused.error as { code: number }).code, -32600);
      const first = await raw.waitFor((m) => m.id === 'dup' && 'result' in m, 5000, 'the first request\'s answer', from);
      assert.match(JSON.stringify(first.result), /Long running operation completed/);
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
    }
  });

  it('ids are preserved exactly: 0, negative, large, string "0", "", unicode; each response reaches its own request', { timeout: 20_000 }, async () => {
    const raw = await rawOf();
    try {
      await rawInitialize(raw, { ...CLAUDE_CODE_INITIALIZE, id: 0 });
      const ids: Array<string | number> = [0, '0', 'abc', '', -7, Number.MAX_SAFE_INTEGER, 'ü-✓-\u2028', '1', 1, 'sentrail-initialize-1'];
      const from = raw.lines.length;
      // All in flight at once, on one write.
      raw.write(ids.map((id, i) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: `m${i}` } } })).join('\n') + '\n');
      for (const [i, id] of ids.entries()) {
        const res = await raw.waitFor((m) => 'id' in m && m.id === id && !('method' in m), 10_000, `the response for id ${JSON.stringify(id)}`, from);
        assert.deepEqual((res.result as CallToolResult)?.content, [{ type: 'text', text: `Echo: m${i}` }], `id ${JSON.stringify(id)} got ${JSON.stringify(res)}`);
      }
      await sleep(200);
      const got = raw.lines
        .slice(from)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((m) => !('method' in m))
        .map((m) => m.id);
      assert.equal(got.length, ids.length, `exactly one response per request: ${JSON.stringify(got)}`);
      // A raw line's id keeps its JSON type: 0 is not "0", 1 is not "1".
      const rawIds = raw.lines.slice(from).filter((l) => !l.includes('"method"')).map((l) => /"id":("(?:[^"\\]|\\.)*"|-?\d+)/.exec(l)?.[1]);
      assert.deepEqual(rawIds.sort(), ids.map((id) => JSON.stringify(id)).sort());
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
    }
  });
});

// =============================================================================================
// 2. Legacy HTTP+SSE
// =============================================================================================

describe('legacy SSE (--transport sse) against server-everything sse mode', () => {
  let up: Upstream;
  let direct: RecordingClient;
  let bridge: BridgeClient;
  before(async () => {
    up = await startEverything('sse');
    [direct, bridge] = await Promise.all([directClient(up, { transport: 'sse' }), bridgeClient({ gate: up.mcpUrl, transport: 'sse' })]);
  });
  after(async () => {
    await Promise.allSettled([direct?.close(), bridge?.close()]);
    await up?.close();
  });

  it('initialize, tools/list, resources, prompts, completion: identical to the direct SSE client', async () => {
    assert.deepEqual(bridge.client.getServerVersion(), direct.client.getServerVersion());
    assert.deepEqual(bridge.client.getServerCapabilities(), direct.client.getServerCapabilities());
    assert.deepEqual(await bridge.client.listTools(), await direct.client.listTools());
    assert.deepEqual(await bridge.client.listResources(), await direct.client.listResources());
    assert.deepEqual(await bridge.client.listResourceTemplates(), await direct.client.listResourceTemplates());
    const uri = 'demo://resource/static/document/how-it-works.md';
    assert.deepEqual(await bridge.client.readResource({ uri }), await direct.client.readResource({ uri }));
    assert.deepEqual(await bridge.client.listPrompts(), await direct.client.listPrompts());
    const g = { name: 'args-prompt', arguments: { city: 'Porto' } };
    assert.deepEqual(await bridge.client.getPrompt(g), await direct.client.getPrompt(g));
    const c = { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'department', value: 'M' } };
    assert.deepEqual((await bridge.client.complete(c)).completion.values, ['Marketing']);
  });

  it('tool calls: echo, sum, structured content, annotated image, resource reference, errors', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['echo', { message: 'legacy ✓' }],
      ['get-sum', { a: 2, b: 40 }],
      ['get-structured-content', { location: 'Chicago' }],
      ['get-annotated-message', { messageType: 'success', includeImage: true }],
      ['get-resource-reference', { resourceType: 'Blob', resourceId: 9 }],
      ['get-resource-reference', { resourceType: 'Bad', resourceId: 9 }],
      ['get-resource-links', { count: 4 }],
    ];
    for (const [name, args] of cases) {
      const [d, b] = await callBoth(direct, bridge, name, args);
      assert.deepEqual(normalize(b), normalize(d), `${name} ${JSON.stringify(args)}`);
    }
  });

  it('sampling, elicitation and roots relayed; progress complete; setLevel and logging notifications', { timeout: 20_000 }, async () => {
    const s = await bridge.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'over sse' } });
    assert.match(textOf(s), /sampled: Resource trigger-sampling-request context: over sse/);
    const e = await bridge.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.match(textOf(e), /Name: Ada Lovelace/);
    const r = await bridge.client.callTool({ name: 'get-roots-list', arguments: {} });
    assert.match(textOf(r), /e2e-project/);

    const from = bridge.received.length;
    await bridge.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.5, steps: 4 } }, undefined, { onprogress: () => {} });
    const progress = bridge.received.slice(from).filter((m) => 'method' in m && m.method === 'notifications/progress') as unknown as Array<{ params: { progress: number } }>;
    assert.deepEqual(progress.map((p) => p.params.progress), [1, 2, 3, 4]);

    assert.deepEqual(await bridge.client.setLoggingLevel('debug'), {});
    const mark = bridge.notifications('notifications/message').length;
    await bridge.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    await bridge.waitForNotification('notifications/message', 3000, () => true, mark);
    await bridge.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
  });

  it('--transport auto falls back to legacy SSE when POST initialize is refused', { timeout: 20_000 }, async () => {
    const auto = await bridgeClient({ gate: up.mcpUrl, transport: 'auto' });
    try {
      assert.deepEqual(auto.client.getServerVersion(), direct.client.getServerVersion());
      assert.equal(textOf(await auto.client.callTool({ name: 'echo', arguments: { message: 'fallback' } })), 'Echo: fallback');
    } finally {
      await auto.close();
    }
  });
});

// =============================================================================================
// 3. stdout purity and secrets
// =============================================================================================

function assertJsonRpcLines(lines: string[]): void {
  for (const [i, line] of lines.entries()) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      assert.fail(`stdout line ${i} is not JSON: ${line.slice(0, 200)}`);
    }
    const m = value as Record<string, unknown>;
    assert.equal(m.jsonrpc, '2.0', `stdout line ${i} is not JSON-RPC 2.0: ${line.slice(0, 200)}`);
    const isReq = typeof m.method === 'string';
    const isRes = 'result' in m || 'error' in m;
    assert.ok(isReq !== isRes, `stdout line ${i} is neither a request/notification nor a response: ${line.slice(0, 200)}`);
    if (isRes && 'error' in m) assert.ok(typeof (m.error as { code?: unknown }).code === 'number', `line ${i}: error without a numeric code`);
    // The MCP SDK's own schema (what Claude Code-like hosts validate with).
    const parsed = JSONRPCMessageSchema.safeParse(value);
    assert.ok(parsed.success, `stdout line ${i} fails the MCP JSON-RPC schema: ${line.slice(0, 200)}`);
  }
}

describe('stdout purity and secrets', () => {
  let fixture: FixtureUpstream;
  let policy: string;
  before(async () => {
    [fixture, policy] = await Promise.all([startFixtureServer(), blockingPolicy()]);
  });
  after(async () => fixture?.close());

  for (const via of ['SENTRAIL_API_KEY', '--api-key'] as const) {
    it(`a session with errors writes only JSON-RPC to stdout, and the key (${via}) appears nowhere`, { timeout: 25_000 }, async () => {
      const key = plantedKey(via);
      const raw = await rawBridge(
        via === 'SENTRAIL_API_KEY'
          ? { gate: fixture.mcpUrl, policy, apiKey: key, logLevel: 'debug' }
          : { gate: fixture.mcpUrl, policy, apiKey: null, apiKeyFlag: key, logLevel: 'debug' },
      );
      let exitedOk = false;
      try {
        await rawInitialize(raw);
        const list = await raw.request(1, 'tools/list');
        const names = (list.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
        assert.ok(!names.includes('big'), 'a tool the policy certainly blocks is still listed');
        assert.ok(names.includes('echo'));
        raw.write('{"jsonrpc":"2.0","id":2,"method":"tools/call",,,}\n'); // malformed
        await raw.waitFor((m) => (m.error as { code?: number } | undefined)?.code === -32700, 5000, 'the parse error');
        raw.write('\u0000\u0001 not json at all\n');
        raw.write('[1,2]\n');
        const unknown = await raw.request(3, 'no/such/method', {});
        assert.equal((unknown.error as { code: number }).code, -32601);
        const blocked = await raw.request(4, 'tools/call', { name: 'big', arguments: { bytes: 10 } });
        const br = blocked.result as { isError: boolean; _meta: { sentrail: { status: string; source: string } } };
        assert.equal(br.isError, true);
        assert.equal(br._meta.sentrail.status, 'blocked');
        assert.equal(br._meta.sentrail.source, 'local');
        await fixture.control({ fault: { status: 401, body: '{"ok":false,"error":"Invalid or expired API key"}', methods: ['tools/call'] } });
        const unauthorized = await raw.request(5, 'tools/call', { name: 'echo', arguments: { message: 'x' } });
        await fixture.control({ fault: null });
        assert.match(JSON.stringify(unauthorized), /sentrail login/);
        const ok = await raw.request(6, 'tools/call', { name: 'echo', arguments: { message: 'after 401' } });
        assert.equal((ok.result as CallToolResult).content[0].type, 'text');
        // The key really was used (so its absence below means something).
        const stats = await fixture.stats();
        assert.ok(stats.authorizations.includes(`Bearer ${key}`), 'the bridge never sent the planted key');
        raw.child.stdin!.end();
        await within(raw.exited, 3000, 'bridge exit after stdin EOF');
        exitedOk = true;
        assertJsonRpcLines(raw.lines);
        assert.ok(raw.lines.length >= 8, `too few stdout lines: ${raw.lines.length}`);
        const stdout = raw.lines.join('\n');
        for (const [where, text] of [['stdout', stdout], ['stderr', raw.stderr()], ['log file', raw.logText()]] as const) {
          assert.ok(!text.includes(key), `the API key appears in ${where}`);
          assert.ok(!text.includes(key.slice(4)), `the API key (without its prefix) appears in ${where}`);
        }
        assert.ok(raw.logText().length > 0, 'the log file is empty');
      } finally {
        if (!exitedOk) raw.kill('SIGKILL');
        await fixture.control({ fault: null });
      }
    });
  }
});

describe('secrets: what the gate sends back never carries the credential to the client', () => {
  it('a gate whose error bodies echo the Authorization header (401, 500): the key reaches neither stdout, stderr nor the log', { timeout: 20_000 }, async () => {
    const fixture = await startFixtureServer();
    const key = plantedKey('echoed');
    const raw = await rawBridge({ gate: fixture.mcpUrl, apiKey: key, logLevel: 'debug' });
    try {
      await rawInitialize(raw);
      await raw.request(1, 'tools/list');
      // Careless servers and proxies do echo request headers in their error pages.
      await fixture.control({ fault: { status: 401, body: '{"ok":false,"error":"Invalid or expired API key","received":"{authorization}"}', methods: ['tools/call'] } });
      const r401 = await raw.request(2, 'tools/call', { name: 'echo', arguments: { message: 'x' } });
      assert.match(JSON.stringify(r401), /sentrail login/);
      await fixture.control({ fault: { status: 500, body: 'proxy error for request with authorization={authorization}', methods: ['tools/call'] } });
      await raw.request(3, 'tools/call', { name: 'echo', arguments: { message: 'x' } });
      await fixture.control({ fault: null });
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
      assertJsonRpcLines(raw.lines);
      for (const [where, text] of [['stdout (what the model reads)', raw.lines.join('\n')], ['stderr', raw.stderr()], ['log file', raw.logText()]] as const) {
        assert.ok(!text.includes(key.slice(4)), `the API key appears in ${where}: ${text.split('\n').find((l) => l.includes(key.slice(4)))?.slice(0, 400)}`);
      }
    } finally {
      raw.kill('SIGKILL');
      await fixture.close();
    }
  });
});

// =============================================================================================
// 4. Faults
// =============================================================================================

describe('faults', () => {
  it('malformed stdin lines: -32700 parse errors (and -32600 with the id when readable); the bridge keeps working', { timeout: 20_000 }, async () => {
    const up = await startUpstream();
    const raw = await rawBridge({ gate: up.mcpUrl, apiKey: up.authKey });
    try {
      await rawInitialize(raw);
      const from = raw.lines.length;
      raw.write('{"jsonrpc":"2.0","id":1,"method":\n');
      raw.write('this is not json\n');
      raw.write('{"jsonrpc":"2.0","id":"x","method":"tools/list"\r\n');
      const errors = await waitFor(
        () => {
          const e = raw.lines.slice(from).map((l) => JSON.parse(l) as { error?: { code: number }; id?: unknown });
          return e.filter((m) => m.error?.code === -32700).length >= 3 ? e : undefined;
        },
        5000,
        'three -32700 answers',
      );
      for (const e of errors.filter((m) => m.error?.code === -32700)) assert.ok(!('id' in e) || e.id === null, 'a parse error answer carries an id it could not know');
      // Valid JSON, invalid JSON-RPC: -32600 with the id.
      raw.write('{"jsonrpc":"1.0","id":77,"method":"tools/list"}\n');
      const invalid = await raw.waitFor((m) => m.id === 77, 5000, 'the -32600 answer');
      assert.equal((invalid.error as { code: number }).code, -32600);
      // And the bridge goes on.
      const res = await raw.request('after', 'tools/call', { name: 'echo', arguments: { message: 'still fine' } });
      assert.deepEqual((res.result as CallToolResult).content, [{ type: 'text', text: 'Echo: still fine' }]);
      assertJsonRpcLines(raw.lines);
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
      await up.close();
    }
  });

  describe('upstream killed, restarted, session lost', { concurrency: true }, () => {
    it('upstream killed mid-call: the pending call is answered within 1 s of the kill; after a restart the next call succeeds', { timeout: 30_000 }, async () => {
      const up = await startUpstream();
      const bridge = await bridgeClient({ gate: up.mcpUrl, apiKey: up.authKey });
      try {
        const pending = bridge.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 5 } }, undefined, { timeout: 15_000 });
        const answeredAt = pending.then(
          (r) => ({ at: Date.now(), r: r as unknown }),
          (e) => ({ at: Date.now(), r: { thrown: (e as Error).message } as unknown }),
        );
        await sleep(1200);
        const killedAt = Date.now();
        await up.kill();
        const { at, r } = await within(answeredAt, 5000, 'the call in flight when the upstream died');
        const delay = at - killedAt;
        assert.ok(delay <= 1000, `the in-flight call was answered ${delay} ms after the kill (limit 1000 ms): ${JSON.stringify(r)}`);
        // An answer that says it failed (not a fake success).
        assert.ok((r as { isError?: boolean }).isError === true || 'thrown' in (r as object), `unexpected answer: ${JSON.stringify(r)}`);
        assert.ok(pidAlive(bridge.pid), 'the bridge died with its upstream');

        // While the upstream is down: calls fail closed and fast.
        const down = await within(outcome(bridge.client.callTool({ name: 'echo', arguments: { message: 'down' } })), 3000, 'a call while the upstream is down');
        assert.ok(JSON.stringify(down).match(/isError|error/), JSON.stringify(down));

        await up.restart();
        const restartedAt = Date.now();
        const ok = await waitFor(
          async () => {
            const r2 = await bridge.client.callTool({ name: 'echo', arguments: { message: 'back' } }, undefined, { timeout: 3000 }).catch(() => null);
            return r2 && textOf(r2) === 'Echo: back' ? r2 : null;
          },
          6000,
          'a successful call after the restart',
          250,
        );
        assert.ok(ok);
        assert.ok(Date.now() - restartedAt < 6000);
      } finally {
        await bridge.close();
        await up.close();
      }
    });

    it('a call cut off in flight is not reported as "not sent": it reached the upstream and may have run', { timeout: 20_000 }, async () => {
      // Two ways a forwarded call loses its answer: the gate dies, or the gate ends the stream.
      const up = await startFixtureServer();
      const bridge = await bridgeClient({ gate: up.mcpUrl });
      try {
        const answers: string[] = [];
        const p1 = bridge.client.callTool({ name: 'slow', arguments: { ms: 4000 } }, undefined, { timeout: 10_000 });
        await sleep(500);
        await up.control({ forgetSessions: true }); // the gate drops the session and its streams
        answers.push(JSON.stringify(await within(outcome(p1), 3000, 'the call cut off by the gate')));
        await waitFor(async () => textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'x' } }).catch(() => ({ content: [] }))) === 'Echo: x', 8000, 'a working session again', 200);
        const p2 = bridge.client.callTool({ name: 'slow', arguments: { ms: 4000 } }, undefined, { timeout: 10_000 });
        await sleep(500);
        await up.kill(); // the gate dies
        answers.push(JSON.stringify(await within(outcome(p2), 3000, 'the call cut off by the kill')));
        for (const a of answers) {
          assert.match(a, /isError|error|thrown/, a);
          // The upstream had the call: telling the model "nothing was sent" invites a blind retry of
          // something that may have happened (a payment, a deletion).
          assert.doesNotMatch(a, /Nothing was sent|call was not made|was not sent/i, `a call that reached the upstream is reported as not sent: ${a}`);
        }
      } finally {
        await bridge.close();
        await up.close();
      }
    });

    it('session lost (upstream restarted on the same port: its old session is unknown, HTTP 400 from server-everything): in-flight answered with an error, tools/list_changed sent, later calls work', { timeout: 30_000 }, async () => {
      const up = await startUpstream();
      const bridge = await bridgeClient({ gate: up.mcpUrl, apiKey: up.authKey });
      try {
        const pending = outcome(bridge.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 6, steps: 3 } }, undefined, { timeout: 20_000 }));
        await sleep(800);
        const mark = bridge.notifications('notifications/tools/list_changed').length;
        const t0 = Date.now();
        await up.restart(); // kill, then start on the same port: every old session is unknown
        const answer = await within(pending, 3000, 'the in-flight call');
        assert.ok(Date.now() - t0 < 3000);
        assert.ok(/isError|error|thrown/.test(JSON.stringify(answer)), `in-flight call should fail: ${JSON.stringify(answer)}`);
        // Later calls work (retrying a little, as a client would).
        const res = await waitFor(
          async () => {
            const r = await bridge.client.callTool({ name: 'echo', arguments: { message: 'new session' } }, undefined, { timeout: 3000 }).catch(() => null);
            return r && textOf(r) === 'Echo: new session' ? r : null;
          },
          6000,
          'a call on the new session',
          200,
        );
        assert.ok(res);
        // The client was told to list tools again (the new session may have other tools).
        await bridge.waitForNotification('notifications/tools/list_changed', 3000, () => true, mark);
        // The new session is a full one: server→client requests and the GET stream work on it too.
        const s = await bridge.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'after loss' } });
        assert.match(textOf(s), /sampled: .*after loss/);
        await bridge.client.setLoggingLevel('debug');
        const m2 = bridge.notifications('notifications/message').length;
        await bridge.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
        await bridge.waitForNotification('notifications/message', 3000, () => true, m2);
        await bridge.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      } finally {
        await bridge.close();
        await up.close();
      }
    });

    it('session lost while idle: the first call after it succeeds without a client-visible error (re-sent once on a new session, run once), list_changed follows, later calls work', { timeout: 30_000 }, async () => {
      const up = await startFixtureServer();
      const bridge = await bridgeClient({ gate: up.mcpUrl });
      try {
        assert.equal(textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'one' } })), 'Echo: one');
        const mark = bridge.notifications('notifications/tools/list_changed').length;
        await up.control({ forgetSessions: true }); // the fixture now answers the old session with 404
        const first = await within(bridge.client.callTool({ name: 'echo', arguments: { message: 'two' } }), 5000, 'the first call after the session was lost');
        assert.equal(textOf(first), 'Echo: two', JSON.stringify(first));
        assert.deepEqual((await up.stats()).echoed.filter((m) => m === 'two'), ['two'], 'the upstream ran the call once');
        await bridge.waitForNotification('notifications/tools/list_changed', 8000, () => true, mark);
        assert.equal(textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'three' } })), 'Echo: three');
        const stats = await up.stats();
        assert.equal(stats.initializes, 2, 'the bridge should have opened exactly one new session');
      } finally {
        await bridge.close();
        await up.close();
      }
    });
  });

  it('a 10 MB tool result (SSE and JSON responses) and a 10 MB argument pass through intact', { timeout: 40_000 }, async () => {
    const BYTES = 10 * 1024 * 1024;
    const expected = createHash('sha256').update(bigText(BYTES)).digest('hex');
    for (const json of [false, true]) {
      const up = await startFixtureServer({ json });
      const raw = await rawBridge({ gate: up.mcpUrl });
      try {
        await rawInitialize(raw);
        const t0 = Date.now();
        const res = await raw.request(1, 'tools/call', { name: 'big', arguments: { bytes: BYTES } }, 20_000);
        const text = (res.result as CallToolResult).content[0] as { text: string };
        assert.equal(text.text.length, BYTES, `${json ? 'JSON' : 'SSE'}: the result has ${text.text.length} bytes`);
        assert.equal(createHash('sha256').update(text.text).digest('hex'), expected);
        // Deep-equal to the direct call.
        const direct = await directClient(up, { capabilities: {} });
        const d = await direct.client.callTool({ name: 'big', arguments: { bytes: BYTES } });
        await direct.close();
        assert.deepEqual(res.result, d);
        const big = 'ü'.repeat(BYTES / 2); // 10 MB of UTF-8 the other way
        const echo = await raw.request(2, 'tools/call', { name: 'echo', arguments: { message: big } }, 20_000);
        assert.equal(((echo.result as CallToolResult).content[0] as { text: string }).text, `Echo: ${big}`);
        assert.ok(Date.now() - t0 < 20_000);
      } finally {
        raw.child.stdin!.end();
        await within(raw.exited, 3000, 'bridge exit');
        await up.close();
      }
    }
  });

  it('500 concurrent in-flight calls: each response reaches its own request', { timeout: 40_000 }, async () => {
    const up = await startUpstream();
    const raw = await rawBridge({ gate: up.mcpUrl, apiKey: up.authKey });
    try {
      await rawInitialize(raw);
      const ids = Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? i : `req-${i}`));
      const from = raw.lines.length;
      raw.write(ids.map((id, i) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: `message #${i} for ${JSON.stringify(id)}` } } })).join('\n') + '\n');
      const responses = await waitFor(
        () => {
          const rs = raw.lines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>).filter((m) => !('method' in m));
          return rs.length >= ids.length ? rs : undefined;
        },
        30_000,
        '500 responses',
        50,
      );
      assert.equal(responses.length, 500);
      const byId = new Map(responses.map((r) => [JSON.stringify(r.id), r]));
      assert.equal(byId.size, 500, 'duplicate or missing ids');
      for (const [i, id] of ids.entries()) {
        const r = byId.get(JSON.stringify(id));
        assert.ok(r, `no response for ${JSON.stringify(id)}`);
        assert.deepEqual((r!.result as CallToolResult).content, [{ type: 'text', text: `Echo: message #${i} for ${JSON.stringify(id)}` }], `id ${JSON.stringify(id)}`);
      }
    } finally {
      raw.child.stdin!.end();
      await within(raw.exited, 3000, 'bridge exit');
      await up.close();
    }
  });

  describe('gate answers and credentials', { concurrency: true }, () => {
    it('401 on tools/call: the result tells the user to run `sentrail login`; 424: no MCP server connected', { timeout: 20_000 }, async () => {
      const up = await startFixtureServer();
      const bridge = await bridgeClient({ gate: up.mcpUrl });
      try {
        await up.control({ fault: { status: 401, body: '{"ok":false,"error":"Invalid or expired API key"}', methods: ['tools/call'] } });
        const r401 = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'x' } })) as CallToolResult;
        assert.equal(r401.isError, true);
        assert.match(textOf(r401), /sentrail login/);
        await up.control({ fault: { status: 424, body: '{"ok":false,"error":"No MCP server connected"}', methods: ['tools/call'] } });
        const r424 = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'x' } })) as CallToolResult;
        assert.equal(r424.isError, true);
        assert.match(textOf(r424), /no MCP server connected/i);
        await up.control({ fault: null });
        assert.equal(textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'ok again' } })), 'Echo: ok again');
      } finally {
        await bridge.close();
        await up.close();
      }
    });

    it('no credentials against a gate that requires them: initialize answered, tools/list = [sentrail_status], calls fail closed', { timeout: 20_000 }, async () => {
      const up = await startFixtureServer({ requireKey: plantedKey('required') });
      const bridge = await bridgeClient({ gate: up.mcpUrl, apiKey: null });
      try {
        assert.equal(bridge.client.getServerVersion()?.name, 'sentrail-bridge');
        const { tools } = await bridge.client.listTools();
        assert.deepEqual(tools.map((t) => t.name), ['sentrail_status']);
        assert.match(tools[0].description ?? '', /sentrail login|SENTRAIL_API_KEY/);
        assert.match(tools[0].description ?? '', /refused|401|credential/i);
        const call = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'must not be sent' } })) as CallToolResult;
        assert.equal(call.isError, true);
        const status = (await bridge.client.callTool({ name: 'sentrail_status', arguments: {} })) as CallToolResult;
        assert.match(textOf(status), /not connected/);
        const stats = await up.stats();
        assert.equal(stats.toolCalls, 0, 'a tool call reached the gate although the bridge has no credential');
      } finally {
        await bridge.close();
        await up.close();
      }
    });

    it('a gate nobody listens on at start: status tool, fail closed; once it is up: tools/list_changed and the real tools, no restart', { timeout: 30_000 }, async () => {
      const port = await freePort();
      const gate = `http://127.0.0.1:${port}/mcp`;
      const bridge = await bridgeClient({ gate });
      let up: FixtureUpstream | null = null;
      try {
        assert.equal(bridge.client.getServerVersion()?.name, 'sentrail-bridge');
        const { tools } = await bridge.client.listTools();
        assert.deepEqual(tools.map((t) => t.name), ['sentrail_status']);
        assert.match(tools[0].description ?? '', /reach|unreachable|ECONNREFUSED/i);
        const call = (await bridge.client.callTool({ name: 'echo', arguments: { message: 'x' } })) as CallToolResult;
        assert.equal(call.isError, true);
        const mark = bridge.notifications('notifications/tools/list_changed').length;
        up = await startFixtureServer({ port });
        await bridge.waitForNotification('notifications/tools/list_changed', 12_000, () => true, mark);
        const after = await bridge.client.listTools();
        assert.ok(after.tools.some((t) => t.name === 'echo'), JSON.stringify(after.tools.map((t) => t.name)));
        assert.equal(textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'connected' } })), 'Echo: connected');
        assert.ok(pidAlive(bridge.pid));
      } finally {
        await bridge.close();
        await up?.close();
      }
    });

    it('cancellation reaches the upstream (notifications/cancelled relayed), and the agent id is the client\'s name', { timeout: 20_000 }, async () => {
      const up = await startFixtureServer();
      const bridge = await bridgeClient({ gate: up.mcpUrl, name: 'claude-code' });
      try {
        const ac = new AbortController();
        const call = bridge.client.callTool({ name: 'slow', arguments: { ms: 5000 } }, undefined, { signal: ac.signal });
        await sleep(300);
        ac.abort('stop');
        await assert.rejects(call);
        await waitFor(async () => (await up.stats()).cancelled === 1, 3000, 'the upstream to see the cancellation');
        assert.equal(textOf(await bridge.client.callTool({ name: 'echo', arguments: { message: 'after' } })), 'Echo: after');
        const stats = await up.stats();
        assert.ok(stats.agentIds.length > 0 && stats.agentIds.every((a) => a === 'claude-code'), `X-Agent-Id: ${JSON.stringify([...new Set(stats.agentIds)])}`);
      } finally {
        await bridge.close();
        await up.close();
      }
    });
  });
});

// =============================================================================================
// 5. Exit
// =============================================================================================

/** A bridge with an open gate session (initialize + tools/list answered) on the fixture. */
async function sessionOn(up: FixtureUpstream): Promise<RawBridge> {
  const raw = await rawBridge({ gate: up.mcpUrl });
  await rawInitialize(raw);
  await raw.request(1, 'tools/list');
  return raw;
}

describe('exit: within 2 s, and the gate session is ended with a DELETE', { concurrency: true }, () => {
  const cases: Array<[string, (raw: RawBridge) => void]> = [
    ['stdin EOF', (raw) => raw.child.stdin!.end()],
    ['SIGTERM', (raw) => raw.kill('SIGTERM')],
    ['SIGINT', (raw) => raw.kill('SIGINT')],
    ['SIGHUP', (raw) => raw.kill('SIGHUP')],
  ];
  for (const [what, trigger] of cases) {
    it(`${what}`, { timeout: 20_000 }, async () => {
      const up = await startFixtureServer();
      try {
        const raw = await sessionOn(up);
        const before = (await up.stats()).deletes;
        const t0 = Date.now();
        trigger(raw);
        const exit = await within(raw.exited, 5000, `exit after ${what}`);
        const took = exit.at - t0;
        assert.ok(took <= 2000, `the bridge took ${took} ms to exit after ${what}`);
        assert.equal(exit.signal, null, `the bridge was killed by ${exit.signal} instead of exiting`);
        const after = (await up.stats()).deletes;
        assert.equal(after - before, 1, `DELETEs that ended the session after ${what}: ${after - before}`);
      } finally {
        await up.close();
      }
    });
  }

  it('SIGTERM with a call in flight and a gate that never answers the DELETE: the call is answered, exit within 2 s', { timeout: 20_000 }, async () => {
    const up = await startFixtureServer();
    try {
      const raw = await sessionOn(up);
      raw.send({ jsonrpc: '2.0', id: 'inflight', method: 'tools/call', params: { name: 'slow', arguments: { ms: 10_000 } } });
      await sleep(300);
      await up.control({ fault: { status: 200, httpMethods: ['DELETE'], hang: true } });
      const t0 = Date.now();
      raw.kill('SIGTERM');
      const exit = await within(raw.exited, 5000, 'exit after SIGTERM');
      assert.ok(exit.at - t0 <= 2000, `the bridge took ${exit.at - t0} ms to exit with a hanging gate`);
      const answer = raw.messages().find((m) => m.id === 'inflight');
      assert.ok(answer, 'the call in flight got no answer before the bridge exited');
      assertJsonRpcLines(raw.lines);
    } finally {
      await up.close();
    }
  });

  it('stdin EOF while the gate is unreachable (status-tool mode): exit within 2 s', { timeout: 20_000 }, async () => {
    const raw = await rawBridge({ gate: `http://127.0.0.1:${await freePort()}/mcp` });
    await rawInitialize(raw);
    const list = await raw.request(1, 'tools/list');
    assert.deepEqual((list.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name), ['sentrail_status']);
    const t0 = Date.now();
    raw.child.stdin!.end();
    const exit = await within(raw.exited, 5000, 'exit after EOF');
    assert.ok(exit.at - t0 <= 2000, `took ${exit.at - t0} ms`);
  });

  it('its parent\'s death (SIGKILL), with stdin still open', { timeout: 20_000 }, async () => {
    const up = await startFixtureServer();
    try {
      const setup = await bridgeEnv({ gate: up.mcpUrl });
      // The intermediate parent gives the bridge ITS OWN stdio (inherited), so the bridge's stdin
      // stays open after the parent dies (the test holds the pipe): only the parent watch can notice.
      const script = `
        const { spawn } = require('node:child_process');
        const args = JSON.parse(process.env.E2E_BRIDGE_ARGS);
        const c = spawn(process.execPath, args, { stdio: 'inherit', env: JSON.parse(process.env.E2E_BRIDGE_ENV) });
        process.stderr.write('bridge-pid=' + c.pid + '\\n');
        setInterval(() => {}, 1000);
      `;
      const parent = track(
        spawn(process.execPath, ['-e', script], {
          cwd: ROOT,
          env: { ...process.env, E2E_BRIDGE_ARGS: JSON.stringify(setup.args), E2E_BRIDGE_ENV: JSON.stringify(setup.env) },
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      );
      let err = '';
      let out = '';
      parent.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const pid = Number((await waitFor(() => /bridge-pid=(\d+)/.exec(err), 10_000, 'the bridge pid'))[1]);
      parent.stdin!.write(JSON.stringify(CLAUDE_CODE_INITIALIZE) + '\n');
      await waitFor(() => out.includes('"id":0'), 15_000, 'the initialize answer');
      parent.stdin!.write('{"method":"notifications/initialized","jsonrpc":"2.0"}\n{"method":"tools/list","jsonrpc":"2.0","id":1}\n');
      await waitFor(() => out.includes('"id":1'), 10_000, 'the tools/list answer');
      const before = (await up.stats()).deletes;
      const t0 = Date.now();
      parent.kill('SIGKILL');
      await waitFor(() => !pidAlive(pid), 5000, 'the orphaned bridge to exit', 20);
      const took = Date.now() - t0;
      assert.ok(took <= 2000, `the bridge outlived its parent by ${took} ms`);
      await waitFor(async () => (await up.stats()).deletes > before, 2000, 'the DELETE that ends the session').catch(() => {});
      assert.equal((await up.stats()).deletes - before, 1, 'the session was not ended with a DELETE');
      parent.stdin!.destroy();
    } finally {
      await up.close();
    }
  });
});
