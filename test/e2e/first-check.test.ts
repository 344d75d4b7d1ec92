// The bridge's first check against the local gate, real processes end to end: the org policy is
// pulled and cached per gate; a certain block is answered locally and never reaches the gate; a
// bridge whose cached policy is older than the gate's lets a call through that the gate then
// blocks (source: gate); tools/list hides what every call of would be blocked.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN } from '../helpers/cli.ts';
import { EVERYTHING_STDIO, startGate, stopAllGates, type GateProcess } from '../helpers/gate.ts';

after(stopAllGates);

const V1 = `version: "v1"
policies:
  - { name: Allow echo, tool: mcp, actionPattern: "*", toolName: echo, mode: allow, priority: 10 }
  - { name: No reading the environment, tool: mcp, actionPattern: "*", toolName: get-env, mode: block, priority: 100 }
`;
const V2 = `version: "v2"
policies:
  - { name: Echo is off now, tool: mcp, actionPattern: "*", toolName: echo, mode: block, priority: 5 }
  - { name: No reading the environment, tool: mcp, actionPattern: "*", toolName: get-env, mode: block, priority: 100 }
`;

async function bridge(gate: GateProcess, cacheDir: string): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'bridge', '--gate', gate.url, '--log-level', 'debug'],
    env: { ...(process.env as Record<string, string>), SENTRAIL_API_KEY: gate.apiKey, SENTRAIL_CACHE_DIR: cacheDir, SENTRAIL_STATE_DIR: cacheDir },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d));
  const client = new Client({ name: 'claude-code', version: 'test' });
  try {
    await client.connect(transport);
  } catch (err) {
    await new Promise((r) => setTimeout(r, 300));
    throw new Error(`the bridge did not connect (${(err as Error).message}); its stderr:\n${stderr}`);
  }
  return { client, stderr: () => stderr };
}

const meta = (r: unknown) => (r as { _meta?: { sentrail?: Record<string, unknown> } })._meta?.sentrail;

describe('the first check against the local gate', () => {
  it('pulls and caches the org policy, blocks certain blocks locally, and the gate decides the rest', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-first-check-'));
    const policyFile = path.join(dir, 'org.yaml');
    await writeFile(policyFile, V1);
    // A long max-age: the bridge keeps its v1 copy while the gate moves to v2.
    const gate = await startGate(['--policy', policyFile, '--upstream', EVERYTHING_STDIO], { env: { SENTRAIL_GATE_POLICY_MAX_AGE: '3600' } });
    const cache = await mkdtemp(path.join(os.tmpdir(), 'sentrail-cache-'));
    const { client, stderr } = await bridge(gate, cache);
    try {
      // listing: get-env is hidden (every call of it is certainly blocked)
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('echo'));
      assert.ok(!names.includes('get-env'), 'get-env is hidden');

      // the pulled copy is on disk, where `sentrail policy …` finds it
      const files = await readdir(path.join(cache, 'policies'));
      const doc = files.find((f) => f.endsWith('.json') && !f.endsWith('.meta.json'))!;
      assert.equal(JSON.parse(await readFile(path.join(cache, 'policies', doc), 'utf8')).version, 'v1');

      // a certain block: answered by the bridge, never seen by the gate
      const gateLogBefore = gate.stderr();
      const local = await client.callTool({ name: 'get-env', arguments: {} });
      assert.equal(local.isError, true);
      assert.deepEqual(
        { status: meta(local)?.status, policy: meta(local)?.policy, source: meta(local)?.source, policyVersion: meta(local)?.policyVersion },
        { status: 'blocked', policy: 'No reading the environment', source: 'local', policyVersion: 'v1' },
      );
      assert.match((local.content as { text: string }[])[0]!.text, /^Blocked by Sentrail policy "No reading the environment": .*Do not retry this call\.$/);
      await new Promise((r) => setTimeout(r, 200));
      // The gate's own decision log names every tools/call it receives; a local block only reaches
      // it as an audit report afterwards ("audit reported by …", docs/gate.md).
      assert.doesNotMatch(gate.stderr().slice(gateLogBefore.length), /tools\/call get-env/, 'the gate never heard of the call');

      // allowed under v1
      const allowed = await client.callTool({ name: 'echo', arguments: { message: 'v1' } });
      assert.deepEqual(allowed.content, [{ type: 'text', text: 'Echo: v1' }]);

      // the gate moves to v2; the bridge still has v1 and lets echo through; the gate blocks it
      await writeFile(policyFile, V2);
      await new Promise((r) => setTimeout(r, 1100)); // the gate looks at the file at most once a second
      const byGate = await client.callTool({ name: 'echo', arguments: { message: 'v2' } });
      assert.equal(byGate.isError, true);
      assert.equal(meta(byGate)?.source, 'gate');
      assert.equal(meta(byGate)?.policy, 'Echo is off now');
      assert.match((byGate.content as { text: string }[])[0]!.text, /^Blocked by Sentrail policy "Echo is off now"/);
      assert.doesNotMatch(stderr(), /blocked locally \{"tool":"echo"/);
    } finally {
      await client.close();
    }
  });

  it('a block resting on a disputed reading is not decided locally: the call goes to the gate, which decides', async () => {
    // blockedAgents: "only these agents" (the contract, so the local gate blocks claude-code) or
    // "not these agents" (the Policy engine page); allowedResourceTypes: no stated meaning for MCP;
    // a `*` inside a pattern: any characters (the local gate's reading) or literal.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-first-check-'));
    const policyFile = path.join(dir, 'org.yaml');
    await writeFile(
      policyFile,
      `version: "disputed-1"
policies:
  - { name: No sums for Claude Code, tool: mcp, actionPattern: "*", toolName: get-sum, conditions: { blockedAgents: [claude-code] }, mode: block, priority: 10 }
  - { name: Echo only on repos, tool: mcp, actionPattern: "*", toolName: echo, conditions: { allowedResourceTypes: [repo] }, mode: block, priority: 20 }
  - { name: No images, tool: mcp, actionPattern: "get-*-image", mode: block, priority: 30 }
  - { name: No reading the environment, tool: mcp, actionPattern: "*", toolName: get-env, mode: block, priority: 100 }
`,
    );
    const gate = await startGate(['--policy', policyFile, '--upstream', EVERYTHING_STDIO]);
    const cache = await mkdtemp(path.join(os.tmpdir(), 'sentrail-cache-'));
    const { client } = await bridge(gate, cache);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('get-sum') && names.includes('echo') && names.includes('get-tiny-image'), 'disputed blocks hide nothing');
      assert.ok(!names.includes('get-env'), 'a certain block still hides its tool');
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
      assert.deepEqual({ isError: sum.isError, source: meta(sum)?.source, policy: meta(sum)?.policy }, { isError: true, source: 'gate', policy: 'No sums for Claude Code' });
      const echo = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: hi' }], 'the gate allowed it: a request without a resource type is in no list');
      const image = await client.callTool({ name: 'get-tiny-image', arguments: {} });
      assert.deepEqual({ isError: image.isError, source: meta(image)?.source, policy: meta(image)?.policy }, { isError: true, source: 'gate', policy: 'No images' });
      const env = await client.callTool({ name: 'get-env', arguments: {} });
      assert.equal(meta(env)?.source, 'local');
    } finally {
      await client.close();
    }
  });
});
